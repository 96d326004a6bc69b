/**
 * A batch upload of over a gigabyte, generated on the fly, streamed into the built
 * server running as its own process, whose resident memory is sampled meanwhile: it
 * must stay flat, since records are committed in chunks as the upload arrives.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FRAMES, postBatch, sleep } from './helpers/batch.js'
import { call } from './helpers/http.js'
import { killAll, startProcess, type RunningServer } from './helpers/process.js'
import { tempDir } from './helpers/server.js'

const VALUE_BYTES = 256 * 1024
/** Bytes of values to upload; PARKD_TEST_BATCH_BYTES makes the test lighter or heavier. */
const UPLOAD_BYTES = Number(process.env.PARKD_TEST_BATCH_BYTES ?? 1.1e9)
const RECORDS = Math.ceil(UPLOAD_BYTES / VALUE_BYTES)
const MIB = 1024 * 1024

let dir: string
let server: RunningServer

beforeAll(async () => {
  dir = tempDir()
  server = await startProcess(['--db', path.join(dir, 'park.db')])
})
afterAll(() => {
  killAll()
  fs.rmSync(dir, { recursive: true, force: true })
})

const keyOf = (i: number) => Buffer.from(`large/${String(i).padStart(6, '0')}`)

/** 256 KiB that name their record at both ends. */
function valueOf(i: number): Buffer {
  const value = Buffer.allocUnsafe(VALUE_BYTES).fill(i % 251)
  value.writeUInt32BE(i, 0)
  value.writeUInt32BE(i, VALUE_BYTES - 4)
  return value
}

/** Item frames, made one record at a time as the upload asks for them. */
async function* upload(records: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < records; i++) {
    const key = keyOf(i)
    const head = Buffer.alloc(8 + key.length)
    head.writeUInt32BE(key.length, 0)
    key.copy(head, 4)
    head.writeUInt32BE(VALUE_BYTES, 4 + key.length)
    yield head
    yield valueOf(i)
  }
}

/** The resident memory of a process, from /proc (Linux). */
function residentBytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]
  if (kib === undefined) throw new Error(`no VmRSS for process ${pid}`)
  return Number(kib) * 1024
}

/** Samples the resident memory of `pid` until `work` settles; answers the samples. */
async function sampled<T>(
  pid: number,
  work: Promise<T>,
): Promise<{ result: T; samples: number[] }> {
  const samples: number[] = []
  let settled = false
  const watching = (async () => {
    while (!settled) {
      samples.push(residentBytes(pid))
      await sleep(200)
    }
  })()
  try {
    return { result: await work, samples }
  } finally {
    settled = true
    await watching
  }
}

describe.skipIf(process.platform !== 'linux')('a batch of over a gigabyte', () => {
  it('is stored whole while the server memory stays flat', async () => {
    const pid = server.child.pid as number
    // A small batch first, so that the baseline includes a warmed-up server.
    expect((await postBatch(server.url, upload(8), { type: FRAMES })).status).toBe(200)
    const baseline = residentBytes(pid)

    const { result, samples } = await sampled(
      pid,
      postBatch(server.url, upload(RECORDS), { type: FRAMES }),
    )
    expect(result).toEqual({ status: 200, body: { put: RECORDS, deleted: 0 } })

    const growth = Math.max(...samples) - baseline
    expect(samples.length).toBeGreaterThan(5)
    expect(growth).toBeLessThan(256 * MIB)

    expect((await call(server.url, 'GET', '/count?prefix=large/')).json()).toEqual({
      count: RECORDS,
    })
    for (const i of [0, 1, Math.floor(RECORDS / 2), RECORDS - 1]) {
      const stored = await call(server.url, 'GET', `/kv/${keyOf(i)}`)
      expect(stored.status).toBe(200)
      expect(stored.body.equals(valueOf(i))).toBe(true)
    }
  }, 120_000)
})
