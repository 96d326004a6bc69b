/**
 * Wires the metrics of one app: every answer is counted under its route pattern, and
 * `app.metrics` lets routes count the records and bytes they move.
 */
import type { FastifyInstance } from 'fastify'
import { createMetrics, type Metrics } from '../metrics.js'
import type { Store } from '../store/types.js'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
  }
}

/** The label of requests that matched no route (404, 405): one series, whatever the URL. */
export const UNMATCHED_ROUTE = 'unmatched'

export function installMetrics(app: FastifyInstance, store: Store): Metrics {
  const metrics = createMetrics({ stats: () => store.stats() })
  app.decorate('metrics', metrics)

  // A callback hook: it runs for every answer, where an async one would add a promise.
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.is404 ? UNMATCHED_ROUTE : (request.routeOptions.url ?? UNMATCHED_ROUTE)
    metrics.observeRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000)
    done()
  })
  return metrics
}
