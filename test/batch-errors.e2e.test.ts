import http from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existing, FRAMES, NDJSON, postBatch, sleep } from './helpers/batch.js'
import { logCollector } from './helpers/logs.js'
import { frames, ndjson, put } from './helpers/records.js'
import { startServer, type TestServer } from './helpers/server.js'

// Small limits, so that records over them are cheap to send.
const limits = { maxKeyBytes: 16, maxValueBytes: 64 }

let server: TestServer
let url: string
const { logTo, lines: logLines } = logCollector()

beforeAll(async () => {
  server = await startServer({ ...limits, logLevel: 'info' }, { logTo })
  url = server.url
})
afterAll(async () => {
  await server.close()
})

const u32 = (n: number) => {
  const bytes = Buffer.alloc(4)
  bytes.writeUInt32BE(n)
  return bytes
}

let batchNumber = 0

/** Two good records, then `bad`, then one more good record, in the given format. */
function around(format: 'ndjson' | 'frames', bad: Buffer) {
  const prefix = `bad${++batchNumber}/`
  const keys = [`${prefix}0`, `${prefix}1`, `${prefix}3`]
  const good = keys.map((key) => put(key, 'v'))
  const encode = format === 'ndjson' ? ndjson : frames
  const separator = format === 'ndjson' ? '\n' : ''
  const body = Buffer.concat([
    encode(good.slice(0, 2)),
    bad,
    Buffer.from(separator),
    encode(good.slice(2)),
  ])
  return { body, keys }
}

type BadCase = [
  what: string,
  format: 'ndjson' | 'frames',
  bad: Buffer,
  code: string,
  status: number,
]

const cases: BadCase[] = [
  ['invalid JSON', 'ndjson', Buffer.from('{"key":'), 'BAD_RECORD', 400],
  ['a record that is not an object', 'ndjson', Buffer.from('"k"'), 'BAD_RECORD', 400],
  ['an unknown field', 'ndjson', Buffer.from('{"key":"k","value":"v","x":1}'), 'BAD_RECORD', 400],
  ['a __proto__ field', 'ndjson', Buffer.from('{"key":"k","__proto__":{}}'), 'BAD_RECORD', 400],
  ['bad base64', 'ndjson', Buffer.from('{"key":"k","value_b64":"a_b-"}'), 'BAD_RECORD', 400],
  ['a missing key', 'ndjson', Buffer.from('{"value":"v"}'), 'BAD_RECORD', 400],
  ['an empty key', 'ndjson', Buffer.from('{"key":"","value":"v"}'), 'BAD_RECORD', 400],
  [
    'key and key_b64',
    'ndjson',
    Buffer.from('{"key":"k","key_b64":"aw==","delete":true}'),
    'BAD_RECORD',
    400,
  ],
  [
    'value and delete',
    'ndjson',
    Buffer.from('{"key":"k","value":"v","delete":true}'),
    'BAD_RECORD',
    400,
  ],
  ['delete that is not true', 'ndjson', Buffer.from('{"key":"k","delete":1}'), 'BAD_RECORD', 400],
  ['invalid UTF-8', 'ndjson', Buffer.from([0x7b, 0xff, 0x7d]), 'BAD_RECORD', 400],
  [
    'a key over the limit',
    'ndjson',
    Buffer.from(`{"key":"${'k'.repeat(17)}","value":""}`),
    'KEY_TOO_LARGE',
    413,
  ],
  [
    'a value over the limit',
    'ndjson',
    Buffer.from(`{"key":"k","value":"${'v'.repeat(65)}"}`),
    'VALUE_TOO_LARGE',
    413,
  ],
  [
    'a line longer than any record needs',
    'ndjson',
    Buffer.alloc(2000, 0x20),
    'VALUE_TOO_LARGE',
    413,
  ],
  [
    'a key length of 0',
    'frames',
    Buffer.concat([u32(0), u32(1), Buffer.from('v')]),
    'BAD_RECORD',
    400,
  ],
  [
    'a key length over the limit',
    'frames',
    Buffer.concat([u32(17), Buffer.alloc(17), u32(0)]),
    'KEY_TOO_LARGE',
    413,
  ],
  [
    'a value length over the limit',
    'frames',
    Buffer.concat([u32(1), Buffer.from('k'), u32(65)]),
    'VALUE_TOO_LARGE',
    413,
  ],
]

