/**
 * Clients that try to pin sockets or memory: slow headers, idle connections, huge
 * headers, too many connections. Limits are shrunk so the tests run in seconds.
 */
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'

let server: TestServer
let port: number

beforeAll(async () => {
  server = await startServer(
    {},
    {
      limits: {
        headersTimeoutMs: 800,
        idleTimeoutMs: 1_000,
        maxHeaderBytes: 4096,
        maxConnections: 8,
        checkIntervalMs: 200,
      },
    },
  )
  port = Number(new URL(server.url).port)
})
afterAll(async () => {
  await server.close()
})

type Outcome = { text: string; closedAfterMs: number }

/** The JSON body of a raw HTTP answer. */
function errorOf(outcome: Outcome): unknown {
  return JSON.parse(outcome.text.slice(outcome.text.indexOf('\r\n\r\n') + 4))
}

/**
 * Opens a raw socket, lets `drive` write to it, and reports what came back and when.
 * With `halfOpen`, the socket can still read after it ends its side.
 */
function rawSocket(drive: (socket: net.Socket) => void, halfOpen = false): Promise<Outcome> {
  const started = Date.now()
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: halfOpen }, () =>
      drive(socket),
    )
    let text = ''
    socket.on('data', (data) => (text += data.toString()))
    socket.on('error', () => {})
    socket.on('close', () => resolve({ text, closedAfterMs: Date.now() - started }))
  })
}

describe('hostile clients', () => {
  it('cuts off a client that drips its headers slowly (slowloris)', async () => {
    let timer: NodeJS.Timeout | undefined
    const outcome = await rawSocket((socket) => {
      socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n')
      timer = setInterval(() => socket.write('X-Drip: 1\r\n'), 100)
    })
    clearInterval(timer)
    expect(outcome.closedAfterMs).toBeLessThan(5_000)
    expect(outcome.text).not.toMatch(/"status":"ok"/)
  })

  it('closes a connection that sends nothing', async () => {
    const outcome = await rawSocket(() => {})
    expect(outcome.closedAfterMs).toBeLessThan(5_000)
  })

  it('answers 431 to headers over the size limit', async () => {
    const outcome = await rawSocket((socket) => {
      socket.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(8000)}\r\n\r\n`)
    })
    expect(outcome.text).toMatch(/^HTTP\/1\.1 431/)
    expect(errorOf(outcome)).toMatchObject({ statusCode: 431, code: 'HEADERS_TOO_LARGE' })
  })

  it('answers a request line the parser refuses with a coded 400, and closes', async () => {
    const outcome = await rawSocket((socket) => socket.write('NOT HTTP AT ALL\r\n\r\n'))
    expect(outcome.text).toMatch(/^HTTP\/1\.1 400/)
    expect(errorOf(outcome)).toMatchObject({ statusCode: 400, code: 'BAD_REQUEST' })
  })

  it('answers headers that come too slowly with a coded 408', async () => {
    const outcome = await rawSocket((socket) => socket.write('GET /healthz HTTP/1.1\r\n'))
    expect(outcome.text).toMatch(/^HTTP\/1\.1 408/)
    expect(errorOf(outcome)).toMatchObject({ statusCode: 408, code: 'REQUEST_TIMEOUT' })
  })

  it('answers a batch half-closed mid-body with a coded 400, storing what came whole', async () => {
    const outcome = await rawSocket((socket) => {
      socket.write(
        'POST /batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n' +
          'Content-Length: 100\r\n\r\n{"key":"half","value":"1"}\n{"key":"cut',
      )
      setTimeout(() => socket.end(), 100)
    }, true)
    expect(errorOf(outcome)).toMatchObject({ statusCode: 400, code: 'BAD_REQUEST' })
    expect((await call(server.url, 'GET', '/kv/half')).body.toString()).toBe('1')
  })

  it('refuses connections past the cap and serves again once they close', async () => {
    const sockets = await Promise.all(
      Array.from(
        { length: 8 },
        () =>
          new Promise<net.Socket>((resolve) => {
            const socket = net.connect(port, '127.0.0.1', () => resolve(socket))
            socket.on('error', () => {})
          }),
      ),
    )
    const extra = await rawSocket((socket) =>
      socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'),
    )
    expect(extra.text).toBe('')

    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect((await call(server.url, 'GET', '/healthz')).status).toBe(200)
  })
})
