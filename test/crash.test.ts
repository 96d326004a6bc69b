/**
 * Faults for real: the built server is killed with SIGKILL in the middle of work, then
 * the file is reopened and checked: integrity, and every acknowledged write present
 * with its exact value. And a graceful stop under load loses no answered write.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import { Pool } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { killAll, startProcess, type RunningServer } from './helpers/process.js'
import { tempDir } from './helpers/server.js'

const dirs: string[] = []
afterEach(() => {
  killAll()
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

function dbPath(): string {
  const dir = tempDir('parkd-crash-')
  dirs.push(dir)
  return path.join(dir, 'park.db')
}

type Acknowledged = Map<string, Buffer>

/**
 * Runs `clients` loops of PUTs of unique keys until `stop()` is called or the server
 * goes away; returns the writes the server acknowledged with 201.
 */
function writeLoad(server: RunningServer, clients: number) {
  const pool = new Pool(server.url, { connections: clients, pipelining: 1 })
  const acknowledged: Acknowledged = new Map()
  let running = true

  const loop = async (client: number) => {
    for (let seq = 0; running; seq++) {
      const key = `c${client}/${seq}`
      const value = crypto.randomBytes(32 + (seq % 200))
      try {
        const answer = await pool.request({ path: `/kv/${key}`, method: 'PUT', body: value })
        await answer.body.dump()
        if (answer.statusCode === 201) acknowledged.set(key, value)
        else if (answer.statusCode >= 500 && answer.statusCode !== 503) {
          throw new Error(`unexpected ${answer.statusCode}`)
        }
      } catch (error) {
        if ((error as Error).message.startsWith('unexpected')) throw error
        return
      }
    }
  }
  const done = Promise.all(Array.from({ length: clients }, (_, i) => loop(i)))
  return {
    acknowledged,
    stop: async () => {
      running = false
      await done
      await pool.destroy()
    },
  }
}

function checkFile(file: string, acknowledged: Acknowledged): void {
  const db = new Database(file)
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok')
    const read = db.prepare('SELECT value FROM kv WHERE key = ?').pluck()
    for (const [key, value] of acknowledged) {
      expect((read.get(Buffer.from(key)) as Buffer | undefined)?.equals(value), key).toBe(true)
    }
  } finally {
    db.close()
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('crashes and stops', () => {
  it('keeps every acknowledged PUT when SIGKILLed under load from many clients', async () => {
    const file = dbPath()
    const server = await startProcess(['--db', file])
    const load = writeLoad(server, 32)
    await pause(1500)

    server.child.kill('SIGKILL')
    await server.exited
    await load.stop()

    expect(load.acknowledged.size).toBeGreaterThan(100)
    checkFile(file, load.acknowledged)

    // The file opens again as a parkd database after the crash.
    const again = await startProcess(['--db', file])
    again.child.kill('SIGTERM')
    expect(await again.exited).toBe(0)
  })

  it('stops on SIGTERM under load in time: exit 0, no write lost, WAL folded', async () => {
    const file = dbPath()
    const server = await startProcess(['--db', file, '--sync', 'full'])
    const load = writeLoad(server, 50)
    await pause(1000)

    const signalled = Date.now()
    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
    expect(Date.now() - signalled).toBeLessThan(10_000)
    await load.stop()

    expect(fs.existsSync(`${file}-wal`)).toBe(false)
    expect(load.acknowledged.size).toBeGreaterThan(10)
    checkFile(file, load.acknowledged)
  })
})
