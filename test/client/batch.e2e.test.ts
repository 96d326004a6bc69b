import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { ParkdClient, ParkdClientError, type BatchEntry } from '../../src/client/index.js'
import { collect } from '../helpers/iterate.js'
import { logCollector } from '../helpers/logs.js'
import { startServer, type TestServer } from '../helpers/server.js'

let server: TestServer
let client: ParkdClient
const { logTo, lines: logLines } = logCollector()

beforeAll(async () => {
  server = await startServer({ logLevel: 'info' }, { logTo })
  client = new ParkdClient({ url: server.url })
})
afterAll(async () => {
  await client.close()
  await server.close()
})

const padded = (prefix: string, i: number) => `${prefix}${String(i).padStart(9, '0')}`

/** `[prefix000000000, v0]`, `[prefix000000001, v1]`, ... without end. */
function* counting(prefix: string): Generator<BatchEntry> {
  for (let i = 0; ; i++) yield [padded(prefix, i), `v${i}`]
}

function* take<T>(source: Iterable<T>, n: number): Generator<T> {
  if (n <= 0) return
  for (const item of source) {
    yield item
    if (--n === 0) return
  }
}

/** Asserts that the keys under `prefix` are exactly the first `n` of `counting(prefix)`. */
async function expectGaplessPrefix(prefix: string, n: number): Promise<void> {
  const keys = await collect(client.prefixKeys(prefix, { as: 'text' }))
  expect(keys.length).toBe(n)
  keys.forEach((key, i) => {
    if (key !== padded(prefix, i)) expect.fail(`key ${i} is ${key}`)
  })
}

/** The `committed` of the server's log line for an upload that broke off. */
async function brokeOffRecords(): Promise<number> {
  let line: Record<string, unknown> | undefined
  await vi.waitFor(
    () => {
      line = logLines.find((l) => l.msg === 'batch upload broke off' && !l.seen)
      expect(line).toBeDefined()
    },
    { timeout: 10_000 },
  )
  if (line) line.seen = true
  return line?.records as number
}

describe('putMany', () => {
  it('stores pairs from arrays, Maps and generators, sync or async, and counts them', async () => {
    async function* pairs() {
      yield [Buffer.from([0x00, 0xff]), new Uint8Array([1, 2])] as const
      yield ['p/async', 'text'] as const
    }

    expect(await client.putMany([['p/a', '1']])).toEqual({ put: 1, deleted: 0 })
    expect(await client.putMany(new Map([['p/b', Buffer.from('2')]]))).toEqual({
      put: 1,
      deleted: 0,
    })
    expect(await client.putMany(pairs())).toEqual({ put: 2, deleted: 0 })
    expect(await client.get('p/b', { as: 'text' })).toBe('2')
    expect(await client.get(Buffer.from([0x00, 0xff]))).toEqual(Buffer.from([1, 2]))
    expect(await client.get('p/async', { as: 'text' })).toBe('text')
  })

  it('answers zero counts for an empty source', async () => {
    expect(await client.putMany([])).toEqual({ put: 0, deleted: 0 })
  })

  it('applies records in order, so that the last one for a key wins', async () => {
    await client.putMany([
      ['order/k', '1'],
      ['order/k', '2'],
      ['order/k', '3'],
    ])
    expect(await client.get('order/k', { as: 'text' })).toBe('3')
  })

  it('stores large values and empty ones among small records', async () => {
    const large = Buffer.alloc(200 * 1024, 0xab)
    await client.putMany([
      ['large/a', 'x'],
      ['large/b', large],
      ['large/c', ''],
    ])

    expect((await client.get('large/b'))?.equals(large)).toBe(true)
    expect(await client.get('large/c')).toEqual(Buffer.alloc(0))
    expect(await client.get('large/a', { as: 'text' })).toBe('x')
  })

  it('stores the first N records of an endless generator that ends after N', async () => {
    expect(await client.putMany(take(counting('take/'), 25_000))).toEqual({
      put: 25_000,
      deleted: 0,
    })
    await expectGaplessPrefix('take/', 25_000)
  })

  it('stops an endless generator on abort and leaves a gapless prefix stored', async () => {
    const controller = new AbortController()
    let pulled = 0
    function* stopping(): Generator<BatchEntry> {
      for (const entry of counting('abort/')) {
        if (++pulled === 200_000) controller.abort()
        yield entry
      }
    }

    const error = await client
      .putMany(stopping(), { signal: controller.signal })
      .catch((e: unknown) => e)
    expect(error).toMatchObject({ name: 'AbortError' })
    const stored = await brokeOffRecords()

    expect(pulled).toBe(200_000)
    expect(stored).toBeGreaterThan(0)
    expect(stored).toBeLessThan(200_000)
    await expectGaplessPrefix('abort/', stored)
  })

  it('stores nothing of an atomic batch that is aborted', async () => {
    const controller = new AbortController()
    function* stopping(): Generator<BatchEntry> {
      let i = 0
      for (const entry of counting('atomic-abort/')) {
        if (++i === 50_000) controller.abort()
        yield entry
      }
    }

    await expect(
      client.putMany(stopping(), { atomic: true, signal: controller.signal }),
    ).rejects.toMatchObject({ name: 'AbortError' })
    expect(await brokeOffRecords()).toBe(0)
    expect(await client.count({ prefix: 'atomic-abort/' })).toBe(0)
  })

  it('throws BAD_RECORD with the index and what was committed, which is a prefix', async () => {
    function* endless(): Generator<BatchEntry> {
      let i = 0
      for (const entry of counting('bad/')) yield i++ === 25_000 ? ['', 'empty key'] : entry
    }

    const error = await client.putMany(endless()).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ParkdClientError)
    expect(error).toMatchObject({
      code: 'BAD_RECORD',
      statusCode: 400,
      index: 25_000,
      committed: 25_000,
    })
    await expectGaplessPrefix('bad/', 25_000)
  })

  it('stores nothing of an atomic batch with a bad record', async () => {
    const records: BatchEntry[] = [
      ['atomic-bad/a', '1'],
      ['k'.repeat(3000), '2'],
    ]
    const error = await client.putMany(records, { atomic: true }).catch((e: unknown) => e)

    expect(error).toMatchObject({ code: 'KEY_TOO_LARGE', statusCode: 413, index: 1, committed: 0 })
    expect(await client.has('atomic-bad/a')).toBe(false)
  })

  it('rejects with the error of a source that throws, keeping a prefix stored', async () => {
    function* failing(): Generator<BatchEntry> {
      yield* take(counting('throw/'), 30_000)
      throw new Error('the source failed')
    }

    await expect(client.putMany(failing())).rejects.toThrow('the source failed')
    const stored = await brokeOffRecords()
    await expectGaplessPrefix('throw/', stored)
  })

  it('refuses a source or an entry of the wrong shape', async () => {
    await expect(client.putMany(42 as never)).rejects.toThrow(/iterable/)
    await expect(client.putMany([{ key: 'a', value: 'b' } as never])).rejects.toThrow(
      /\[key, value\] pair/,
    )
    await expect(client.deleteMany(null as never)).rejects.toThrow(/iterable/)
  })
})

