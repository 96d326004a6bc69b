/**
 * Single-key HTTP: GET and PUT of 100-byte values on random keys of a preloaded set,
 * each parkd run interleaved with a run of the bare-route ceiling, so that both see
 * the machine in the same state.
 */
import path from 'node:path'
import { runLoad, type LoadJob } from './http-load.js'
import type { Plan } from './plan.js'
import { startBareServer, startParkd, type BenchServer } from './servers.js'
import { upload } from './streams.js'
import { figure, infoRow, ratioRow, type Figure, type Row } from './table.js'

export type HttpOutcome = { rows: Row[]; getRate: Figure }

async function rate(plan: Plan, server: BenchServer, target: LoadJob['target'], keys: number) {
  const job = { url: server.url, target, keys, connections: plan.connections }
  const result = await runLoad({ ...job, seconds: plan.loadSeconds })
  return result.requestsPerSecond
}

async function warmUp(plan: Plan, servers: BenchServer[], target: LoadJob['target']) {
  if (plan.warmupSeconds === 0) return
  for (const server of servers) {
    const job = { url: server.url, target, keys: plan.httpKeys, connections: plan.connections }
    await runLoad({ ...job, seconds: plan.warmupSeconds })
  }
}

export async function httpPhase(plan: Plan, dir: string): Promise<HttpOutcome> {
  const db = path.join(dir, 'http.db')
  const bare = await startBareServer()
  let parkd = await startParkd(db)
  await upload(parkd.url, { count: plan.httpKeys, order: 'sequential', format: 'frames' })

  const samples = { bare: [] as number[], get: [] as number[], put: [] as number[] }
  await warmUp(plan, [bare, parkd], 'get')
  for (let run = 0; run < plan.runs; run++) {
    samples.bare.push(await rate(plan, bare, 'get', plan.httpKeys))
    samples.get.push(await rate(plan, parkd, 'get', plan.httpKeys))
    samples.put.push(await rate(plan, parkd, 'put', plan.httpKeys))
  }
  await parkd.stop()

  // The same file, now syncing every commit group to the disk before it is answered.
  parkd = await startParkd(db, 'full')
  const full = { bare: [] as number[], put: [] as number[] }
  for (let run = 0; run < plan.runs; run++) {
    full.bare.push(await rate(plan, bare, 'get', plan.httpKeys))
    full.put.push(await rate(plan, parkd, 'put', plan.httpKeys))
  }
  await parkd.stop()
  await bare.stop()

  const ceiling = figure(samples.bare, 'req/s')
  const getRate = figure(samples.get, 'req/s')
  const rows = [
    infoRow('HTTP ceiling: bare Fastify GET, 100 B', ceiling),
    ratioRow('GET /kv/{key}, 100 B values', getRate, ceiling, 0.75),
    ratioRow('PUT /kv/{key}, --sync normal', figure(samples.put, 'req/s'), ceiling, 0.5),
    ratioRow(
      'PUT /kv/{key}, --sync full',
      figure(full.put, 'req/s'),
      figure(full.bare, 'req/s'),
      0.3,
    ),
  ]
  return { rows, getRate }
}
