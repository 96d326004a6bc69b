import { Readable } from 'node:stream'
import crypto from 'node:crypto'
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { percentEncodeBytes } from '../src/wire/percent.js'
import { call } from './helpers/http.js'
import { logCollector } from './helpers/logs.js'
import { startServer, type TestServer } from './helpers/server.js'

let server: TestServer
const kv = (method: string, path: string, options?: Parameters<typeof call>[3]) =>
  call(server.url, method, path, options)

beforeAll(async () => {
  server = await startServer({ maxKeyBytes: 64, maxValueBytes: 8 * 1024 * 1024 })
})
afterAll(async () => {
  await server.close()
})

describe('GET, PUT, DELETE and HEAD on one key', () => {
  it('creates with 201, replaces with 204, and reads back the exact bytes', async () => {
    const created = await kv('PUT', '/kv/pet/dog', { body: 'woof' })
    expect(created.status).toBe(201)
    const replaced = await kv('PUT', '/kv/pet/dog', { body: 'bark' })
    expect(replaced.status).toBe(204)
    expect(replaced.headers.etag).not.toBe(created.headers.etag)

    const read = await kv('GET', '/kv/pet%2Fdog')
    expect(read.status).toBe(200)
    expect(read.body.toString()).toBe('bark')
    expect(read.headers['content-type']).toBe('application/octet-stream')
    expect(read.headers['content-length']).toBe('4')
    expect(read.headers.etag).toBe(replaced.headers.etag)
  })

  it('answers HEAD with the headers of GET and no body', async () => {
    await kv('PUT', '/kv/head-me', { body: 'twelve bytes' })
    const head = await kv('HEAD', '/kv/head-me')
    const get = await kv('GET', '/kv/head-me')

    expect(head.status).toBe(200)
    expect(head.body.length).toBe(0)
    expect(head.headers['content-length']).toBe('12')
    expect(head.headers.etag).toBe(get.headers.etag)
    expect(head.headers['content-type']).toBe('application/octet-stream')
  })

  it('answers 404 KEY_NOT_FOUND for a missing key on GET, HEAD and DELETE', async () => {
    const get = await kv('GET', '/kv/never')
    expect(get.status).toBe(404)
    expect(get.json()).toMatchObject({ statusCode: 404, code: 'KEY_NOT_FOUND', error: 'Not Found' })
    expect((await kv('HEAD', '/kv/never')).status).toBe(404)
    expect((await kv('DELETE', '/kv/never')).json()).toMatchObject({ code: 'KEY_NOT_FOUND' })
  })

  it('deletes with 204, after which the key is gone', async () => {
    await kv('PUT', '/kv/doomed', { body: 'x' })
    expect((await kv('DELETE', '/kv/doomed')).status).toBe(204)
    expect((await kv('GET', '/kv/doomed')).status).toBe(404)
  })

  it('stores an empty body as an empty value', async () => {
    expect((await kv('PUT', '/kv/empty', { body: '' })).status).toBe(201)
    const read = await kv('GET', '/kv/empty')
    expect(read.status).toBe(200)
    expect(read.body.length).toBe(0)
  })

  it('takes the body as raw bytes whatever its Content-Type, even a malformed one', async () => {
    for (const type of ['application/json', 'application/x-www-form-urlencoded', ';;;', 'text/x']) {
      const body = '{"not": json'
      const put = await kv('PUT', '/kv/typed', { body, headers: { 'content-type': type } })
      expect(put.status).toBeLessThan(300)
      expect((await kv('GET', '/kv/typed')).body.toString()).toBe(body)
    }
  })

  it('stores random binary values of several MiB exactly', async () => {
    for (const size of [1, 1000, 3 * 1024 * 1024 + 7]) {
      const value = crypto.randomBytes(size)
      await kv('PUT', `/kv/random-${size}`, { body: value })
      const read = await kv('GET', `/kv/random-${size}`)
      expect(read.body.equals(value)).toBe(true)
    }
  })
})

