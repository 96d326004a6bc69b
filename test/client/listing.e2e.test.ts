import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { ParkdClient, ParkdClientError, type ListOptions } from '../../src/client/index.js'
import type { Item, ScanOptions } from '../../src/store/types.js'
import { collect } from '../helpers/iterate.js'
import { startServer, type TestServer } from '../helpers/server.js'

let server: TestServer
let client: ParkdClient

/** Keys that sort differently byte-wise than as text, and that need escaping in a query. */
const STORED = [
  'a',
  'a/',
  'a/b',
  'a/b/c',
  'a+b',
  'a b',
  'a%2F',
  'A',
  'b',
  'ü',
  '\u{1F408}',
  '11',
  '2',
].map((key) => Buffer.from(key))
STORED.push(Buffer.from([0x00]), Buffer.from([0xff]), Buffer.from([0x61, 0x00]))

const valueOf = (key: Buffer) => Buffer.concat([Buffer.from([0xfe]), key])

beforeAll(async () => {
  server = await startServer()
  client = new ParkdClient({ url: server.url })
  await client.putMany(STORED.map((key) => [key, valueOf(key)]))
})
afterAll(async () => {
  await client.close()
  await server.close()
})

type Bounds = { from?: Buffer; to?: Buffer; after?: Buffer; before?: Buffer; prefix?: Buffer }
type Options = Bounds & { strip?: boolean; limit?: number; reverse?: boolean }

/** What the contract says a listing of STORED holds, computed without the server. */
function expectedKeys(options: Options): Buffer[] {
  const { from, to, after, before, prefix } = options
  const selected = STORED.filter(
    (key) =>
      (!from || Buffer.compare(key, from) >= 0) &&
      (!to || Buffer.compare(key, to) <= 0) &&
      (!after || Buffer.compare(key, after) > 0) &&
      (!before || Buffer.compare(key, before) < 0) &&
      (!prefix || key.subarray(0, prefix.length).equals(prefix)),
  )
  selected.sort(Buffer.compare)
  if (options.reverse) selected.reverse()
  return selected.slice(0, options.limit ?? selected.length)
}

const hex = (keys: readonly Buffer[]) => keys.map((key) => key.toString('hex'))

describe('keys and items', () => {
  it('list every key in byte-wise order, as buffers or as text', async () => {
    const sorted = [...STORED].sort(Buffer.compare)

    expect(hex(await collect(client.keys()))).toEqual(hex(sorted))
    const text = await collect(client.keys({ prefix: 'a', as: 'text' }))
    expect(text).toEqual(['a', 'a b', 'a%2F', 'a+b', 'a/', 'a/b', 'a/b/c', 'a\u0000'].sort())
  })

  it('list what the contract says for any selection and options (property)', async () => {
    const bound = fc.oneof(
      fc.constantFrom(...STORED),
      fc.uint8Array({ minLength: 1, maxLength: 3 }).map((bytes) => Buffer.from(bytes)),
    )
    const prefix = fc.oneof(fc.constantFrom(...STORED), fc.constant(Buffer.from('a/')))
    const options = fc
      .record(
        {
          low: fc.option(fc.tuple(fc.constantFrom('from', 'after'), bound), { nil: undefined }),
          high: fc.option(fc.tuple(fc.constantFrom('to', 'before'), bound), { nil: undefined }),
          prefix: fc.option(prefix, { nil: undefined }),
          strip: fc.boolean(),
          limit: fc.option(fc.nat(6), { nil: undefined }),
          reverse: fc.boolean(),
        },
        { requiredKeys: [] },
      )
      .map(({ low, high, strip, ...rest }): Options => ({
        ...rest,
        ...(low && { [low[0]]: low[1] }),
        ...(high && { [high[0]]: high[1] }),
        // strip needs a prefix (the server refuses it alone)
        strip: strip && rest.prefix !== undefined,
      }))

    await fc.assert(
      fc.asyncProperty(options, async (options) => {
        const expected = expectedKeys(options)
        const cut = options.strip ? (options.prefix?.length ?? 0) : 0
        const keys = await collect(client.keys(options as ListOptions))
        const items = await collect(client.items(options as ListOptions))

        expect(hex(keys)).toEqual(hex(expected.map((key) => key.subarray(cut))))
        expect(items.map((item) => item.key.toString('hex'))).toEqual(hex(keys))
        expect(hex(items.map((item) => item.value))).toEqual(hex(expected.map(valueOf)))
      }),
      { numRuns: 60 },
    )
  })

  it('list a prefix with it stripped, a key equal to the prefix becoming empty', async () => {
    const keys = await collect(client.prefixKeys('a/', { strip: true, as: 'text' }))
    const items = await collect(client.prefixItems(Buffer.from('a/b'), { strip: true }))
    const unstripped = await collect(client.prefixKeys('a/b', { as: 'text' }))

    expect(keys).toEqual(['', 'b', 'b/c'])
    expect(items).toEqual([
      { key: Buffer.alloc(0), value: valueOf(Buffer.from('a/b')) },
      { key: Buffer.from('/c'), value: valueOf(Buffer.from('a/b/c')) },
    ])
    expect(unstripped).toEqual(['a/b', 'a/b/c'])
  })

  it('page with limit and after until a page comes back short', async () => {
    const pages: string[][] = []
    let after: string | undefined
    for (;;) {
      const page = await collect(client.prefixKeys('a', { limit: 3, after, as: 'text' }))
      pages.push(page)
      if (page.length < 3) break
      after = page.at(-1)
    }

    expect(pages.flat()).toEqual(await collect(client.prefixKeys('a', { as: 'text' })))
    expect(pages.length).toBe(3)
  })

  it('gives items as text when asked', async () => {
    await client.put('text/k', 'grüße')
    expect(await collect(client.prefixItems('text/', { as: 'text' }))).toEqual([
      { key: 'text/k', value: 'grüße' },
    ])
  })

  it('throw the INVALID_QUERY of the server for a selection it refuses', async () => {
    const error = await collect(client.keys({ from: 'a', after: 'b' })).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ParkdClientError)
    expect(error).toMatchObject({ code: 'INVALID_QUERY', statusCode: 400 })
    await expect(collect(client.keys({ to: '' }))).rejects.toMatchObject({ statusCode: 400 })
  })

  it('refuse a limit that is not a whole number when called', () => {
    expect(() => client.keys({ limit: -1 })).toThrow(RangeError)
    expect(() => client.items({ limit: 1.5 })).toThrow(/option 'limit'/)
  })
})

