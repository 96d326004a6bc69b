/**
 * The error of a failed answer: the server's stable code, HTTP status and message, read
 * from its JSON error body. Network failures (refused connections, cut listings,
 * timeouts) are not turned into this: they reach the caller as undici's own errors.
 */
import type { Dispatcher } from 'undici'
import type { ErrorCode } from '../errors.js'

/**
 * The server's codes (see the error table of the API), plus `BAD_RESPONSE` for an
 * answer the client cannot read: a status it did not expect, an error body that is not
 * parkd's JSON (a proxy's page, say), or a listing that ends inside a record.
 *
 * @example
 * if (error instanceof ParkdClientError && error.code === 'UNAUTHORIZED') askForToken()
 */
export type ParkdErrorCode = ErrorCode | 'BAD_RESPONSE' | (string & {})

/** The fields of a parkd error body that the client reads. */
type ErrorBody = {
  code?: unknown
  message?: unknown
  index?: unknown
  committed?: unknown
}

/**
 * A request the server refused or failed. Branch on `code`, never on the message.
 *
 * @example
 * try {
 *   await client.put('pet/cat', 'Felis catus', { ifNoneMatch: '*' })
 * } catch (error) {
 *   if (error instanceof ParkdClientError && error.code === 'PRECONDITION_FAILED') {
 *     // the key exists already
 *   } else throw error
 * }
 */
export class ParkdClientError extends Error {
  /** The stable code, e.g. `KEY_NOT_FOUND`, `PRECONDITION_FAILED`, `UNAUTHORIZED`. */
  readonly code: ParkdErrorCode
  /** The HTTP status of the answer, e.g. 412. */
  readonly statusCode: number
  /** For a refused batch: the 0-based position of the bad record. */
  readonly index: number | undefined
  /** For a refused or broken batch: how many records were stored before it stopped. */
  readonly committed: number | undefined

  constructor(code: ParkdErrorCode, statusCode: number, message: string, body: ErrorBody = {}) {
    super(message)
    this.name = 'ParkdClientError'
    this.code = code
    this.statusCode = statusCode
    this.index = typeof body.index === 'number' ? body.index : undefined
    this.committed = typeof body.committed === 'number' ? body.committed : undefined
  }
}

function parseBody(text: string): ErrorBody | undefined {
  try {
    const body: unknown = JSON.parse(text)
    return typeof body === 'object' && body !== null ? (body as ErrorBody) : undefined
  } catch {
    return undefined
  }
}

/**
 * Reads an answer that is not the success the request expects, to its end, and makes
 * the error it stands for. A body that is not an error (a 2xx the request cannot have)
 * is thrown away unread, as it may be large.
 */
export async function errorFrom(response: Dispatcher.ResponseData): Promise<ParkdClientError> {
  const { statusCode } = response
  if (statusCode < 400) {
    await response.body.dump()
    return new ParkdClientError('BAD_RESPONSE', statusCode, `unexpected answer ${statusCode}`)
  }

  const text = await response.body.text()
  const body = parseBody(text)
  if (typeof body?.code !== 'string') {
    const message = `unexpected answer ${statusCode}${text ? `: ${text.slice(0, 200)}` : ''}`
    return new ParkdClientError('BAD_RESPONSE', statusCode, message)
  }
  const message = typeof body.message === 'string' ? body.message : body.code
  return new ParkdClientError(body.code, statusCode, message, body)
}
