import fs from 'node:fs'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { request } from 'undici'
import { percentEncodeBytes } from '../src/wire/percent.js'
import { SqliteStore } from '../src/store/sqlite.js'
import { startServer, tempDir, type TestServer } from './helpers/server.js'

let server: TestServer
let backupTmp: string
/** Every record written before the backup starts, by hex key. */
const before = new Map<string, Buffer>()

function record(i: number): { key: Buffer; value: Buffer } {
  // Binary keys (0x00, 0xFF) and values of a few KiB, so the copy spans many pages.
  const key = Buffer.concat([Buffer.from([0xff, i % 256, 0x00]), Buffer.from(`rec-${i}`)])
  const value = Buffer.alloc(4096 + (i % 97), i % 251)
  value.write(`value of ${i}`)
  return { key, value }
}

beforeAll(async () => {
  server = await startServer()
  const batch = await server.store.batch()
  const records = Array.from({ length: 3000 }, (_, i) => record(i))
  await batch.write(records)
  await batch.commit()
  for (const { key, value } of records) before.set(key.toString('hex'), value)

  const viaHttp = record(100_000)
  const put = await request(`${server.url}/kv/${percentEncodeBytes(viaHttp.key)}`, {
    method: 'PUT',
    body: viaHttp.value,
  })
  await put.body.dump()
  expect(put.statusCode).toBe(201)
  before.set(viaHttp.key.toString('hex'), viaHttp.value)
})
afterAll(async () => {
  await server.close()
})

beforeEach(() => {
  backupTmp = tempDir('parkd-backup-tmp-')
  vi.stubEnv('TMPDIR', backupTmp)
})
afterEach(() => {
  vi.unstubAllEnvs()
  fs.rmSync(backupTmp, { recursive: true, force: true })
})

/** Writes and reads in a loop until stopped; answers how many of each succeeded when. */
function keepServing() {
  let running = true
  const done: number[] = []
  const loop = (async () => {
    for (let i = 0; running; i++) {
      const put = await request(`${server.url}/kv/during-${i}`, { method: 'PUT', body: `v${i}` })
      await put.body.dump()
      const get = await request(`${server.url}/kv/during-${i}`)
      await get.body.dump()
      if (put.statusCode !== 201 || get.statusCode !== 200) throw new Error('serving failed')
      done.push(performance.now())
    }
  })()
  return {
    done,
    stop: async () => {
      running = false
      await loop
    },
  }
}

function openFds(): string[] {
  return fs.readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      return [fs.readlinkSync(`/proc/self/fd/${fd}`)]
    } catch {
      return []
    }
  })
}

describe('GET /backup', () => {
  it('streams a consistent SQLite copy while reads and writes go on', async () => {
    const download = path.join(server.dir, 'copy.db')
    const serving = keepServing()
    await new Promise((resolve) => setTimeout(resolve, 20))

    const asked = performance.now()
    const response = await request(`${server.url}/backup`)
    const answered = performance.now()
    await pipeline(response.body, fs.createWriteStream(download))
    await serving.stop()

    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toBe('application/vnd.sqlite3')
    expect(response.headers['content-disposition']).toMatch(
      /^attachment; filename="parkd-\d{8}T\d{6}Z\.db"$/,
    )
    expect(Number(response.headers['content-length'])).toBe(fs.statSync(download).size)
    expect(serving.done.filter((t) => t > asked && t < answered).length).toBeGreaterThan(0)

    const copy = SqliteStore.open({ path: download })
    try {
      for (const [hex, value] of before) {
        const stored = await copy.get(Buffer.from(hex, 'hex'))
        expect(stored?.value.equals(value), hex).toBe(true)
      }
    } finally {
      await copy.close()
    }
    expect(fs.readdirSync(backupTmp)).toEqual([])
  })

  it('leaves no file or open descriptor behind when the client hangs up midway', async () => {
    const fdsBefore = openFds().filter((target) => target.includes(backupTmp)).length
    const controller = new AbortController()
    const response = await request(`${server.url}/backup`, { signal: controller.signal })
    expect(response.statusCode).toBe(200)

    const read = (async () => {
      for await (const chunk of response.body) {
        expect(chunk.length).toBeGreaterThan(0)
        controller.abort()
      }
    })()
    await expect(read).rejects.toThrow()

    await vi.waitFor(() => {
      expect(openFds().filter((target) => target.includes(backupTmp)).length).toBe(fdsBefore)
    })
    expect(fs.readdirSync(backupTmp)).toEqual([])

    const health = await request(`${server.url}/healthz`)
    expect(await health.body.json()).toEqual({ status: 'ok' })
  })

  it('does not take a backup for HEAD: 405 with Allow: GET', async () => {
    const response = await request(`${server.url}/backup`, { method: 'HEAD' })
    await response.body.dump()
    expect(response.statusCode).toBe(405)
    expect(response.headers.allow).toBe('GET')
    expect(fs.readdirSync(backupTmp)).toEqual([])
  })
})