describe('a batch with a bad record', () => {
  for (const [what, format, bad, code, status] of cases) {
    it(`stops at ${what} in ${format}: ${status} ${code}, what came before stored`, async () => {
      const { body, keys } = around(format, bad)
      const answer = await postBatch(url, body, { type: format === 'ndjson' ? NDJSON : FRAMES })

      expect(answer.status).toBe(status)
      expect(answer.body).toMatchObject({ code, index: 2, committed: 2 })
      expect(answer.body.message).toMatch(/^record 2: /)
      expect(await existing(url, keys)).toEqual(keys.slice(0, 2))
    })
  }

  it('stops at a frame cut short by the end of the body, storing what came before', async () => {
    const body = frames([put('cut/0', 'v'), put('cut/1', 'v'), put('cut/2', 'value')])
    const answer = await postBatch(url, body.subarray(0, body.length - 2), { type: FRAMES })

    expect(answer.status).toBe(400)
    expect(answer.body).toMatchObject({ code: 'BAD_RECORD', index: 2, committed: 2 })
    expect(await existing(url, ['cut/0', 'cut/1', 'cut/2'])).toEqual(['cut/0', 'cut/1'])
  })

  it('counts records, not blank lines, in the index', async () => {
    const body = Buffer.from('\n{"key":"blank/0","value":"v"}\n\n\n{"nope":1}\n')
    const answer = await postBatch(url, body, { type: NDJSON })
    expect(answer.body).toMatchObject({ code: 'BAD_RECORD', index: 1, committed: 1 })
  })
})

describe('an upload that breaks off', () => {
  /** Sends `body`, waits until the server has it, then cuts the connection. */
  async function sendAndCut(path: string, body: Buffer): Promise<void> {
    const client = http.request(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': FRAMES, 'transfer-encoding': 'chunked' },
    })
    client.on('error', () => {})
    client.write(body)
    await sleep(150)
    client.destroy()
  }

  async function brokeOffLog(prefix: string): Promise<Record<string, unknown>> {
    for (let tries = 0; tries < 100; tries++) {
      const line = logLines.find((l) => l.msg === 'batch upload broke off' && l.prefix === prefix)
      if (line) return line
      const next = logLines.find((l) => l.msg === 'batch upload broke off' && !l.prefix)
      if (next) {
        next.prefix = prefix
        return next
      }
      await sleep(20)
    }
    throw new Error('no log line for the broken upload')
  }

  const keysOf = (prefix: string, count: number) =>
    Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(3, '0')}`)

  it('stores a gapless prefix of complete records, logs it, and keeps serving', async () => {
    const keys = keysOf('broken/', 101)
    const body = frames(keys.map((key) => put(key, 'value')))
    await sendAndCut('/batch', body.subarray(0, body.length - 3))

    const log = await brokeOffLog('broken/')
    expect(log).toMatchObject({ level: 30, op: 'batch', records: 100 })
    expect(await existing(url, keys)).toEqual(keys.slice(0, 100))
    expect((await postBatch(url, ndjson([put('after', 'v')]), { type: NDJSON })).status).toBe(200)
  })

  it('stores nothing of an atomic batch', async () => {
    const keys = keysOf('cut-atomic/', 101)
    const body = frames(keys.map((key) => put(key, 'value')))
    await sendAndCut('/batch?atomic', body.subarray(0, body.length - 3))

    const log = await brokeOffLog('cut-atomic/')
    expect(log).toMatchObject({ op: 'batch', records: 0, atomic: true })
    expect(await existing(url, keys)).toEqual([])
    expect((await postBatch(url, ndjson([put('after', 'v')]), { type: NDJSON })).status).toBe(200)
  })
})
