/**
 * The error registry: every error parkd can answer with, declared once with its stable
 * code, HTTP status and default message. Code anywhere (store, codecs, routes) throws a
 * ParkdError by code; the one error handler in app.ts renders it.
 */

type ErrorSpec = { statusCode: number; message: string }

export const ERRORS = {
  INVALID_KEY: { statusCode: 400, message: 'the key is empty or badly escaped' },
  KEY_TOO_LARGE: { statusCode: 400, message: 'the key is longer than the limit' },
  VALUE_TOO_LARGE: { statusCode: 413, message: 'the value is larger than the limit' },
  KEY_NOT_FOUND: { statusCode: 404, message: 'no such key' },
  PRECONDITION_FAILED: { statusCode: 412, message: 'the precondition does not hold' },
  INVALID_QUERY: { statusCode: 400, message: 'a query parameter is invalid' },
  NOT_ACCEPTABLE: { statusCode: 406, message: 'none of the accepted media types is offered' },
  UNSUPPORTED_MEDIA_TYPE: { statusCode: 415, message: 'the body has an unsupported media type' },
  BAD_RECORD: { statusCode: 400, message: 'a batch record is malformed' },
  BAD_REQUEST: { statusCode: 400, message: 'the request is malformed' },
  UNAUTHORIZED: { statusCode: 401, message: 'a valid bearer token is required' },
  NOT_FOUND: { statusCode: 404, message: 'no such route' },
  METHOD_NOT_ALLOWED: { statusCode: 405, message: 'the method is not allowed on this route' },
  REQUEST_TIMEOUT: { statusCode: 408, message: 'the request took too long to arrive' },
  PAYLOAD_TOO_LARGE: { statusCode: 413, message: 'the request body is too large' },
  HEADERS_TOO_LARGE: { statusCode: 431, message: 'the request headers are too large' },
  NOT_READY: { statusCode: 503, message: 'the database does not answer' },
  STORAGE_READ_ONLY: { statusCode: 503, message: 'the database file cannot be written' },
  STORAGE_IO_ERROR: { statusCode: 503, message: 'the database file could not be read or written' },
  STORAGE_FULL: { statusCode: 507, message: 'the disk or the database is full' },
  SHUTTING_DOWN: { statusCode: 503, message: 'the server is shutting down' },
  INTERNAL_ERROR: { statusCode: 500, message: 'internal error' },
} as const satisfies Record<string, ErrorSpec>

export type ErrorCode = keyof typeof ERRORS

export type ParkdErrorOptions = {
  /** Overrides the registry's status where one code means two things (see KEY_TOO_LARGE). */
  statusCode?: number
  /** Extra fields rendered into the JSON body next to code and message. */
  details?: Record<string, unknown>
  cause?: unknown
}

/** The one error class of parkd; callers branch on `code`, never on the message. */
export class ParkdError extends Error {
  readonly code: ErrorCode
  readonly statusCode: number
  readonly details: Record<string, unknown> | undefined

  constructor(code: ErrorCode, message?: string, options: ParkdErrorOptions = {}) {
    super(message ?? ERRORS[code].message, { cause: options.cause })
    this.name = 'ParkdError'
    this.code = code
    this.statusCode = options.statusCode ?? ERRORS[code].statusCode
    this.details = options.details
  }
}

export function isParkdError(error: unknown): error is ParkdError {
  return error instanceof ParkdError
}

/**
 * A reason the server cannot start (the database is owned by another process, foreign,
 * corrupt, ...). It reaches the operator's terminal as one line, never an HTTP client.
 */
export class StartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'StartupError'
  }
}