describe('values of several MiB', () => {
  const big = crypto.randomBytes(5 * 1024 * 1024 + 3)

  async function putChunked(path: string, value: Buffer) {
    const { request } = await import('undici')
    async function* pieces() {
      for (let at = 0; at < value.length; at += 100_000) yield value.subarray(at, at + 100_000)
    }
    const response = await request(`${server.url}${path}`, {
      method: 'PUT',
      body: Readable.from(pieces()),
    })
    await response.body.dump()
    return response
  }

  it('stores a chunked upload of unknown length and sends it back with its length', async () => {
    const response = await putChunked('/kv/big-chunked', big)
    expect(response.statusCode).toBe(201)

    const read = await kv('GET', '/kv/big-chunked')
    expect(read.headers['content-length']).toBe(String(big.length))
    expect(read.body.equals(big)).toBe(true)
    const head = await kv('HEAD', '/kv/big-chunked')
    expect(head.headers['content-length']).toBe(String(big.length))
    expect(head.headers.etag).toBe(read.headers.etag)
  })

  it('answers 304 for a large value whose ETag matches, and serves it again after', async () => {
    const put = await kv('PUT', '/kv/big-etag', { body: big })
    const etag = put.headers.etag as string
    const cached = await kv('GET', '/kv/big-etag', { headers: { 'if-none-match': etag } })
    expect(cached.status).toBe(304)
    expect(cached.body.length).toBe(0)
    expect((await kv('GET', '/kv/big-etag')).body.equals(big)).toBe(true)
  })

  it('keeps a large old value when a chunked replacement passes the limit', async () => {
    const limited = await startServer({ maxValueBytes: 3 * 1024 * 1024 })
    try {
      const old = big.subarray(0, 2 * 1024 * 1024)
      await call(limited.url, 'PUT', '/kv/k', { body: old })
      const { request } = await import('undici')
      async function* tooMuch() {
        for (let i = 0; i < 40; i++) yield Buffer.alloc(100_000, i)
      }
      const answer = await request(`${limited.url}/kv/k`, {
        method: 'PUT',
        body: Readable.from(tooMuch()),
      }).catch((error: Error) => error)
      if (!(answer instanceof Error)) {
        expect(answer.statusCode).toBe(413)
        await answer.body.dump()
      }
      expect((await call(limited.url, 'GET', '/kv/k')).body.equals(old)).toBe(true)
    } finally {
      await limited.close()
    }
  })
})

describe('keys on the wire', () => {
  const awkward: Array<[string, Buffer]> = [
    ['NUL', Buffer.from([0x00])],
    ['0xFF', Buffer.from([0xff, 0xfe])],
    ['newline', Buffer.from('a\nb')],
    ['slashes', Buffer.from('/a//b/../c/')],
    ['plus', Buffer.from('a+b')],
    ['percent', Buffer.from('100%')],
    ['space', Buffer.from('a b')],
    ['question mark', Buffer.from('a?b#c')],
    ['invalid UTF-8', Buffer.from([0xc3, 0x28, 0x80])],
  ]

  it.each(awkward)('round-trips a key with %s', async (_name, key) => {
    const path = `/kv/${percentEncodeBytes(key)}`
    const value = crypto.randomBytes(16)
    await kv('PUT', path, { body: value })
    expect((await kv('GET', path)).body.equals(value)).toBe(true)
  })

  it('reads %2F and a literal slash as the same key', async () => {
    await kv('PUT', '/kv/dir%2Ffile', { body: 'one' })
    expect((await kv('GET', '/kv/dir/file')).body.toString()).toBe('one')
  })

  it('decodes %FF as the byte 0xFF, not as text', async () => {
    await kv('PUT', '/kv/%FF', { body: 'ff' })
    const stored = await server.store.get(Buffer.from([0xff]))
    expect(stored?.value.toString()).toBe('ff')
  })

  it('keeps + as a plus sign in a path', async () => {
    await kv('PUT', '/kv/a+b', { body: 'plus' })
    expect((await server.store.get(Buffer.from('a+b')))?.value.toString()).toBe('plus')
  })

  it.each([
    ['/kv/%G1', 'INVALID_KEY'],
    ['/kv/abc%', 'INVALID_KEY'],
    ['/kv/abc%4', 'INVALID_KEY'],
    ['/kv/', 'INVALID_KEY'],
    [`/kv/${'k'.repeat(65)}`, 'KEY_TOO_LARGE'],
    [`/kv/${'%FF'.repeat(65)}`, 'KEY_TOO_LARGE'],
  ])('answers 400 to %s with %s and changes nothing', async (path, code) => {
    for (const method of ['GET', 'PUT', 'DELETE', 'HEAD']) {
      const answer = await kv(method, path, method === 'PUT' ? { body: 'x' } : {})
      expect(answer.status).toBe(400)
      if (method !== 'HEAD') expect(answer.json()).toMatchObject({ code, statusCode: 400 })
    }
  })

  it('accepts a key of exactly the limit', async () => {
    const path = `/kv/${'%00'.repeat(64)}`
    expect((await kv('PUT', path, { body: 'x' })).status).toBe(201)
  })
})

