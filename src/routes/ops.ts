/**
 * Liveness, readiness and metrics. /healthz answers while the process serves; /readyz
 * asks the store a trivial question, so a load balancer stops sending work when the
 * database cannot answer; /metrics is the Prometheus scrape of `app.metrics`.
 */
import type { FastifyInstance } from 'fastify'
import { ParkdError } from '../errors.js'
import type { Store } from '../store/types.js'

const statusSchema = {
  type: 'object',
  properties: { status: { type: 'string' } },
  required: ['status'],
} as const

export async function opsRoutes(app: FastifyInstance, options: { store: Store }): Promise<void> {
  app.get('/healthz', { schema: { response: { 200: statusSchema } } }, async () => ({
    status: 'ok',
  }))

  app.get('/readyz', { schema: { response: { 200: statusSchema } } }, async (request) => {
    try {
      await options.store.ping()
    } catch (error) {
      request.log.warn({ err: error }, 'database is not ready')
      throw new ParkdError('NOT_READY')
    }
    return { status: 'ready' }
  })

  app.get('/metrics', async (_request, reply) => {
    const text = await app.metrics.scrape()
    return reply.type(app.metrics.contentType).send(text)
  })
}
