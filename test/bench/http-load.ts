/**
 * Drives HTTP load against a server: one load-worker process per run, pinned to the
 * client core, and every figure the median of its runs with the spread kept.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { CLIENT_CORE, runToEnd, spawnPinned } from './proc.js'

export type LoadJob = {
  url: string
  /** GET or PUT /kv/{key} (parkd, or the bare route for GET), or etcd's gateway. */
  target: 'get' | 'put' | 'etcd-put' | 'etcd-range'
  /** Every request names a random key of the first `keys` sequential keys. */
  keys: number
  connections: number
  seconds: number
}

export type LoadResult = {
  requestsPerSecond: number
  latencyP50Ms: number
  latencyP99Ms: number
  non2xx: number
  errors: number
}

const WORKER = fileURLToPath(new URL('./load-worker.ts', import.meta.url))
const TSX = path.resolve('node_modules/tsx/dist/cli.mjs')

export async function runLoad(job: LoadJob): Promise<LoadResult> {
  const child = spawnPinned(CLIENT_CORE, process.execPath, [TSX, WORKER, JSON.stringify(job)])
  const output = await runToEnd(child)
  const result = JSON.parse(output.trim().split('\n').pop() ?? '{}') as LoadResult
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${job.target}: ${result.non2xx} non-2xx answers, ${result.errors} errors`)
  }
  return result
}
