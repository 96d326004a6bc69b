/**
 * `npm run bench`: parkd side by side with the ceilings of this machine, measured in the
 * same run, printed as a table of ratios with a verdict per target. `--quick` is a smoke
 * run for CI: every phase at a tiny size, and no verdicts. `--skip-peers` leaves Redis
 * and etcd out even when they are installed.
 */
import fs from 'node:fs'
import os from 'node:os'
import { parseArgs } from 'node:util'
import { httpPhase } from './phase-http.js'
import { scalePhase } from './phase-scale.js'
import { storePhase } from './phase-store.js'
import { peerRows } from './peers.js'
import { FULL, QUICK } from './plan.js'
import { pinningNote, pinSelf, tempDir } from './proc.js'
import { render, type Row } from './table.js'

const { values } = parseArgs({
  options: { quick: { type: 'boolean' }, 'skip-peers': { type: 'boolean' } },
})
const plan = values.quick ? QUICK : FULL
const say = (text: string) => process.stdout.write(`${text}\n`)

/** Read before pinning: once pinned, this process sees only its own core. */
function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU'
  const memory = `${Math.round(os.totalmem() / 1024 ** 3)} GiB`
  return `${os.availableParallelism()} cores (${cpu}), ${memory}, Node ${process.version}`
}

const machineLine = machine()
pinSelf()
const dir = tempDir()
const started = Date.now()
say(`parkd benchmarks, ${plan.quick ? 'quick' : 'full'} run, ${new Date().toISOString()}`)
say(`machine: ${machineLine}; ${pinningNote()}`)
say(`each figure: the median of ${plan.runs} run(s), ± half the spread between runs\n`)

const rows: Row[] = []
const notes: string[] = []
try {
  say('single-key HTTP ...')
  const http = await httpPhase(plan, dir)
  rows.push(...http.rows)
  say('batches and listings ...')
  const store = await storePhase(plan, dir)
  rows.push(...store.rows)
  notes.push(store.note)
  say('memory and growth ...')
  rows.push(...(await scalePhase(plan, dir, http.getRate)))
  if (!values['skip-peers']) {
    say('peers ...')
    rows.push(...(await peerRows(plan, dir)))
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true })
}

say(`\n${render(rows, !plan.quick)}\n`)
for (const note of notes) say(note)
const missed = rows.filter((row) => row.pass === false).length
const judged = rows.filter((row) => row.pass !== undefined).length
const verdict = plan.quick
  ? 'quick run: no verdicts'
  : `${judged - missed} of ${judged} targets met`
say(`${verdict}; took ${Math.round((Date.now() - started) / 1000)} s`)