describe('value limits', () => {
  it('refuses a declared oversized body with 413 before reading; the old value stays', async () => {
    await kv('PUT', '/kv/limited', { body: 'old' })
    const answer = await kv('PUT', '/kv/limited', { body: Buffer.alloc(8 * 1024 * 1024 + 1) })
    expect(answer.status).toBe(413)
    expect(answer.json()).toMatchObject({ code: 'VALUE_TOO_LARGE' })
    expect((await kv('GET', '/kv/limited')).body.toString()).toBe('old')
  })

  it('refuses a chunked body with 413 once past the limit; the old value stays', async () => {
    await kv('PUT', '/kv/chunked', { body: 'old' })
    async function* chunks() {
      for (let i = 0; i < 20; i++) yield Buffer.alloc(1024 * 1024, i)
    }
    const { request } = await import('undici')
    const response = await request(`${server.url}/kv/chunked`, {
      method: 'PUT',
      body: Readable.from(chunks()),
    }).catch((error: Error) => error)
    if (!(response instanceof Error)) {
      expect(response.statusCode).toBe(413)
      expect(JSON.parse(await response.body.text())).toMatchObject({ code: 'VALUE_TOO_LARGE' })
    }
    expect((await kv('GET', '/kv/chunked')).body.toString()).toBe('old')
  })

  it('answers 413 on the raw socket as soon as Content-Length is known', async () => {
    const { port } = new URL(server.url)
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => {
        socket.write(`PUT /kv/huge HTTP/1.1\r\nHost: x\r\nContent-Length: ${1 << 30}\r\n\r\n`)
      })
      let text = ''
      socket.on('data', (data) => (text += data.toString()))
      socket.on('close', () => resolve(text))
      socket.on('error', reject)
    })
    expect(reply).toMatch(/^HTTP\/1\.1 413/)
    expect(reply).toMatch(/VALUE_TOO_LARGE/)
  })
})

describe('a PUT whose client goes away mid-body', () => {
  it('keeps the old value, logs no error and serves on', async () => {
    const { logTo, lines } = logCollector()
    const logged = await startServer({ logLevel: 'info' }, { logTo })
    try {
      await call(logged.url, 'PUT', '/kv/cut', { body: 'old' })
      const { port } = new URL(logged.url)
      await new Promise<void>((resolve) => {
        const socket = net.connect(Number(port), '127.0.0.1', () => {
          socket.write('PUT /kv/cut HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nnew')
          setTimeout(() => socket.destroy(), 50)
        })
        socket.on('close', () => resolve())
      })
      await new Promise((resolve) => setTimeout(resolve, 100))

      const answer = await call(logged.url, 'GET', '/kv/cut')
      expect(answer.body.toString()).toBe('old')
      expect(lines.filter((line) => (line.level as number) >= 50)).toEqual([])
      expect(lines.some((line) => line.code === 'BAD_REQUEST')).toBe(true)
    } finally {
      await logged.close()
    }
  })
})

