import { PassThrough } from 'node:stream'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existing, FRAMES, NDJSON, postBatch, sleep, valueOf } from './helpers/batch.js'
import { cutAt, del, frames, ndjson, put } from './helpers/records.js'
import { startServer, type TestServer } from './helpers/server.js'

let server: TestServer
let url: string

beforeAll(async () => {
  server = await startServer()
  url = server.url
})
afterAll(async () => {
  await server.close()
})

describe('POST /batch', () => {
  it('stores NDJSON puts and deletes and answers how many of each were applied', async () => {
    await postBatch(url, ndjson([put('n/gone', 'x')]), { type: NDJSON })
    const body = ndjson([put('n/a', 'one'), put('n/b', 'two'), del('n/gone'), del('n/never')])

    const answer = await postBatch(url, body, { type: NDJSON })
    expect(answer).toEqual({ status: 200, body: { put: 2, deleted: 2 } })
    expect(await valueOf(url, 'n/a')).toBe('one')
    expect(await valueOf(url, 'n/b')).toBe('two')
    expect(await valueOf(url, 'n/gone')).toBeUndefined()
  })

  it('stores frames with any bytes, and deletes by a value length of 0xFFFFFFFF', async () => {
    const key = Buffer.from([0x66, 0x00, 0xff])
    const records = [{ key, value: Buffer.from([0, 1, 2, 255]) }, put('f/empty', ''), del('f/x')]

    const answer = await postBatch(url, frames(records), { type: FRAMES })
    expect(answer).toEqual({ status: 200, body: { put: 2, deleted: 1 } })
    const stored = await request(`${url}/kv/f%00%FF`)
    expect(Buffer.from(await stored.body.arrayBuffer())).toEqual(Buffer.from([0, 1, 2, 255]))
    expect(await valueOf(url, 'f/empty')).toBe('')
  })

  it('applies records in order, so that the last record for a key wins', async () => {
    const records = [put('w/k', '1'), put('w/k', '2'), del('w/k'), put('w/k', '3'), put('w/d', '1')]
    const answer = await postBatch(url, frames([...records, del('w/d')]), { type: FRAMES })

    expect(answer.body).toEqual({ put: 4, deleted: 2 })
    expect(await valueOf(url, 'w/k')).toBe('3')
    expect(await valueOf(url, 'w/d')).toBeUndefined()
  })

  it('takes key and key_b64 mixed freely, with a charset parameter on the type', async () => {
    const body = [
      '{"key":"m/a","value":"text"}',
      `{"key_b64":"${Buffer.from('m/b').toString('base64')}","value":"b"}`,
      '',
      `{"key":"m/c","value_b64":"${Buffer.from('bytes').toString('base64')}"}`,
    ].join('\n')

    const answer = await postBatch(url, body, { type: 'Application/X-NDJSON; charset=utf-8' })
    expect(answer.body).toEqual({ put: 3, deleted: 0 })
    expect(await existing(url, ['m/a', 'm/b', 'm/c'])).toEqual(['m/a', 'm/b', 'm/c'])
    expect(await valueOf(url, 'm/c')).toBe('bytes')
  })

  it('answers zero counts for an empty body', async () => {
    expect(await postBatch(url, '', { type: FRAMES })).toEqual({
      status: 200,
      body: { put: 0, deleted: 0 },
    })
  })

  for (const [format, type, encode] of [
    ['NDJSON', NDJSON, ndjson],
    ['frames', FRAMES, frames],
  ] as const) {
    it(`stores ${format} records split across chunked pieces at odd offsets`, async () => {
      const records = Array.from({ length: 50 }, (_, i) =>
        put(`c/${format}/${i}`, `v${i}`.repeat(i)),
      )
      const body = encode(records)
      const cuts = Array.from({ length: 60 }, (_, i) => (i * 37 + 5) % body.length)
      async function* pieces() {
        for (const piece of cutAt(body, cuts)) {
          yield piece
          // Let each piece travel as its own chunk rather than be coalesced.
          await sleep(1)
        }
      }

      const answer = await postBatch(url, pieces(), { type })
      expect(answer.body).toEqual({ put: 50, deleted: 0 })
      expect(await valueOf(url, `c/${format}/49`)).toBe('v49'.repeat(49))
      expect(
        await existing(
          url,
          records.map((r) => r.key.toString()),
        ),
      ).toHaveLength(50)
    })
  }
})

