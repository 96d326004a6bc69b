/**
 * Listings, counts and range deletes against a model: a sorted array of the stored
 * keys, compared byte-wise. Random binary keys go into one server (reset for each run),
 * then random selections, flags and formats must answer exactly what the model says.
 */
import { isUtf8 } from 'node:buffer'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call } from './helpers/http.js'
import {
  arrayObjects,
  decode,
  list,
  load,
  ndjsonObjects,
  queryValue,
  reset,
  type Format,
  type Kind,
  type Listed,
} from './helpers/listing.js'
import type { TestRecord } from './helpers/records.js'
import { startServer, type TestServer } from './helpers/server.js'

let server: TestServer

beforeAll(async () => {
  server = await startServer()
})
afterAll(async () => {
  await server.close()
})

/** Few distinct bytes, so that keys share prefixes and bounds hit stored keys. */
const BYTES = [0x00, 0x01, 0x20, 0x25, 0x2b, 0x2f, 0x61, 0x62, 0x7f, 0x80, 0xc3, 0xa9, 0xff]
const bytesArb = (minLength: number, maxLength: number) =>
  fc.array(fc.constantFrom(...BYTES), { minLength, maxLength }).map((b) => Buffer.from(b))

/** Mostly small values; now and then one large enough to be read on its own. */
const valueArb = fc.oneof(
  { arbitrary: bytesArb(0, 6), weight: 20 },
  { arbitrary: fc.integer({ min: 16_000, max: 70_000 }).map((n) => Buffer.alloc(n, n)), weight: 1 },
)
const recordsArb = fc.array(
  fc.record({ key: bytesArb(1, 4), value: valueArb }) as fc.Arbitrary<TestRecord>,
  { maxLength: 40 },
)

type Selection = { from?: Buffer; to?: Buffer; after?: Buffer; before?: Buffer; prefix?: Buffer }

/**
 * Bytes for a bound or a prefix: random ones, stored keys, and the first bytes of stored
 * keys, so that bounds often fall exactly on keys and on each other.
 */
function pieceArb(keys: readonly Buffer[], minLength: number): fc.Arbitrary<Buffer> {
  const random = bytesArb(minLength, 3)
  if (keys.length === 0) return random
  const stored = fc.constantFrom(...keys)
  const cut = fc
    .tuple(stored, fc.nat({ max: 4 }))
    .map(([key, length]) => key.subarray(0, Math.max(minLength, length)))
  return fc.oneof(random, stored, cut)
}

function selectionArb(keys: readonly Buffer[]): fc.Arbitrary<Selection> {
  const bound = fc.option(pieceArb(keys, 1), { nil: undefined })
  return fc
    .record({
      lower: fc.constantFrom('from', 'after', 'none'),
      upper: fc.constantFrom('to', 'before', 'none'),
      low: bound,
      high: bound,
      prefix: fc.option(pieceArb(keys, 0), { nil: undefined }),
    })
    .map(({ lower, upper, low, high, prefix }) => ({
      ...(lower !== 'none' && low && { [lower]: low }),
      ...(upper !== 'none' && high && { [upper]: high }),
      ...(prefix && { prefix }),
    }))
}

type Listing = {
  kind: Kind
  format: Format
  selection: Selection
  strip: boolean
  reverse: boolean
  limit?: number
  encoding?: 'utf8' | 'base64'
  /** How flags are spelled: `name`, `name=1` or `name=true`. */
  flag: string
  /** Escape every byte of a bound, not only those that need it. */
  escapeAll: boolean
}

function listingArb(keys: readonly Buffer[]): fc.Arbitrary<Listing> {
  return fc.record({
    kind: fc.constantFrom('keys', 'items'),
    format: fc.constantFrom('ndjson', 'json', 'frames'),
    selection: selectionArb(keys),
    strip: fc.boolean(),
    reverse: fc.boolean(),
    limit: fc.option(fc.nat({ max: 12 }), { nil: undefined }),
    encoding: fc.constantFrom(undefined, 'utf8', 'base64'),
    flag: fc.constantFrom('', '=1', '=true'),
    escapeAll: fc.boolean(),
  })
}

/** Records, and arbitraries that draw on their keys. */
function withKeys<T>(then: (keys: Buffer[]) => fc.Arbitrary<T>) {
  return recordsArb.chain((records) =>
    fc.tuple(fc.constant(records), then(records.map((record) => record.key))),
  )
}

function escaped(bytes: Buffer, all: boolean): string {
  if (!all) return queryValue(bytes)
  return [...bytes].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('')
}

function selectionQuery(selection: Selection, escapeAll = false): string[] {
  return Object.entries(selection).map(([name, bytes]) => `${name}=${escaped(bytes, escapeAll)}`)
}

