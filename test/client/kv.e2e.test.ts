import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClient, ParkdClient, ParkdClientError } from '../../src/client/index.js'
import { call } from '../helpers/http.js'
import { startServer, type TestServer } from '../helpers/server.js'

let server: TestServer
let client: ParkdClient

beforeAll(async () => {
  server = await startServer({ maxValueBytes: 4096 })
  client = new ParkdClient({ url: server.url })
})
afterAll(async () => {
  await client.close()
  await server.close()
})

/** The rejection of `promise`, which must reject. */
async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('the call should have failed'),
    (error: unknown) => error,
  )
}

describe('one key', () => {
  it('puts, gets, checks and deletes a key, with created and an ETag on each write', async () => {
    const first = await client.put('one/cat', 'Felis catus')
    const second = await client.put('one/cat', 'Felis silvestris')

    expect(first).toEqual({ created: true, etag: expect.stringMatching(/^".+"$/) })
    expect(second.created).toBe(false)
    expect(second.etag).not.toBe(first.etag)
    expect(await client.get('one/cat')).toEqual(Buffer.from('Felis silvestris'))
    expect(await client.has('one/cat')).toBe(true)
    expect(await client.delete('one/cat')).toBe(true)
    expect(await client.has('one/cat')).toBe(false)
  })

  it('answers undefined and false for a key that does not exist', async () => {
    expect(await client.get('one/never')).toBeUndefined()
    expect(await client.getWithEtag('one/never')).toBeUndefined()
    expect(await client.has('one/never')).toBe(false)
    expect(await client.delete('one/never')).toBe(false)
  })

  it('gives values back as text when asked', async () => {
    await client.put('one/text', 'grüße ✓')

    expect(await client.get('one/text', { as: 'text' })).toBe('grüße ✓')
    expect(await client.getWithEtag('one/text', { as: 'text' })).toEqual({
      value: 'grüße ✓',
      etag: expect.any(String),
    })
  })

  it('stores keys and values of any bytes exactly, dots, slashes, escapes included', async () => {
    const keys = [
      Buffer.from([0x00, 0xff, 0x2f, 0x80]),
      '..',
      '.',
      'a/../b',
      '%41%',
      '+ &=?#',
      'ü/€',
      new Uint8Array([9, 1, 2, 3, 9]).subarray(1, 4),
    ]
    for (const [i, key] of keys.entries()) {
      await client.put(key, Buffer.from([i, 0x00, 0xff]))
    }

    for (const [i, key] of keys.entries()) {
      expect(await client.get(key), `key ${i}`).toEqual(Buffer.from([i, 0x00, 0xff]))
    }
    // Read back without the client, so that a mistake made both ways cannot hide.
    const raw = await call(server.url, 'GET', '/kv/a%2F..%2Fb')
    expect(raw.body).toEqual(Buffer.from([3, 0x00, 0xff]))
    expect((await call(server.url, 'GET', '/kv/%01%02%03')).status).toBe(200)
  })

  it('stores an empty value', async () => {
    await client.put('one/empty', '')
    expect(await client.get('one/empty')).toEqual(Buffer.alloc(0))
    expect(await client.has('one/empty')).toBe(true)
  })
})

