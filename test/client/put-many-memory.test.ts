/**
 * A million records through putMany with the server in a child process (the built
 * dist/main.js), so that this process's memory is the client's alone.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ParkdClient, type BatchEntry } from '../../src/client/index.js'
import { killAll, startProcess, type RunningServer } from '../helpers/process.js'
import { tempDir } from '../helpers/server.js'

const MiB = 1024 * 1024
const RECORDS = 1_000_000

let dir: string
let server: RunningServer
let client: ParkdClient

beforeAll(async () => {
  dir = tempDir()
  server = await startProcess(['--db', path.join(dir, 'park.db')])
  client = new ParkdClient({ url: server.url })
})
afterAll(async () => {
  await client.close()
  server.child.kill('SIGTERM')
  await server.exited
  killAll()
  fs.rmSync(dir, { recursive: true, force: true })
})

/** The memory that buffered records would take: JS objects and Buffer bytes. */
function used(): number {
  const { heapUsed, arrayBuffers } = process.memoryUsage()
  return heapUsed + arrayBuffers
}

const keyOf = (i: number) => Buffer.from(String(i).padStart(16, '0'))
const valueOf = (i: number) => Buffer.from(`value ${String(i).padStart(10, '0')}`)

describe('putMany of a million records', () => {
  it('streams them from a generator with flat memory, and stores every one', async () => {
    const samples: number[] = []
    function* records(): Generator<BatchEntry> {
      for (let i = 0; i < RECORDS; i++) {
        if (i % 10_000 === 0) samples.push(used())
        yield [keyOf(i), valueOf(i)]
      }
    }

    const baseline = used()
    const answer = await client.putMany(records())
    const peak = Math.max(...samples) - baseline

    expect(answer).toEqual({ put: RECORDS, deleted: 0 })
    expect(samples.length).toBe(RECORDS / 10_000)
    // The frames alone come to 40 MB; what stays below is garbage between collections.
    expect(peak).toBeLessThan(32 * MiB)
    expect(await client.count()).toBe(RECORDS)
    for (const i of [0, 1, 499_999, RECORDS - 1]) {
      expect(await client.get(keyOf(i))).toEqual(valueOf(i))
    }
  })
})
