/**
 * Memory and growth: the server's peak RSS while it moves far more bytes than it may
 * hold (a 64 MiB value, a 2 GB upload, a 10-million-item listing read by a client that
 * stalls), and how point reads and ingest hold up when the store holds 10 million keys.
 */
import path from 'node:path'
import { request } from 'undici'
import { KEY_BYTES, VALUE_BYTES } from './dataset.js'
import { runLoad } from './http-load.js'
import type { Plan } from './plan.js'
import { PeakRss } from './proc.js'
import { startParkd, type BenchServer } from './servers.js'
import { download, upload } from './streams.js'
import {
  figure,
  infoRow,
  MB,
  memoryRow,
  ratioRow,
  sampled,
  type Figure,
  type Row,
} from './table.js'

const RSS_LIMIT_MB = 150

async function peakDuring(server: BenchServer, work: () => Promise<unknown>): Promise<number> {
  const peak = new PeakRss(server.child.pid as number)
  peak.start()
  let bytes = 0
  try {
    await work()
  } finally {
    bytes = peak.stop()
  }
  return bytes
}

async function bigValueRoundTrip(url: string, bytes: number): Promise<void> {
  const value = Buffer.alloc(bytes, 'x')
  const put = await request(`${url}/kv/big`, { method: 'PUT', body: value })
  await put.body.dump()
  const got = await request(`${url}/kv/big`)
  const body = Buffer.from(await got.body.arrayBuffer())
  if (put.statusCode >= 300 || !body.equals(value)) throw new Error('the big value came back wrong')
}

/**
 * Each phase gets a fresh server: memory a process took stays resident after the work
 * (the allocator keeps it), so a phase after another would inherit the first's peak.
 */
async function memoryRows(plan: Plan, dir: string): Promise<Row[]> {
  let server = await startParkd(path.join(dir, 'memory-value.db'))
  const mib = plan.bigValueBytes / MB
  const bigValue = await peakDuring(server, () => bigValueRoundTrip(server.url, plan.bigValueBytes))
  await server.stop()

  server = await startParkd(path.join(dir, 'memory-upload.db'))
  const value = Buffer.alloc(plan.longUploadValueBytes, 'v')
  const count = Math.ceil(plan.longUploadBytes / (value.length + 8 + KEY_BYTES))
  const longUpload = await peakDuring(server, () =>
    upload(server.url, { count, order: 'sequential', format: 'frames', value }),
  )
  await server.stop()

  const gb = (plan.longUploadBytes / 1024 / MB).toFixed(plan.quick ? 2 : 0)
  return [
    memoryRow(`PUT then GET of a ${mib} MiB value`, bigValue, RSS_LIMIT_MB),
    memoryRow(`POST /batch of ${gb} GB of frames`, longUpload, RSS_LIMIT_MB),
  ]
}

async function ingestAtScale(plan: Plan, server: BenchServer, run: number) {
  const count = plan.growthIngestRecords
  const sequentialStart = plan.growthKeys + run * count
  const sequential = await upload(server.url, {
    count,
    order: 'sequential',
    format: 'frames',
    start: sequentialStart,
  })
  const random = await upload(server.url, {
    count,
    order: 'random',
    format: 'frames',
    start: run * count,
  })
  return { sequential: count / sequential.seconds, random: count / random.seconds }
}

async function growthRows(plan: Plan, dir: string, getAtSmall: Figure): Promise<Row[]> {
  const server = await startParkd(path.join(dir, 'growth.db'))
  const keys = plan.growthKeys
  const load = await upload(server.url, { count: keys, order: 'sequential', format: 'frames' })

  const job = { url: server.url, target: 'get' as const, keys, connections: plan.connections }
  const gets = await sampled(plan.runs, async () => {
    return (await runLoad({ ...job, seconds: plan.loadSeconds })).requestsPerSecond
  })

  const frameBytes = 8 + KEY_BYTES + VALUE_BYTES
  const listing = { format: 'frames' as const, expectRecords: keys, frameBytes }
  const stalled = await peakDuring(server, () =>
    download(server.url, '/items', { ...listing, stallMs: plan.stallMs }),
  )

  const ingest = { sequential: [] as number[], random: [] as number[] }
  for (let run = 0; run < plan.runs; run++) {
    const rates = await ingestAtScale(plan, server, run)
    ingest.sequential.push(rates.sequential)
    ingest.random.push(rates.random)
  }
  await server.stop()

  const m = `${keys / 1e6}M`
  return [
    infoRow(
      `POST /batch frames, loading ${m} sequential keys`,
      figure([keys / load.seconds], 'rec/s'),
    ),
    ratioRow(
      `GET /kv/{key} with ${m} keys (vs ${plan.httpKeys / 1e3}k)`,
      figure(gets, 'req/s'),
      getAtSmall,
      0.7,
    ),
    memoryRow(
      `GET /items of ${m} items, client stalls ${plan.stallMs / 1000}s`,
      stalled,
      RSS_LIMIT_MB,
    ),
    ratioRow(
      `POST /batch at ${m} keys: random-order vs sequential`,
      figure(ingest.random, 'rec/s'),
      figure(ingest.sequential, 'rec/s'),
      0.5,
    ),
  ]
}

export async function scalePhase(plan: Plan, dir: string, getAtSmall: Figure): Promise<Row[]> {
  return [...(await memoryRows(plan, dir)), ...(await growthRows(plan, dir, getAtSmall))]
}
