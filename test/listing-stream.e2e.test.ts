/**
 * Listings as real streams: flat memory and backpressure for a slow reader, first
 * records before the scan ends, a scan that stops when the client leaves, listings
 * beside concurrent writes, and errors after the first byte that cut the connection.
 * The server runs in this process, so the store's scans can be watched (and made to
 * fail) by wrapping its methods, and its memory is this process's memory.
 */
import { setImmediate as nextTurn } from 'node:timers/promises'
import v8 from 'node:v8'
import vm from 'node:vm'
import { request } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { ParkdError } from '../src/errors.js'
import type { ScanOptions, Store } from '../src/store/types.js'
import { FRAMES, postBatch, sleep } from './helpers/batch.js'
import { call } from './helpers/http.js'
import { FrameReader, load, type Listed } from './helpers/listing.js'
import { frames, put, type TestRecord } from './helpers/records.js'
import { startServer, type TestServer } from './helpers/server.js'

const MIB = 1024 * 1024
const BIG_RECORDS = 300
const BIG_BYTES = BIG_RECORDS * MIB

// Memory is measured after a full collection, so that garbage not yet collected cannot
// pass for memory the server holds.
v8.setFlagsFromString('--expose-gc')
const collectGarbage = vm.runInNewContext('gc') as () => void

let server: TestServer
let url: string

const bigKey = (i: number) => `big/${String(i).padStart(4, '0')}`

/** 1 MiB that tells which record it belongs to, all through. */
function bigValue(i: number): Buffer {
  const value = Buffer.alloc(MIB, i % 251)
  value.writeUInt32BE(i, 0)
  value.writeUInt32BE(i, MIB - 4)
  return value
}

async function* bigRecords(): AsyncGenerator<Buffer> {
  for (let i = 0; i < BIG_RECORDS; i++) {
    yield frames([{ key: Buffer.from(bigKey(i)), value: bigValue(i) }])
  }
}

beforeAll(async () => {
  server = await startServer()
  url = server.url
  const answer = await postBatch(url, bigRecords(), { type: FRAMES })
  expect(answer.body).toEqual({ put: BIG_RECORDS, deleted: 0 })
}, 120_000)
afterAll(async () => {
  await server.close()
})
afterEach(() => {
  vi.restoreAllMocks()
})

/** What one scan of the store has done so far, seen from outside. */
type ScanWatch = { records: number; done: boolean; closed: boolean }

type PageWrapper = (pages: AsyncIterable<unknown[]>, watch: ScanWatch) => AsyncIterable<unknown[]>

async function* counted(pages: AsyncIterable<unknown[]>, watch: ScanWatch) {
  try {
    for await (const page of pages) {
      watch.records += page.length
      yield page
    }
    watch.done = true
  } finally {
    watch.closed = true
  }
}

/** Wraps the scans of `method` (one per test); answers what they have done so far. */
function watchScans(
  store: Store,
  method: 'scanItems' | 'scanKeys',
  wrap: PageWrapper = (pages) => pages,
): ScanWatch {
  const watch = { records: 0, done: false, closed: false }
  const original = store[method].bind(store) as (options: ScanOptions) => AsyncIterable<unknown[]>
  const scan = (options: ScanOptions) => counted(wrap(original(options), watch), watch)
  vi.spyOn(store, method as 'scanItems').mockImplementation(scan as Store['scanItems'])
  return watch
}

/** Waits (up to about ten seconds) for `condition` to come true. */
async function until(condition: () => boolean): Promise<void> {
  for (let tries = 0; !condition(); tries++) {
    if (tries > 500) throw new Error('the condition never came true')
    await sleep(20)
  }
}

type Memory = { rss: number; live: number }

/** Memory of this process, which holds the server and the client. */
function memory(): Memory {
  collectGarbage()
  const usage = process.memoryUsage()
  return { rss: usage.rss, live: usage.heapUsed + usage.arrayBuffers }
}

function bigListing() {
  return request(`${url}/items?prefix=big/`, { headers: { accept: FRAMES } })
}

function expectBig(record: Listed, i: number): void {
  expect(record.key.toString()).toBe(bigKey(i))
  expect(record.value?.equals(bigValue(i))).toBe(true)
}