describe('streaming', () => {
  const BIG = 512
  const VALUE_BYTES = 64 * 1024

  beforeAll(async () => {
    const entries = function* () {
      for (let i = 0; i < BIG; i++) {
        yield [`big/${String(i).padStart(4, '0')}`, Buffer.alloc(VALUE_BYTES, i)] as const
      }
    }
    await client.putMany(entries())
  })

  it('hands out large values whole and in order', async () => {
    let i = 0
    for await (const { key, value } of client.prefixItems('big/', { as: 'buffer' })) {
      expect(key.toString()).toBe(`big/${String(i).padStart(4, '0')}`)
      expect(value.equals(Buffer.alloc(VALUE_BYTES, i))).toBe(true)
      i++
    }
    expect(i).toBe(BIG)
  })

  it('closes the answer when a loop stops early, so that the server stops its scan', async () => {
    const scan = server.store.scanItems.bind(server.store)
    let sent = 0
    let ended = false
    const spy = vi.spyOn(server.store, 'scanItems').mockImplementation(async function* (
      options: ScanOptions,
    ): AsyncGenerator<Item[]> {
      try {
        for await (const page of scan(options)) {
          sent += page.length
          yield page
        }
      } finally {
        ended = true
      }
    })

    try {
      for await (const item of client.prefixItems('big/')) {
        expect(item.key.toString()).toBe('big/0000')
        break
      }
      await vi.waitFor(() => expect(ended).toBe(true), { timeout: 10_000 })
      // 32 MiB were selected; what left before the scan stopped is what the socket
      // buffers and the server's read-ahead held.
      expect(sent).toBeLessThan(BIG)
      expect(await client.count({ prefix: 'big/' })).toBe(BIG)
    } finally {
      spy.mockRestore()
    }
  })

  it('rejects with the abort reason when a listing is aborted midway', async () => {
    const controller = new AbortController()
    let seen = 0
    const error = await (async () => {
      for await (const item of client.prefixItems('big/', { signal: controller.signal })) {
        if (item && ++seen === 2) controller.abort()
      }
    })().catch((e: unknown) => e)

    expect(error).toMatchObject({ name: 'AbortError' })
    expect(seen).toBeLessThan(BIG)
  })

  it('throws, rather than ends, when the server cuts a listing', async () => {
    const spy = vi.spyOn(server.store, 'scanKeys').mockImplementation(async function* () {
      yield [Buffer.from('first')]
      // Let the first page leave before the failure, so that the answer has begun.
      await new Promise((resolve) => setTimeout(resolve, 50))
      throw new Error('the disk failed')
    })

    const keys: string[] = []
    try {
      const error = await (async () => {
        for await (const key of client.keys({ as: 'text' })) keys.push(key)
      })().catch((e: unknown) => e)
      expect(keys).toEqual(['first'])
      expect(error).toBeInstanceOf(Error)
      expect(error).not.toBeInstanceOf(ParkdClientError)
      expect(error).toMatchObject({ code: 'UND_ERR_SOCKET' })
    } finally {
      spy.mockRestore()
    }
  })
})

describe('count and deleteRange', () => {
  it('count a selection as the listing does', async () => {
    expect(await client.count({ prefix: 'a/' })).toBe(3)
    expect(await client.count({ from: 'a', to: 'b' })).toBe(
      expectedKeys({ from: Buffer.from('a'), to: Buffer.from('b') }).length,
    )
    expect(await client.count()).toBe((await collect(client.keys())).length)
  })

  it('delete a selection, answering how many went, and everything only with all', async () => {
    await client.putMany([
      ['del/a', '1'],
      ['del/b', '2'],
      ['del/c', '3'],
      ['dem', '4'],
    ])

    expect(await client.deleteRange({ prefix: 'del/', after: 'del/a' })).toBe(2)
    expect(await collect(client.keys({ from: 'del/', to: 'dem', as: 'text' }))).toEqual([
      'del/a',
      'dem',
    ])
    await expect(client.deleteRange({})).rejects.toMatchObject({ code: 'INVALID_QUERY' })
    await expect(client.deleteRange({ all: true, prefix: 'x' })).rejects.toMatchObject({
      statusCode: 400,
    })
  })

  it('delete every key with all: true', async () => {
    const other = await startServer()
    const fresh = new ParkdClient({ url: other.url })
    try {
      await fresh.putMany([
        ['x', '1'],
        ['y', '2'],
      ])
      expect(await fresh.deleteRange({ all: true })).toBe(2)
      expect(await fresh.count()).toBe(0)
    } finally {
      await fresh.close()
      await other.close()
    }
  })
})