describe('what POST /batch refuses before reading the body', () => {
  for (const type of [undefined, 'text/plain', 'application/json', 'application/x-ndjsonx']) {
    it(`answers 415 for Content-Type ${type ?? '(none)'}`, async () => {
      const answer = await postBatch(url, ndjson([put('t/415', 'x')]), { type })
      expect(answer.status).toBe(415)
      expect(answer.body.code).toBe('UNSUPPORTED_MEDIA_TYPE')
      expect(await valueOf(url, 't/415')).toBeUndefined()
    })
  }

  for (const query of ['?atomic=yes', '?atomic=2', '?atomic=1&atomic=0', '?limit=3', '?x']) {
    it(`answers 400 INVALID_QUERY for ${query}`, async () => {
      const answer = await postBatch(url, ndjson([put('t/400', 'x')]), { type: NDJSON, query })
      expect(answer.status).toBe(400)
      expect(answer.body.code).toBe('INVALID_QUERY')
      expect(await valueOf(url, 't/400')).toBeUndefined()
    })
  }

  for (const query of [
    '?atomic',
    '?atomic=1',
    '?atomic=true',
    '?atomic=tru%65',
    '?atomic=0',
    '?atomic=false',
  ]) {
    it(`takes ${query} as a flag`, async () => {
      const answer = await postBatch(url, ndjson([put('t/flag', 'x')]), { type: NDJSON, query })
      expect(answer).toEqual({ status: 200, body: { put: 1, deleted: 0 } })
    })
  }
})

describe('chunked commits', () => {
  it('stores the first chunk of records while the upload is still arriving', async () => {
    const upload = new PassThrough()
    const answer = postBatch(url, upload, { type: FRAMES })
    const first = Array.from({ length: 10_000 }, (_, i) => put(`chunk/${i}`, 'v'))
    upload.write(frames(first))
    upload.write(frames([put('chunk/last', 'v')]).subarray(0, 5))

    let stored: string | undefined
    for (let tries = 0; tries < 100 && stored === undefined; tries++) {
      await sleep(20)
      stored = await valueOf(url, 'chunk/9999')
    }
    expect(stored).toBe('v')
    expect(await valueOf(url, 'chunk/last')).toBeUndefined()

    upload.end(frames([put('chunk/last', 'v')]).subarray(5))
    expect((await answer).body).toEqual({ put: 10_001, deleted: 0 })
  })
})

describe('atomic batches', () => {
  it('stores every record when the batch succeeds', async () => {
    const records = [put('a/1', 'one'), put('a/2', 'two'), del('a/1')]
    const answer = await postBatch(url, frames(records), { type: FRAMES, query: '?atomic=true' })
    expect(answer.body).toEqual({ put: 2, deleted: 1 })
    expect(await existing(url, ['a/1', 'a/2'])).toEqual(['a/2'])
  })

  it('stores nothing when a record is bad, and says so with committed 0', async () => {
    await postBatch(url, ndjson([put('af/1', 'before')]), { type: NDJSON })
    const body = Buffer.concat([ndjson([put('af/1', 'after'), put('af/2', 'x')]), Buffer.from('{')])

    const answer = await postBatch(url, body, { type: NDJSON, query: '?atomic' })
    expect(answer.status).toBe(400)
    expect(answer.body).toMatchObject({ code: 'BAD_RECORD', index: 2, committed: 0 })
    expect(await valueOf(url, 'af/1')).toBe('before')
    expect(await valueOf(url, 'af/2')).toBeUndefined()
  })

  it('serves readers while an upload is paused; a PUT sent meanwhile runs after it', async () => {
    await postBatch(url, ndjson([put('p/x', 'old')]), { type: NDJSON })
    const upload = new PassThrough()
    const answer = postBatch(url, upload, { type: NDJSON, query: '?atomic' })
    upload.write(ndjson([put('p/x', 'batch'), put('p/y', 'batch')]))
    await sleep(100)

    expect(await valueOf(url, 'p/x')).toBe('old')
    let putDone = false
    const later = request(`${url}/kv/p/y`, { method: 'PUT', body: 'put' }).then(async (r) => {
      await r.body.dump()
      putDone = true
      return r.statusCode
    })
    await sleep(150)
    expect(putDone).toBe(false)
    expect(await valueOf(url, 'p/y')).toBeUndefined()

    upload.end(ndjson([put('p/z', 'batch')]))
    expect((await answer).body).toEqual({ put: 3, deleted: 0 })
    expect(await later).toBe(204)
    expect(await valueOf(url, 'p/x')).toBe('batch')
    expect(await valueOf(url, 'p/y')).toBe('put')
  })
})