describe('conditional requests', () => {
  it('answers 304 to If-None-Match with the current ETag, weak or strong, else 200', async () => {
    const put = await kv('PUT', '/kv/cond', { body: 'v1' })
    const etag = put.headers.etag as string

    const fresh = await kv('GET', '/kv/cond', { headers: { 'if-none-match': etag } })
    expect(fresh.status).toBe(304)
    expect(fresh.body.length).toBe(0)
    expect(fresh.headers.etag).toBe(etag)
    expect(fresh.headers['content-type']).toBeUndefined()
    expect(
      (await kv('GET', '/kv/cond', { headers: { 'if-none-match': `W/${etag}` } })).status,
    ).toBe(304)
    expect((await kv('HEAD', '/kv/cond', { headers: { 'if-none-match': '*' } })).status).toBe(304)
    const stale = await kv('GET', '/kv/cond', { headers: { 'if-none-match': '"other", "x"' } })
    expect(stale.status).toBe(200)
  })

  it('writes with If-Match only when the ETag is current, else 412', async () => {
    const put = await kv('PUT', '/kv/cas', { body: 'v1' })
    const etag = put.headers.etag as string

    const wrong = await kv('PUT', '/kv/cas', { body: 'v2', headers: { 'if-match': '"999999"' } })
    expect(wrong.status).toBe(412)
    expect(wrong.json()).toMatchObject({ code: 'PRECONDITION_FAILED' })
    const weak = await kv('PUT', '/kv/cas', { body: 'v2', headers: { 'if-match': `W/${etag}` } })
    expect(weak.status).toBe(412)

    const listed = await kv('PUT', '/kv/cas', {
      body: 'v2',
      headers: { 'if-match': `"1234", ${etag}` },
    })
    expect(listed.status).toBe(204)
    expect((await kv('GET', '/kv/cas')).body.toString()).toBe('v2')
  })

  it('answers 412 to If-Match on a missing key, even with *', async () => {
    for (const method of ['PUT', 'DELETE']) {
      const answer = await kv(method, '/kv/absent', { body: 'x', headers: { 'if-match': '*' } })
      expect(answer.status).toBe(412)
    }
    expect((await kv('GET', '/kv/absent')).status).toBe(404)
  })

  it('creates only once with If-None-Match: *', async () => {
    const first = await kv('PUT', '/kv/once', { body: 'a', headers: { 'if-none-match': '*' } })
    const second = await kv('PUT', '/kv/once', { body: 'b', headers: { 'if-none-match': '*' } })
    expect(first.status).toBe(201)
    expect(second.status).toBe(412)
    expect((await kv('GET', '/kv/once')).body.toString()).toBe('a')
  })

  it('answers 412 to a write whose If-None-Match names the current ETag', async () => {
    const put = await kv('PUT', '/kv/inm', { body: 'a' })
    const etag = put.headers.etag as string
    expect(
      (await kv('PUT', '/kv/inm', { body: 'b', headers: { 'if-none-match': etag } })).status,
    ).toBe(412)
    expect((await kv('DELETE', '/kv/inm', { headers: { 'if-none-match': etag } })).status).toBe(412)
    expect((await kv('GET', '/kv/inm')).body.toString()).toBe('a')
  })

  it('deletes with If-Match only when the ETag is current', async () => {
    const put = await kv('PUT', '/kv/del-cas', { body: 'a' })
    expect((await kv('DELETE', '/kv/del-cas', { headers: { 'if-match': '"0"' } })).status).toBe(412)
    const etag = put.headers.etag as string
    expect((await kv('DELETE', '/kv/del-cas', { headers: { 'if-match': etag } })).status).toBe(204)
  })
})

describe('routes and errors', () => {
  it('answers an unknown route with 404 and a wrong method with 405 and Allow', async () => {
    const missing = await kv('GET', '/nowhere')
    expect(missing.status).toBe(404)
    expect(missing.json()).toMatchObject({ code: 'NOT_FOUND' })

    const wrong = await kv('POST', '/kv/a', { body: 'x' })
    expect(wrong.status).toBe(405)
    expect(wrong.json()).toMatchObject({ code: 'METHOD_NOT_ALLOWED' })
    expect(wrong.headers.allow).toContain('PUT')
  })

  it('answers a badly escaped non-key path with a coded 400', async () => {
    const answer = await kv('GET', '/nowhere%FF%G')
    expect(answer.status).toBe(400)
    expect(answer.json()).toMatchObject({ code: 'BAD_REQUEST' })
  })

  it('answers /healthz and /readyz', async () => {
    expect((await kv('GET', '/healthz')).json()).toEqual({ status: 'ok' })
    expect((await kv('GET', '/readyz')).json()).toEqual({ status: 'ready' })
  })
})

describe('access token', () => {
  it('requires the bearer token on every route but /healthz', async () => {
    const guarded = await startServer({ token: 's3cret' })
    try {
      const anonymous = await call(guarded.url, 'GET', '/kv/x')
      expect(anonymous.status).toBe(401)
      expect(anonymous.json()).toMatchObject({ code: 'UNAUTHORIZED' })
      expect(anonymous.headers['www-authenticate']).toMatch(/^Bearer/)

      const wrong = await call(guarded.url, 'GET', '/readyz', {
        headers: { authorization: 'Bearer nope' },
      })
      expect(wrong.status).toBe(401)
      expect((await call(guarded.url, 'GET', '/healthz')).status).toBe(200)

      const ok = await call(guarded.url, 'PUT', '/kv/x', {
        body: 'v',
        headers: { authorization: 'Bearer s3cret' },
      })
      expect(ok.status).toBe(201)
    } finally {
      await guarded.close()
    }
  })
})

describe('persistence', () => {
  it('keeps every acknowledged value across a restart on the same file', async () => {
    const first = await startServer()
    const values = new Map<string, Buffer>()
    for (let i = 0; i < 50; i++) {
      const key = percentEncodeBytes(crypto.randomBytes(8))
      const value = crypto.randomBytes(i * 97)
      values.set(key, value)
      await call(first.url, 'PUT', `/kv/${key}`, { body: value })
    }
    await first.stop()

    const second = await startServer({ db: first.dbPath }, { dir: first.dir })
    try {
      for (const [key, value] of values) {
        expect((await call(second.url, 'GET', `/kv/${key}`)).body.equals(value)).toBe(true)
      }
    } finally {
      await second.close()
    }
  })
})
