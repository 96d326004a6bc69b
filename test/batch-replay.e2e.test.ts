/**
 * The output of GET /items is exactly what POST /batch reads: a listing replayed into
 * an empty server gives back the same listing, byte for byte, in each format.
 */
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FRAMES, NDJSON, postBatch } from './helpers/batch.js'
import { call } from './helpers/http.js'
import { load, reset } from './helpers/listing.js'
import type { TestRecord } from './helpers/records.js'
import { startServer, type TestServer } from './helpers/server.js'

let source: TestServer
let target: TestServer

const text = (key: string, value: string): TestRecord => ({
  key: Buffer.from(key),
  value: Buffer.from(value),
})

/** Keys and values of every kind a listing has to carry through. */
const RECORDS: TestRecord[] = [
  text('plain', 'value'),
  text('empty', ''),
  text('json/quotes', '"quoted" \\ back\nslash\ttab\r'),
  text('unicode/é', 'ünïcödé, 漢字, 🦊'),
  text('unicode/separators', '\u2028\u2029\u0000\u007f'),
  text('space key', ' leading and trailing '),
  { key: Buffer.from([0x00]), value: Buffer.from([0xff, 0xfe, 0x00]) },
  { key: Buffer.from([0xff, 0xff]), value: Buffer.alloc(0) },
  { key: Buffer.from([0x62, 0xc3, 0x28]), value: Buffer.from('bad UTF-8 in the key') },
  { key: Buffer.from('bad/value'), value: Buffer.from([0xed, 0xa0, 0x80]) },
  { key: Buffer.from('large/inline'), value: Buffer.alloc(16 * 1024, 0x80) },
  { key: Buffer.from('large/apart'), value: Buffer.alloc(100 * 1024 + 3, 'ab') },
  ...Array.from({ length: 600 }, (_, i) => text(`many/${String(i).padStart(4, '0')}`, `#${i}`)),
]

beforeAll(async () => {
  source = await startServer()
  target = await startServer()
  await load(source.url, RECORDS)
})
afterAll(async () => {
  await source.close()
  await target.close()
})

async function items(url: string, accept: string, query: string): Promise<Buffer> {
  const answer = await call(url, 'GET', `/items${query}`, { headers: { accept } })
  expect(answer.status).toBe(200)
  return answer.body
}

const replays = [
  { name: 'NDJSON with utf8', accept: NDJSON, query: '' },
  { name: 'NDJSON with base64', accept: NDJSON, query: '?encoding=base64' },
  { name: 'frames', accept: FRAMES, query: '' },
]

describe('replaying GET /items into POST /batch', () => {
  for (const { name, accept, query } of replays) {
    it(`gives back the same listing, byte for byte, in ${name}`, async () => {
      await reset(target.url)
      const listing = await items(source.url, accept, query)

      // Piped straight through, as `curl .../items | curl -T - .../batch` would.
      const streamed = await request(`${source.url}/items${query}`, { headers: { accept } })
      const answer = await postBatch(target.url, streamed.body, { type: accept })
      expect(answer).toEqual({ status: 200, body: { put: RECORDS.length, deleted: 0 } })

      expect((await items(target.url, accept, query)).equals(listing)).toBe(true)
      const frames = await items(target.url, FRAMES, '')
      expect(frames.equals(await items(source.url, FRAMES, ''))).toBe(true)
    })
  }

  it('carries keys that are not UTF-8 as key_b64 and the rest as text', async () => {
    const lines = (await items(source.url, NDJSON, '?prefix=b')).toString().split('\n')
    expect(lines.slice(0, 2)).toEqual([
      '{"key":"bad/value","value_b64":"7aCA"}',
      '{"key_b64":"YsMo","value":"bad UTF-8 in the key"}',
    ])
  })
})
