/**
 * Reads a request body into one Buffer with a hard cap. The cap is checked against
 * Content-Length before a byte is read, and again while chunked data arrives, so an
 * oversized body is refused without being buffered. The caller answers 413; the
 * connection is then closed rather than drained.
 */
import type { FastifyInstance } from 'fastify'
import type { IncomingMessage } from 'node:http'
import { ParkdError, type ErrorCode } from '../errors.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The Content-Type header as the client sent it, or undefined. */
    bodyType: string | undefined
  }
}

/**
 * Bodies are never parsed by Fastify: values are raw bytes of any Content-Type, even a
 * malformed one, and the batch route reads its own stream. The header is taken out of
 * Fastify's sight (kept as `request.bodyType`) and every route reads request.raw.
 */
export function installRawBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', (_request, _payload, done) => done(null))
  app.decorateRequest('bodyType', undefined)
  app.addHook('onRequest', (request, _reply, done) => {
    request.bodyType = request.headers['content-type']
    delete request.headers['content-type']
    done()
  })
}

export type BodyLimit = { maxBytes: number; code: ErrorCode }

function tooLarge(limit: BodyLimit, size: string): ParkdError {
  return new ParkdError(limit.code, `the body is ${size}; the limit is ${limit.maxBytes} bytes`)
}

export function declaredLength(request: IncomingMessage): number | undefined {
  const header = request.headers['content-length']
  if (header === undefined || request.headers['transfer-encoding'] !== undefined) return undefined
  return Number(header)
}

export async function readBody(request: IncomingMessage, limit: BodyLimit): Promise<Buffer> {
  const declared = declaredLength(request)
  if (declared !== undefined && declared > limit.maxBytes) {
    throw tooLarge(limit, `${declared} bytes`)
  }

  // With a declared length the body is copied into one buffer of that size, so a large
  // value is held once, not once in chunks and again when they are joined.
  if (declared !== undefined) {
    const body = Buffer.allocUnsafe(declared)
    let filled = 0
    await eachChunk(request, (chunk) => (filled += chunk.copy(body, filled)))
    return body.subarray(0, filled)
  }

  const chunks: Buffer[] = []
  let total = 0
  await eachChunk(request, (chunk) => {
    total += chunk.length
    if (total > limit.maxBytes) throw tooLarge(limit, 'larger than that')
    chunks.push(chunk)
  })
  return Buffer.concat(chunks, total)
}

/**
 * The body as it arrives, for a consumer that stores it piece by piece. The cap is
 * checked against Content-Length first and then as the pieces come; a client that goes
 * away mid-body ends the iteration with the same 400 as `readBody` gives.
 */
export async function* bodyPieces(request: IncomingMessage, limit: BodyLimit) {
  const declared = declaredLength(request)
  if (declared !== undefined && declared > limit.maxBytes) {
    throw tooLarge(limit, `${declared} bytes`)
  }

  let total = 0
  try {
    for await (const piece of request as AsyncIterable<Buffer>) {
      total += piece.length
      if (total > limit.maxBytes) throw tooLarge(limit, 'larger than that')
      yield piece
    }
  } catch (error) {
    if (error instanceof ParkdError) throw error
    throw bodyBrokeOff()
  }
  if (!request.complete) throw bodyBrokeOff()
}

function bodyBrokeOff(): ParkdError {
  return new ParkdError('BAD_REQUEST', 'the request body broke off')
}

/**
 * Hands every chunk of `stream` to `take` and resolves at its end. Events rather than
 * `for await`: a stream's async iterator costs several promises per request, which
 * shows on a small PUT. An error thrown by `take` stops the reading and rejects.
 */
function eachChunk(stream: IncomingMessage, take: (chunk: Buffer) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (error: unknown) => {
      stream.off('data', onData)
      stream.pause()
      reject(error)
    }
    const onData = (chunk: Buffer) => {
      try {
        take(chunk)
      } catch (error) {
        fail(error)
      }
    }
    // A client that goes away mid-body is a client's mistake, not the server's: a 4xx
    // (which nobody will read) and an info line, never a 500 and an error line.
    const brokeOff = () => fail(bodyBrokeOff())
    stream.on('data', onData)
    stream.once('end', resolve)
    stream.once('error', brokeOff)
    stream.once('close', () => {
      if (!stream.readableEnded) brokeOff()
    })
  })
}
