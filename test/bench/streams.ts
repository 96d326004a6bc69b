/**
 * Stream clients of the benchmark, on undici: batch uploads of generated records and
 * listings read to the end (or read by a client that stalls), timed from the first
 * byte sent to the last byte answered.
 */
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { request } from 'undici'
import { batchBody, type ChunkOptions } from './dataset.js'

export const MEDIA = { frames: 'application/octet-stream', ndjson: 'application/x-ndjson' }

export type Throughput = { seconds: number; records: number; bytes: number }

const elapsed = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9

export async function upload(url: string, options: ChunkOptions): Promise<Throughput> {
  let bytes = 0
  const counted = async function* () {
    for await (const chunk of batchBody(options)) {
      bytes += chunk.length
      yield chunk
    }
  }

  const start = process.hrtime.bigint()
  const response = await request(`${url}/batch`, {
    method: 'POST',
    headers: { 'content-type': MEDIA[options.format] },
    body: Readable.from(counted(), { objectMode: false }),
  })
  const answer = (await response.body.json()) as { put?: number; deleted?: number }
  const seconds = elapsed(start)

  if (response.statusCode !== 200 || answer.put !== options.count) {
    throw new Error(`batch answered ${response.statusCode}: ${JSON.stringify(answer)}`)
  }
  return { seconds, records: options.count, bytes }
}

export type ReadOptions = {
  format: keyof typeof MEDIA
  /** Records the listing must hold, checked against what came. */
  expectRecords: number
  /** Bytes of one frame, to check a frames listing (every benchmark record is alike). */
  frameBytes?: number
  /** When set, the client reads one chunk and then nothing for this long. */
  stallMs?: number
}

export async function download(url: string, path: string, options: ReadOptions) {
  const start = process.hrtime.bigint()
  const response = await request(`${url}${path}`, {
    headers: { accept: MEDIA[options.format] },
    highWaterMark: 64 * 1024,
  })
  if (response.statusCode !== 200) throw new Error(`${path} answered ${response.statusCode}`)

  let bytes = 0
  let newlines = 0
  let stalled = options.stallMs === undefined
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    bytes += chunk.length
    if (options.format === 'ndjson') newlines += countNewlines(chunk)
    if (!stalled) {
      stalled = true
      await sleep(options.stallMs)
    }
  }
  const seconds = elapsed(start)

  const records =
    options.format === 'ndjson' ? newlines : bytes / (options.frameBytes ?? Number.NaN)
  if (records !== options.expectRecords) {
    throw new Error(`${path} gave ${records} records, not ${options.expectRecords}`)
  }
  return { seconds, records: options.expectRecords, bytes }
}

function countNewlines(chunk: Buffer): number {
  let n = 0
  for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) n++
  return n
}
