/**
 * The soak in its short form: a few seconds of the mixed load of `npm run soak`
 * against the built server, with the same checks.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { killAll, startProcess } from './helpers/process.js'
import { tempDir } from './helpers/server.js'
import { runSoak } from './soak/soak.js'

const dir = tempDir('parkd-soak-')
afterAll(() => {
  killAll()
  fs.rmSync(dir, { recursive: true, force: true })
})

it('serves a mixed load from many clients with no 5xx and no lost or changed record', async () => {
  const server = await startProcess(['--db', path.join(dir, 'park.db')])
  const report = await runSoak({ url: server.url, seconds: 6, clients: 12, pid: server.child.pid })

  expect(report.mismatches).toEqual([])
  expect(report.serverErrors).toBe(0)
  for (const op of ['put', 'get', 'delete', 'batch', 'listing', 'count', 'deleteRange', 'final']) {
    expect(report.operations[op], op).toBeGreaterThan(0)
  }
  expect(report.rssMiB.peak - report.rssMiB.first).toBeLessThan(150)

  server.child.kill('SIGTERM')
  expect(await server.exited).toBe(0)
})
