/**
 * Optional peers, for a feel of the trade-offs: Redis (in memory, appendonly with an
 * fsync every second, the closest to --sync normal) and etcd (raft, fsync per commit,
 * through its HTTP gateway). Each is measured only when its Debian package is
 * installed, pinned like parkd and loaded with the same connections and value size.
 */
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { runLoad } from './http-load.js'
import type { Plan } from './plan.js'
import { freePort } from '../helpers/ports.js'
import {
  CLIENT_CORE,
  hasCommand,
  runToEnd,
  SERVER_CORE,
  spawnPinned,
  stopChild,
  waitForLine,
} from './proc.js'
import { figure, infoRow, sampled, type Row } from './table.js'

async function redisRows(plan: Plan, dir: string): Promise<Row[]> {
  const port = String(await freePort())
  const args = ['--port', port, '--bind', '127.0.0.1', '--dir', dir, '--save', '']
  const server = spawnPinned(
    SERVER_CORE,
    'redis-server',
    [...args, ...['--appendonly', 'yes', '--appendfsync', 'everysec']],
    true,
  )
  await waitForLine(server, (line) => line.includes('Ready to accept connections'))

  const requests = String(Math.round(plan.loadSeconds * 60_000))
  const benchmark = ['-p', port, '-c', String(plan.connections), '-n', requests, '-d', '100']
  const rates = { SET: [] as number[], GET: [] as number[] }
  for (let run = 0; run < plan.runs; run++) {
    const keyspace = ['-r', String(plan.httpKeys), '-t', 'set,get', '--csv']
    const child = spawnPinned(CLIENT_CORE, 'redis-benchmark', [...benchmark, ...keyspace])
    for (const line of (await runToEnd(child)).split('\n')) {
      const [test, rps] = line.replaceAll('"', '').split(',')
      if (test === 'SET' || test === 'GET') rates[test].push(Number(rps))
    }
  }
  await stopChild(server)
  return [
    infoRow('peer: Redis GET (redis-benchmark)', figure(rates.GET, 'req/s')),
    infoRow('peer: Redis SET, appendfsync everysec', figure(rates.SET, 'req/s')),
  ]
}

async function etcdRows(plan: Plan, dir: string): Promise<Row[]> {
  const [client, peer] = [await freePort(), await freePort()]
  const url = `http://127.0.0.1:${client}`
  const server = spawnPinned(
    SERVER_CORE,
    'etcd',
    [
      ...['--data-dir', path.join(dir, 'etcd'), '--listen-client-urls', url],
      ...['--advertise-client-urls', url, '--listen-peer-urls', `http://127.0.0.1:${peer}`],
      ...['--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`],
      ...['--initial-cluster', `default=http://127.0.0.1:${peer}`, '--log-outputs', 'stdout'],
    ],
    true,
  )
  await waitForLine(server, (line) => line.includes('ready to serve client requests'))
  await sleep(500)

  const job = { url, keys: plan.httpKeys, connections: plan.connections, seconds: plan.loadSeconds }
  const put = await sampled(plan.runs, async () => {
    return (await runLoad({ ...job, target: 'etcd-put' })).requestsPerSecond
  })
  const range = await sampled(plan.runs, async () => {
    return (await runLoad({ ...job, target: 'etcd-range' })).requestsPerSecond
  })
  await stopChild(server)
  return [
    infoRow('peer: etcd range (one key, HTTP gateway)', figure(range, 'req/s')),
    infoRow('peer: etcd put (HTTP gateway)', figure(put, 'req/s')),
  ]
}

export async function peerRows(plan: Plan, dir: string): Promise<Row[]> {
  const rows: Row[] = []
  if (hasCommand('redis-server') && hasCommand('redis-benchmark')) {
    rows.push(...(await redisRows(plan, dir)))
  } else {
    rows.push(infoRow('peer: Redis', 'not installed (apt-get install redis-server)'))
  }
  if (hasCommand('etcd')) rows.push(...(await etcdRows(plan, dir)))
  else rows.push(infoRow('peer: etcd', 'not installed (apt-get install etcd-server)'))
  return rows
}