describe('conditional writes', () => {
  it('replaces a value only while its ETag matches', async () => {
    const { etag } = await client.put('cas/k', 'v1')
    const read = await client.getWithEtag('cas/k', { as: 'text' })
    expect(read).toEqual({ value: 'v1', etag })

    const swapped = await client.put('cas/k', 'v2', { ifMatch: etag })
    const error = await failure(client.put('cas/k', 'v3', { ifMatch: etag }))

    expect(swapped.created).toBe(false)
    expect(error).toBeInstanceOf(ParkdClientError)
    expect(error).toMatchObject({ code: 'PRECONDITION_FAILED', statusCode: 412 })
    expect(await client.get('cas/k', { as: 'text' })).toBe('v2')
  })

  it('takes lists of ETags, unquoted ETags and * for any value', async () => {
    const { etag } = await client.put('cas/list', 'v1')
    const unquoted = etag.slice(1, -1)

    await client.put('cas/list', 'v2', { ifMatch: ['"nope"', etag] })
    const { etag: third } = await client.put('cas/list', 'v3', { ifMatch: '*' })
    await client.put('cas/list', 'v4', { ifMatch: third.slice(1, -1) })
    const stale = await failure(client.put('cas/list', 'v5', { ifMatch: unquoted }))

    expect(stale).toMatchObject({ code: 'PRECONDITION_FAILED' })
    expect(await client.get('cas/list', { as: 'text' })).toBe('v4')
  })

  it('creates only when the key is new with ifNoneMatch *', async () => {
    expect(await client.put('cas/new', 'a', { ifNoneMatch: '*' })).toMatchObject({ created: true })
    const error = await failure(client.put('cas/new', 'b', { ifNoneMatch: '*' }))

    expect(error).toMatchObject({ code: 'PRECONDITION_FAILED', statusCode: 412 })
    expect(await client.get('cas/new', { as: 'text' })).toBe('a')
  })

  it('deletes only while the ETag matches, and refuses an ifMatch on a missing key', async () => {
    const { etag } = await client.put('cas/del', 'v1')
    await client.put('cas/del', 'v2')

    expect(await failure(client.delete('cas/del', { ifMatch: etag }))).toMatchObject({
      code: 'PRECONDITION_FAILED',
    })
    const current = await client.getWithEtag('cas/del')
    expect(await client.delete('cas/del', { ifMatch: current?.etag })).toBe(true)
    expect(await failure(client.delete('cas/del', { ifMatch: '*' }))).toMatchObject({
      statusCode: 412,
    })
  })
})

describe('errors', () => {
  it('throws INVALID_KEY for an empty key and KEY_TOO_LARGE for a long one', async () => {
    expect(await failure(client.get(''))).toMatchObject({ code: 'INVALID_KEY', statusCode: 400 })
    expect(await failure(client.put('', 'x'))).toMatchObject({ code: 'INVALID_KEY' })
    expect(await failure(client.has(''))).toMatchObject({ code: 'INVALID_KEY', statusCode: 400 })
    expect(await failure(client.get('k'.repeat(2049)))).toMatchObject({
      code: 'KEY_TOO_LARGE',
      statusCode: 400,
    })
  })

  it('throws VALUE_TOO_LARGE with the server message for a value over the limit', async () => {
    const error = await failure(client.put('err/big', Buffer.alloc(5000)))

    expect(error).toMatchObject({ code: 'VALUE_TOO_LARGE', statusCode: 413 })
    expect((error as Error).message).toMatch(/limit/)
    expect(await client.has('err/big')).toBe(false)
  })

  it('reads a 404 of a wrong base path as an error, not as a missing key', async () => {
    const wrong = new ParkdClient({ url: `${server.url}/not-parkd/` })
    try {
      expect(await failure(wrong.get('k'))).toMatchObject({ code: 'NOT_FOUND', statusCode: 404 })
      expect(await failure(wrong.delete('k'))).toMatchObject({ code: 'NOT_FOUND' })
    } finally {
      await wrong.close()
    }
  })

  it('lets a network error through as it is', async () => {
    const closed = await startServer()
    const url = closed.url
    await closed.close()
    const gone = createClient({ url })
    try {
      const error = await failure(gone.get('k'))
      expect(error).not.toBeInstanceOf(ParkdClientError)
      expect(error).toMatchObject({ code: 'ECONNREFUSED' })
    } finally {
      await gone.close()
    }
  })

  it('rejects with the abort reason when a request is aborted', async () => {
    const error = await failure(client.get('k', { signal: AbortSignal.abort() }))
    expect(error).toMatchObject({ name: 'AbortError' })
  })

  it('takes pool sizes and timeouts, a trailing slash and a URL object', async () => {
    const tuned = new ParkdClient({
      url: new URL(`${server.url}/`),
      connections: 1,
      headersTimeout: 0,
      bodyTimeout: 10_000,
    })
    try {
      await tuned.put('opt/k', 'v')
      expect(await Promise.all([tuned.get('opt/k', { as: 'text' }), tuned.has('opt/k')])).toEqual([
        'v',
        true,
      ])
    } finally {
      await tuned.close()
    }
  })

  it('refuses bad options and inputs before sending anything, naming them', () => {
    expect(() => new ParkdClient({ url: 'ftp://host' })).toThrow(/option 'url'/)
    expect(() => new ParkdClient({ url: 'nonsense' })).toThrow(/option 'url'/)
    expect(() => new ParkdClient({ url: `${server.url}?a=1` })).toThrow(/no query/)
    expect(() => new ParkdClient({ url: server.url, connections: 0 })).toThrow(/connections/)
    expect(() => new ParkdClient({ url: server.url, token: '' })).toThrow(/token/)
    expect(() => new ParkdClient({ url: server.url, bodyTimeout: -1 })).toThrow(/bodyTimeout/)
    expect(() => new ParkdClient(undefined as never)).toThrow(/url/)
  })

  it('refuses keys, values, conditions and formats of the wrong type', async () => {
    await expect(client.get(42 as never)).rejects.toThrow(/the key must be/)
    await expect(client.put('k', null as never)).rejects.toThrow(/the value must be/)
    await expect(client.put('k', 'v', { ifMatch: [] })).rejects.toThrow(/ifMatch/)
    await expect(client.get('k', { as: 'hex' as never })).rejects.toThrow(/option 'as'/)
  })
})

