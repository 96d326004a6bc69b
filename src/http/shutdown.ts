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

  app.addHook('onRequest', async () => {
    if (closing) throw new ParkdError('SHUTTING_DOWN')
  })

  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close')
  })
}
