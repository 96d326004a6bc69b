/**
 * Graceful stop. Once app.close() begins, requests already running finish, but every
 * answer carries `Connection: close` so keep-alive sockets end with their request
 * instead of holding the stop up; a request that still arrives on such a socket gets a
 * coded 503 SHUTTING_DOWN and is not run.
 */
import type { FastifyInstance } from 'fastify'
import { ParkdError } from '../errors.js'

export function installShutdownHandling(app: FastifyInstance): void {
  let closing = false

  app.addHook('preClose', async () => {
    closing = true
    app.server.closeIdleConnections()
  })

  // Callback hooks rather than async ones: they run on every request, and an async
  // hook costs a promise and a microtask turn each time even when it does nothing.
  app.addHook('onRequest', (_request, _reply, done) => {
    done(closing ? new ParkdError('SHUTTING_DOWN') : undefined)
  })

  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close')
    done(null, payload)
  })
}
