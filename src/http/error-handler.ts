/**
 * The one place where errors become HTTP answers. Every answer has Fastify's JSON shape
 * with a stable code from the registry; no stack trace or file path ever leaves.
 * Severity is decided here too: a 5xx is logged as an error, a 4xx at info.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { STATUS_CODES } from 'node:http'
import { ERRORS, isParkdError, ParkdError, type ErrorCode } from '../errors.js'

export type ErrorBody = {
  statusCode: number
  code: ErrorCode
  error: string
  message: string
  [detail: string]: unknown
}

/** Fastify's own error codes that have a parkd meaning of their own. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_BAD_URL: 'BAD_REQUEST',
}

/** Turns anything thrown into a registry error; unknown errors become INTERNAL_ERROR. */
export function toParkdError(error: unknown): ParkdError {
  if (isParkdError(error)) return error

  const fastifyError = error as Partial<FastifyError>
  if (fastifyError.validation) {
    const code: ErrorCode =
      fastifyError.validationContext === 'querystring' ? 'INVALID_QUERY' : 'BAD_REQUEST'
    return new ParkdError(code, fastifyError.message, { cause: error })
  }

  const status = fastifyError.statusCode
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = FASTIFY_CODES[fastifyError.code ?? ''] ?? codeForStatus(status)
    return new ParkdError(code, fastifyError.message, { statusCode: status, cause: error })
  }

  return new ParkdError('INTERNAL_ERROR', undefined, { cause: error })
}

function codeForStatus(status: number): ErrorCode {
  const match = (Object.keys(ERRORS) as ErrorCode[]).find((c) => ERRORS[c].statusCode === status)
  return match ?? 'BAD_REQUEST'
}

export function errorBody(error: ParkdError): ErrorBody {
  return {
    ...error.details,
    statusCode: error.statusCode,
    code: error.code,
    error: STATUS_CODES[error.statusCode] ?? 'Error',
    message: error.message,
  }
}

export function sendError(reply: FastifyReply, error: ParkdError): FastifyReply {
  return reply
    .code(error.statusCode)
    .type('application/json; charset=utf-8')
    .send(JSON.stringify(errorBody(error)))
}

/** The log entry for an error answer: errors of the server loud, mistakes of clients quiet. */
function logError(request: FastifyRequest, error: ParkdError, original: unknown): void {
  if (error.statusCode >= 500)
    request.log.error({ err: original, code: error.code }, 'request failed')
  else request.log.info({ code: error.code, status: error.statusCode }, error.message)
}

/** Installs the error handler, the not-found handler (404 or 405) and framework errors. */
export function installErrorHandling(app: FastifyInstance): void {
  const methodsByPath = new Map<string, Set<string>>()
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    const known = methodsByPath.get(route.url) ?? new Set<string>()
    for (const method of methods) known.add(method)
    methodsByPath.set(route.url, known)
  })

  app.setErrorHandler((error, request, reply) => {
    const parkdError = toParkdError(error)
    logError(request, parkdError, error)

    // Once the body has started, a status can no longer be sent: cut the connection
    // so that the client cannot take a partial answer for a whole one.
    if (reply.raw.headersSent) {
      reply.raw.destroy()
      return
    }
    // Answered before the body was read to its end (a 413, say): close the connection
    // rather than read and discard the rest of an upload nobody wants.
    if (!request.raw.complete) reply.header('connection', 'close')
    return sendError(reply, parkdError)
  })

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? ''
    const allowed =
      methodsByPath.get(path) ?? (path.startsWith('/kv/') ? methodsByPath.get('/kv/*') : undefined)
    if (allowed) {
      reply.header('allow', [...allowed].join(', '))
      return sendError(
        reply,
        new ParkdError('METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${path}`),
      )
    }
    return sendError(reply, new ParkdError('NOT_FOUND', `no route ${request.method} ${path}`))
  })
}