describe('BAD_RESPONSE', () => {
  let proxy: Server
  let proxyUrl: string

  beforeAll(async () => {
    // Stands for a proxy in front of parkd that answers in its own way.
    proxy = createServer((request, response) => {
      request.resume()
      if (request.url?.startsWith('/kv/teapot')) response.writeHead(418).end('<html>no</html>')
      else if (request.url?.startsWith('/kv/')) response.writeHead(302).end()
      else if (request.url?.startsWith('/count')) response.writeHead(200).end('{"total":3}')
      else if (request.url?.startsWith('/items')) response.end(Buffer.from([0, 0, 0, 1, 0x61]))
      else response.writeHead(200).end(Buffer.from([0, 0, 0, 5, 0x61]))
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    await new Promise((resolve) => proxy.close(resolve))
  })

  it('is thrown for statuses and bodies that are not parkd answers', async () => {
    const other = new ParkdClient({ url: proxyUrl })
    try {
      const teapot = await failure(other.get('teapot'))
      expect(teapot).toMatchObject({ code: 'BAD_RESPONSE', statusCode: 418 })
      expect((teapot as Error).message).toMatch(/<html>/)
      expect(await failure(other.put('k', 'v'))).toMatchObject({
        code: 'BAD_RESPONSE',
        statusCode: 302,
      })
      expect(await failure(other.count())).toMatchObject({ code: 'BAD_RESPONSE' })
    } finally {
      await other.close()
    }
  })

  it('is thrown for a listing that ends inside a record', async () => {
    const other = new ParkdClient({ url: proxyUrl })
    const keys: Buffer[] = []
    try {
      const error = await failure(
        (async () => {
          for await (const key of other.keys()) keys.push(key)
        })(),
      )
      expect(error).toMatchObject({ code: 'BAD_RESPONSE', statusCode: 200 })
      expect(keys).toEqual([])
      // A whole key frame without its value frame is cut inside an item too.
      await expect(
        (async () => {
          for await (const item of other.items()) keys.push(item.key)
        })(),
      ).rejects.toMatchObject({ code: 'BAD_RESPONSE' })
      expect(keys).toEqual([])
    } finally {
      await other.close()
    }
  })
})

describe('tokens', () => {
  let guarded: TestServer

  beforeAll(async () => {
    guarded = await startServer({ token: 'secret' })
  })
  afterAll(async () => {
    await guarded.close()
  })

  it('sends the token, and throws UNAUTHORIZED with a wrong one or none', async () => {
    const good = new ParkdClient({ url: guarded.url, token: 'secret' })
    const bad = new ParkdClient({ url: guarded.url, token: 'wrong' })
    const none = new ParkdClient({ url: guarded.url })
    try {
      await good.put('t/k', 'v')
      expect(await good.get('t/k', { as: 'text' })).toBe('v')
      expect(await failure(bad.get('t/k'))).toMatchObject({ code: 'UNAUTHORIZED', statusCode: 401 })
      expect(await failure(none.count())).toMatchObject({ code: 'UNAUTHORIZED' })
      expect(await failure(none.has('t/k'))).toMatchObject({ code: 'UNAUTHORIZED' })
      expect(await failure(bad.putMany([['t/x', 'v']]))).toMatchObject({ statusCode: 401 })
    } finally {
      await Promise.all([good.close(), bad.close(), none.close()])
    }
  })
})