describe('a listing of a few hundred MiB', () => {
  it('reaches a slow reader whole and in order, the scan held back, memory flat', async () => {
    const scan = watchScans(server.store, 'scanItems')
    const before = memory()
    const response = await bigListing()
    expect(response.statusCode).toBe(200)

    const reader = new FrameReader('items')
    let received = 0
    let ahead = 0
    let peak = before
    for await (const piece of response.body) {
      for (const record of reader.push(piece as Buffer)) {
        expectBig(record, received++)
        if (received % 25 !== 0) continue

        // Stop reading for a while: the scan must wait rather than buffer the rest, so
        // it can be ahead of the reader only by what the socket buffers hold.
        await sleep(100)
        ahead = Math.max(ahead, scan.records - received)
        const now = memory()
        peak = { rss: Math.max(peak.rss, now.rss), live: Math.max(peak.live, now.live) }
      }
    }

    expect(received).toBe(BIG_RECORDS)
    expect(reader.partial).toBe(false)
    expect(ahead).toBeLessThan(BIG_RECORDS / 4)
    expect(peak.live - before.live).toBeLessThan(BIG_BYTES / 3)
    expect(peak.rss - before.rss).toBeLessThan(BIG_BYTES / 3)
  })

  it('sends the headers and the first records before the scan has read most of it', async () => {
    const scan = watchScans(server.store, 'scanItems')
    const response = await bigListing()
    const atHeaders = scan.records

    const reader = new FrameReader('items')
    let received = 0
    let atFirst: ScanWatch | undefined
    for await (const piece of response.body) {
      const records = reader.push(piece as Buffer)
      if (records.length > 0 && !atFirst) atFirst = { ...scan }
      received += records.length
    }

    expect(atHeaders).toBeLessThan(BIG_RECORDS / 2)
    expect(atFirst?.done).toBe(false)
    expect(atFirst?.records).toBeLessThan(BIG_RECORDS / 2)
    expect(received).toBe(BIG_RECORDS)
  })

  it('stops the scan when the client disconnects midway, and serves on', async () => {
    const scan = watchScans(server.store, 'scanItems')
    const response = await bigListing()
    let received = 0
    for await (const piece of response.body) {
      received += (piece as Buffer).length
      if (received > 4 * MIB) break
    }

    await until(() => scan.closed === true)
    expect(scan.done).toBe(false)
    expect(scan.records).toBeLessThan(BIG_RECORDS / 2)
    expect((await call(url, 'GET', '/count?prefix=big/')).json()).toEqual({ count: BIG_RECORDS })
  })
})