function listingQuery(listing: Listing): string {
  const { selection, flag, limit, encoding } = listing
  const parts = selectionQuery(selection, listing.escapeAll)
  if (listing.strip && selection.prefix) parts.push(`strip${flag}`)
  if (listing.reverse) parts.push(`reverse${flag}`)
  if (limit !== undefined) parts.push(`limit=${limit}`)
  if (encoding) parts.push(`encoding=${encoding}`)
  return parts.join('&')
}

/** The stored records in key order: the last record for a key wins. */
function modelOf(records: readonly TestRecord[]): Listed[] {
  const byKey = new Map<string, Listed>()
  for (const { key, value } of records) byKey.set(key.toString('hex'), { key, value: value! })
  return [...byKey.values()].sort((a, b) => Buffer.compare(a.key, b.key))
}

function selects(selection: Selection, key: Buffer): boolean {
  const { from, to, after, before, prefix } = selection
  return (
    (!from || Buffer.compare(key, from) >= 0) &&
    (!to || Buffer.compare(key, to) <= 0) &&
    (!after || Buffer.compare(key, after) > 0) &&
    (!before || Buffer.compare(key, before) < 0) &&
    (!prefix || key.subarray(0, prefix.length).equals(prefix))
  )
}

function expected(model: readonly Listed[], listing: Listing): Listed[] {
  const { selection, kind, limit } = listing
  const chosen = model.filter(({ key }) => selects(selection, key))
  if (listing.reverse) chosen.reverse()
  const cut = listing.strip && selection.prefix ? selection.prefix.length : 0
  return chosen.slice(0, limit).map(({ key, value }) => ({
    key: key.subarray(cut),
    ...(kind === 'items' && { value }),
  }))
}

/** Under utf8 a field is text exactly when its bytes are valid UTF-8; under base64 never. */
function checkFieldNames(body: Buffer, listing: Listing, records: readonly Listed[]): void {
  if (listing.format === 'frames') return
  const objects = listing.format === 'json' ? arrayObjects(body) : ndjsonObjects(body)
  const names = (bytes: Buffer, name: string) =>
    listing.encoding !== 'base64' && isUtf8(bytes) ? name : `${name}_b64`

  objects.forEach((object, i) => {
    const { key, value } = records[i] as Listed
    const wanted = [names(key, 'key'), ...(value ? [names(value, 'value')] : [])]
    expect(Object.keys(object as object)).toEqual(wanted)
  })
}

const hexes = (records: readonly Listed[]) =>
  records.map(({ key, value }) => `${key.toString('hex')}=${value?.toString('hex') ?? ''}`)

describe('listings against a sorted model', () => {
  it('answers every listing, count and format exactly as the model', async () => {
    const property = fc.asyncProperty(
      withKeys((keys) => fc.array(listingArb(keys), { minLength: 1, maxLength: 8 })),
      async ([records, listings]) => {
        await reset(server.url)
        await load(server.url, records)
        const model = modelOf(records)

        for (const listing of listings) {
          const query = listingQuery(listing)
          const answer = await list(server.url, listing.kind, query, { format: listing.format })
          expect(answer.status, query).toBe(200)
          const want = expected(model, listing)
          expect(hexes(decode(answer.body, listing.kind, listing.format)), query).toEqual(
            hexes(want),
          )
          checkFieldNames(answer.body, listing, want)

          const count = await call(
            server.url,
            'GET',
            `/count?${selectionQuery(listing.selection).join('&')}`,
          )
          const all = expected(model, { ...listing, limit: undefined })
          expect(count.json(), query).toEqual({ count: all.length })
        }
      },
    )
    await fc.assert(property, { numRuns: 400 })
  })

  it('deletes exactly the selection of the model, and nothing else', async () => {
    const narrowed = (keys: Buffer[]) =>
      selectionArb(keys).filter((s) => Object.values(s).some((b) => b.length > 0))
    const property = fc.asyncProperty(withKeys(narrowed), async ([records, selection]) => {
      await reset(server.url)
      await load(server.url, records)
      const model = modelOf(records)
      const query = selectionQuery(selection).join('&')

      const answer = await call(server.url, 'DELETE', `/keys?${query}`)
      const gone = model.filter(({ key }) => selects(selection, key))
      expect(answer.json(), query).toEqual({ deleted: gone.length })

      const left = await list(server.url, 'items', '', { format: 'frames' })
      const kept = model.filter(({ key }) => !selects(selection, key))
      expect(hexes(decode(left.body, 'items', 'frames')), query).toEqual(hexes(kept))
    })
    await fc.assert(property, { numRuns: 150 })
  })
})
