/**
 * buildApp: the HTTP face of a store, as a Fastify instance that never listens by
 * itself (main.ts does that), so tests can serve it on any port.
 */
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
} from 'fastify'
import type { IncomingMessage } from 'node:http'
import { SERVER_LIMITS, type Config, type ServerLimits } from './config.js'
import { installTokenCheck } from './http/auth.js'
import { answerClientError } from './http/client-errors.js'
import { installRawBodies } from './http/body.js'
import { installShutdownHandling } from './http/shutdown.js'
import { installErrorHandling, sendError, toParkdError } from './http/error-handler.js'
import { installMetrics } from './http/metrics.js'
import { backupRoutes } from './routes/backup.js'
import { batchRoutes } from './routes/batch.js'
import { kvRoutes } from './routes/kv.js'
import { listingRoutes } from './routes/listing.js'
import { openapiRoutes } from './routes/openapi.js'
import { opsRoutes } from './routes/ops.js'
import type { Store } from './store/types.js'
import { parseRawQuery } from './wire/query.js'

export type AppConfig = Pick<Config, 'token' | 'maxKeyBytes' | 'maxValueBytes' | 'accessLog'>

export type BuildAppOptions = {
  store: Store
  config: AppConfig
  logger: FastifyBaseLogger
  /** Overrides of SERVER_LIMITS, for tests that cannot wait for the real ones. */
  limits?: Partial<ServerLimits>
}

/**
 * Keys in /kv/ paths are decoded byte-wise by the route itself (%FF is a valid key
 * byte). Fastify's router would refuse such a path before any route runs, so for the
 * routing decision every `%` is escaped; the route reads the original URL.
 */
function protectKeyPath(request: IncomingMessage): string {
  const url = request.url ?? '/'
  if (!url.startsWith('/kv/')) return url
  const end = url.indexOf('?')
  const path = end < 0 ? url : url.slice(0, end)
  return path.replaceAll('%', '%25') + (end < 0 ? '' : url.slice(end))
}

export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const { store, config, logger } = options
  const limits = { ...SERVER_LIMITS, ...options.limits }

  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: !config.accessLog }),
    requestIdHeader: 'x-request-id',
    connectionTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    requestTimeout: 0,
    // Stopping is handled by installShutdownHandling, with a coded answer.
    return503OnClosing: false,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      maxHeaderSize: limits.maxHeaderBytes,
      connectionsCheckingInterval: limits.checkIntervalMs,
    },
    rewriteUrl: protectKeyPath,
    routerOptions: {
      querystringParser: parseRawQuery,
      maxParamLength: 4 * config.maxKeyBytes + 64,
    },
    clientErrorHandler: answerClientError,
    frameworkErrors: (error, request, reply) => {
      const parkdError = toParkdError(error)
      request.log.info({ code: parkdError.code }, parkdError.message)
      void sendError(reply as unknown as FastifyReply, parkdError)
    },
  })

  app.server.maxConnections = limits.maxConnections
  installRawBodies(app)
  installErrorHandling(app)
  installShutdownHandling(app)
  installTokenCheck(app, config.token)
  installMetrics(app, store)

  await app.register(kvRoutes, {
    store,
    maxKeyBytes: config.maxKeyBytes,
    maxValueBytes: config.maxValueBytes,
  })
  await app.register(listingRoutes, { store, maxKeyBytes: config.maxKeyBytes })
  await app.register(batchRoutes, { store, limits: config })
  await app.register(opsRoutes, { store })
  await app.register(backupRoutes, { store })
  await app.register(openapiRoutes)

  return app
}