describe('a listing while writes run', () => {
  const LIVE = 4000
  const STEP_OPS = 20
  const WRITE_EVERY = 256 * 1024
  const liveKey = (i: number) => `live/${String(i).padStart(5, '0')}`
  const liveValue = (key: string) => key.repeat(820)

  /** Puts of new keys between the existing ones and deletes of others, shuffled. */
  function writes(): { ops: TestRecord[]; doomed: Set<string>; added: Set<string> } {
    const ops: TestRecord[] = []
    for (let i = 0; i < LIVE; i++) {
      if (i % 4 === 1) ops.push({ key: Buffer.from(liveKey(i)), value: null })
      if (i % 4 === 3) ops.push(put(`${liveKey(i)}+`, liveValue(`${liveKey(i)}+`)))
    }
    // A fixed shuffle, so that writes land both behind and ahead of the scan.
    let seed = 7
    for (let i = ops.length - 1; i > 0; i--) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
      const j = seed % (i + 1)
      ;[ops[i], ops[j]] = [ops[j] as TestRecord, ops[i] as TestRecord]
    }
    const names = (deletes: boolean) =>
      new Set(ops.filter((op) => (op.value === null) === deletes).map((op) => String(op.key)))
    return { ops, doomed: names(true), added: names(false) }
  }

  async function apply(ops: readonly TestRecord[]): Promise<void> {
    const answers = await Promise.all(
      ops.map(({ key, value }) =>
        call(url, value === null ? 'DELETE' : 'PUT', `/kv/${key}`, value ? { body: value } : {}),
      ),
    )
    for (const answer of answers) expect(answer.status).toBeLessThan(300)
  }

  /** Every key that is stored or deleted during the listing, or stays throughout. */
  function fates(doomed: Set<string>, added: Set<string>) {
    const all = Array.from({ length: LIVE }, (_, i) => liveKey(i))
    const stable = new Set(all.filter((key) => !doomed.has(key)))
    return { stable, maybe: new Set([...doomed, ...added]) }
  }

  for (const reverse of [false, true]) {
    const order = reverse ? 'in descending order' : 'in order'
    it(`lists every key that exists throughout exactly once, ${order}`, async () => {
      const initial = Array.from({ length: LIVE }, (_, i) => put(liveKey(i), liveValue(liveKey(i))))
      await load(url, initial)
      const { ops, doomed, added } = writes()
      const scan = watchScans(server.store, 'scanItems')

      const query = `prefix=live/${reverse ? '&reverse' : ''}`
      const response = await request(`${url}/items?${query}`, { headers: { accept: FRAMES } })
      expect(response.statusCode).toBe(200)
      const reader = new FrameReader('items')
      const seen: string[] = []
      let [bytes, nextWrites, done, duringScan] = [0, WRITE_EVERY, 0, 0]
      for await (const piece of response.body) {
        bytes += (piece as Buffer).length
        for (const { key, value } of reader.push(piece as Buffer)) {
          seen.push(String(key))
          expect(String(value)).toBe(liveValue(String(key)))
        }
        if (bytes < nextWrites || done >= ops.length) continue

        // A few writes while the rest of the listing waits.
        nextWrites += WRITE_EVERY
        const slice = ops.slice(done, done + STEP_OPS)
        done += slice.length
        if (!scan.done) duringScan += slice.length
        await apply(slice)
      }
      await apply(ops.slice(done))
      expect(reader.partial).toBe(false)
      expect(duringScan).toBeGreaterThan(ops.length / 4)

      const ordered = [...seen].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
      expect(seen).toEqual(reverse ? ordered.reverse() : ordered)
      expect(new Set(seen).size).toBe(seen.length)
      const { stable, maybe } = fates(doomed, added)
      expect(seen.filter((key) => !stable.has(key) && !maybe.has(key))).toEqual([])
      expect(seen.filter((key) => stable.has(key))).toHaveLength(stable.size)

      expect((await call(url, 'DELETE', '/keys?prefix=live/')).status).toBe(200)
    })
  }
})

describe('a listing that fails', () => {
  const FAILING = 2500

  beforeAll(async () => {
    await load(
      url,
      Array.from({ length: FAILING }, (_, i) => put(`fail/${String(i).padStart(5, '0')}`, 'v')),
    )
  })

  /** The first page as it is, then the store fails. */
  async function* failAfterFirstPage(pages: AsyncIterable<unknown[]>) {
    for await (const page of pages) {
      yield page
      // Let the first page reach the socket before the failure.
      await nextTurn()
      throw new Error('the disk went away')
    }
  }

  for (const accept of ['application/x-ndjson', 'application/json', FRAMES]) {
    it(`cuts the connection on a failure after the first byte (${accept})`, async () => {
      watchScans(server.store, 'scanKeys', failAfterFirstPage)
      const response = await request(`${url}/keys?prefix=fail/`, { headers: { accept } })
      expect(response.statusCode).toBe(200)
      let received = 0
      const reading = (async () => {
        for await (const piece of response.body) received += (piece as Buffer).length
      })()
      // undici's word for a body whose connection closed before its end.
      await expect(reading).rejects.toMatchObject({ code: 'UND_ERR_SOCKET' })
      expect(received).toBeGreaterThan(0)
      expect(received).toBeLessThan(FAILING * 10)

      vi.restoreAllMocks()
      expect((await call(url, 'GET', '/count?prefix=fail/')).json()).toEqual({ count: FAILING })
    })
  }

  it('answers with a coded error when the scan fails before the first byte', async () => {
    watchScans(server.store, 'scanItems', async function* (pages) {
      for await (const page of pages) {
        if (page.length > 0) throw new ParkdError('STORAGE_IO_ERROR')
        yield page
      }
    })
    const answer = await call(url, 'GET', '/items?prefix=fail/')
    expect(answer.status).toBe(503)
    expect(answer.json()).toMatchObject({ statusCode: 503, code: 'STORAGE_IO_ERROR' })
  })
})
