/**
 * Streams against the store ceiling: batch uploads (frames and NDJSON, sequential and
 * random-order keys) and ordered listings, each run right after an in-process run of
 * better-sqlite3 on the same records.
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { KEY_BYTES, VALUE_BYTES, type KeyOrder } from './dataset.js'
import type { Plan } from './plan.js'
import { runToEnd, SERVER_CORE, spawnPinned } from './proc.js'
import { startParkd } from './servers.js'
import type { CeilingJob, CeilingResult } from './store-ceiling.js'
import { download, upload, type Throughput } from './streams.js'
import { figure, infoRow, ratioRow, type Row } from './table.js'

const CEILING = fileURLToPath(new URL('./store-ceiling.ts', import.meta.url))
const TSX = path.resolve('node_modules/tsx/dist/cli.mjs')

const perSecond = (t: Throughput) => t.records / t.seconds

async function storeCeiling(job: CeilingJob): Promise<CeilingResult> {
  const child = spawnPinned(SERVER_CORE, process.execPath, [TSX, CEILING, JSON.stringify(job)])
  const output = await runToEnd(child)
  return JSON.parse(output.trim().split('\n').pop() ?? '{}') as CeilingResult
}

function removeDb(db: string): void {
  for (const suffix of ['', '-wal', '-shm', '-lock']) fs.rmSync(db + suffix, { force: true })
}

type Samples = Record<string, number[]>

function push(samples: Samples, name: string, value: number): void {
  ;(samples[name] ??= []).push(value)
}

/** One upload into a fresh server; with `listings`, the listings of what it stored. */
async function parkdRun(plan: Plan, db: string, order: KeyOrder, format: 'frames' | 'ndjson') {
  const server = await startParkd(db)
  const rates: Record<string, number> = {}
  const count = plan.batchRecords
  rates.batch = perSecond(await upload(server.url, { count, order, format }))

  if (order === 'sequential' && format === 'frames') {
    const items = { expectRecords: count, frameBytes: 8 + KEY_BYTES + VALUE_BYTES }
    const keys = { expectRecords: count, frameBytes: 4 + KEY_BYTES }
    rates.itemsFrames = perSecond(await download(server.url, '/items', { ...items, format }))
    rates.keysFrames = perSecond(await download(server.url, '/keys', { ...keys, format }))
    const ndjson = { expectRecords: count, format: 'ndjson' as const }
    rates.itemsNdjson = perSecond(await download(server.url, '/items', ndjson))
    rates.keysNdjson = perSecond(await download(server.url, '/keys', ndjson))
  }
  await server.stop()
  removeDb(db)
  return rates
}

export async function storePhase(plan: Plan, dir: string): Promise<{ rows: Row[]; note: string }> {
  const db = path.join(dir, 'store.db')
  const s: Samples = {}
  let scanMethod = ''

  for (let run = 0; run < plan.runs; run++) {
    const job = { db, records: plan.batchRecords, pointReads: plan.pointReads }
    const sequential = await storeCeiling({ ...job, order: 'sequential', scans: true })
    removeDb(db)
    push(s, 'ceilInsertSeq', sequential.insertsPerSecond)
    push(s, 'ceilPointReads', sequential.pointReadsPerSecond)
    push(s, 'ceilItems', sequential.itemsScanPerSecond)
    push(s, 'ceilKeys', sequential.keysScanPerSecond)
    scanMethod = sequential.scanMethod

    for (const [name, rate] of Object.entries(await parkdRun(plan, db, 'sequential', 'frames'))) {
      push(s, name, rate)
    }
    push(s, 'batchNdjson', (await parkdRun(plan, db, 'sequential', 'ndjson')).batch as number)

    const random = await storeCeiling({ ...job, order: 'random', pointReads: 0, scans: false })
    removeDb(db)
    push(s, 'ceilInsertRandom', random.insertsPerSecond)
    push(s, 'batchRandom', (await parkdRun(plan, db, 'random', 'frames')).batch as number)
  }

  const f = (name: string, unit = 'rec/s') => figure(s[name] ?? [], unit)
  const n = `${plan.batchRecords / 1e6}M`
  const rows = [
    infoRow('store ceiling: inserts, 10k-row transactions', f('ceilInsertSeq')),
    ratioRow(`POST /batch frames, ${n} sequential keys`, f('batch'), f('ceilInsertSeq'), 0.7),
    ratioRow(`POST /batch NDJSON, ${n} sequential keys`, f('batchNdjson'), f('ceilInsertSeq'), 0.5),
    ratioRow(`POST /batch frames, ${n} random-order keys`, f('batchRandom'), f('ceilInsertRandom')),
    infoRow('store ceiling: point reads in-process', f('ceilPointReads', 'reads/s')),
    ratioRow('GET /items frames', f('itemsFrames'), f('ceilItems'), 0.8),
    ratioRow('GET /keys frames', f('keysFrames'), f('ceilKeys'), 0.8),
    ratioRow('GET /items NDJSON', f('itemsNdjson'), f('ceilItems'), 0.5),
    ratioRow('GET /keys NDJSON', f('keysNdjson'), f('ceilKeys'), 0.5),
  ]
  return {
    rows,
    note: `store ceiling scans, the better of each pair is the ceiling: ${scanMethod}`,
  }
}
