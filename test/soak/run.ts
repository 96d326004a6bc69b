/**
 * `npm run soak -- --minutes N [--clients C]`: starts the built server on a temporary
 * database, soaks it, prints what happened, and exits non-zero on any 5xx, any lost or
 * changed record, or an unclean stop.
 */
import fs from 'node:fs'
import { parseArgs } from 'node:util'
import path from 'node:path'
import { startProcess } from '../helpers/process.js'
import { tempDir } from '../helpers/server.js'
import { runSoak } from './soak.js'

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '1' },
    clients: { type: 'string', default: '32' },
  },
})
const minutes = Number(values.minutes)
const clients = Number(values.clients)

const dir = tempDir('parkd-soak-')
const server = await startProcess(['--db', path.join(dir, 'park.db')])
process.stdout.write(`soaking ${server.url} for ${minutes} min with ${clients} clients\n`)

const report = await runSoak({
  url: server.url,
  seconds: minutes * 60,
  clients,
  pid: server.child.pid,
})
server.child.kill('SIGTERM')
const exitCode = await server.exited
fs.rmSync(dir, { recursive: true, force: true })

const total = Object.values(report.operations).reduce((sum, n) => sum + n, 0)
const rows = [
  ['duration', `${minutes} min, ${clients} clients`],
  ['operations', `${total} (${(total / (minutes * 60)).toFixed(0)}/s)`],
  ...Object.entries(report.operations).map(([op, n]) => [`  ${op}`, String(n)]),
  ['5xx answers', String(report.serverErrors)],
  ['lost or changed records', String(report.mismatches.length)],
  [
    'server RSS MiB first/peak/last',
    [report.rssMiB.first, report.rssMiB.peak, report.rssMiB.last]
      .map((n) => n.toFixed(0))
      .join(' / '),
  ],
  ['stop', `exit ${exitCode}`],
]
for (const [name, value] of rows) process.stdout.write(`${(name ?? '').padEnd(32)} ${value}\n`)
for (const mismatch of report.mismatches) process.stdout.write(`mismatch: ${mismatch}\n`)

const failed = report.serverErrors > 0 || report.mismatches.length > 0 || exitCode !== 0
process.exit(failed ? 1 : 0)