describe('deleteMany', () => {
  it('deletes the keys of any iterable and counts missing ones too', async () => {
    await client.putMany([
      ['dm/a', '1'],
      ['dm/b', '2'],
      ['dm/c', '3'],
    ])
    async function* keys() {
      yield 'dm/b'
      yield Buffer.from('dm/never')
    }

    expect(await client.deleteMany(['dm/a'])).toEqual({ put: 0, deleted: 1 })
    expect(await client.deleteMany(keys())).toEqual({ put: 0, deleted: 2 })
    expect(await collect(client.prefixKeys('dm/', { as: 'text' }))).toEqual(['dm/c'])
  })

  it('deletes many keys streamed from a generator', async () => {
    await client.putMany(take(counting('dm-many/'), 20_000))
    function* evens() {
      for (let i = 0; i < 20_000; i += 2) yield padded('dm-many/', i)
    }

    expect(await client.deleteMany(evens(), { atomic: true })).toEqual({ put: 0, deleted: 10_000 })
    const left = await collect(client.prefixKeys('dm-many/', { as: 'text' }))
    expect(left.length).toBe(10_000)
    expect(left.slice(0, 2)).toEqual([padded('dm-many/', 1), padded('dm-many/', 3)])
  })
})

describe('an async source that pauses', () => {
  let fake: Server
  let fakeUrl: string
  let received = 0

  beforeAll(async () => {
    // Counts the body bytes of a batch as they arrive, and answers at its end.
    fake = createServer((request, response) => {
      request.on('data', (chunk: Buffer) => (received += chunk.length))
      request.on('end', () => response.end('{"put":4,"deleted":0}'))
    })
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve))
    fakeUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    await new Promise((resolve) => fake.close(resolve))
  })
  afterEach(() => {
    received = 0
  })

  it('has what it gave sent before it gives more, rather than held back', async () => {
    const other = new ParkdClient({ url: fakeUrl })
    // Each record is `u32, 'kN', u32, 'v'`: 11 bytes.
    async function* slow(): AsyncGenerator<BatchEntry> {
      yield ['k1', 'v']
      yield ['k2', 'v']
      await vi.waitFor(() => expect(received).toBe(22), { timeout: 5000 })
      yield ['k3', 'v']
      await vi.waitFor(() => expect(received).toBe(33), { timeout: 5000 })
      yield ['k4', 'v']
    }

    try {
      expect(await other.putMany(slow())).toEqual({ put: 4, deleted: 0 })
    } finally {
      await other.close()
    }
  })
})
