/**
 * Bearer-token access. When a token is configured every route but /healthz needs
 * `Authorization: Bearer <token>`; the comparison is of SHA-256 digests in constant
 * time, so neither the token's content nor its length leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { ParkdError } from '../errors.js'

const OPEN_PATHS = new Set(['/healthz'])

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

export function installTokenCheck(app: FastifyInstance, token: string | undefined): void {
  if (token === undefined) return
  const expected = digest(token)

  app.addHook('onRequest', async (request, reply) => {
    if (OPEN_PATHS.has(request.url.split('?')[0] ?? '')) return

    const header = request.headers.authorization ?? ''
    const presented = header.startsWith('Bearer ') ? header.slice(7).trim() : ''
    if (presented !== '' && timingSafeEqual(digest(presented), expected)) return

    reply.header('www-authenticate', 'Bearer realm="parkd"')
    throw new ParkdError('UNAUTHORIZED')
  })
}
