/**
 * The HTTP ceiling: a bare Fastify route answering a fixed 100-byte buffer on the same
 * path shape as parkd's GET, with nothing behind it. Prints `listening <url>`.
 */
import Fastify from 'fastify'
import type { AddressInfo } from 'node:net'
import { VALUE } from './dataset.js'

const app = Fastify({ logger: false })
app.get('/kv/*', async (_request, reply) => reply.type('application/octet-stream').send(VALUE))

await app.listen({ host: '127.0.0.1', port: 0 })
const { port } = app.server.address() as AddressInfo
process.stdout.write(`listening http://127.0.0.1:${port}\n`)
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)))
