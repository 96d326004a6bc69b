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
    for await (const chunk of request as AsyncIterable<Buffer>) {
      filled += chunk.copy(body, filled)
    }
    return body.subarray(0, filled)
  }

  const chunks: Buffer[] = []
  let total = 0
  for await (const chunk of request as AsyncIterable<Buffer>) {
    total += chunk.length
    if (total > limit.maxBytes) throw tooLarge(limit, 'larger than that')
    chunks.push(chunk)
  }
  return Buffer.concat(chunks, total)
}
