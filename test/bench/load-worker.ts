/**
 * A load generator in a process of its own (so that it can be pinned to its own core):
 * autocannon with keep-alive connections, each request for a random key of a preloaded
 * key space. Takes its job as JSON in argv[2] and prints its result as one JSON line.
 */
import autocannon from 'autocannon'
import { keyAt, VALUE } from './dataset.js'
import type { LoadJob, LoadResult } from './http-load.js'

const job = JSON.parse(process.argv[2] ?? '{}') as LoadJob

const randomKey = () => keyAt(Math.floor(Math.random() * job.keys), 'sequential')

/** etcd's HTTP gateway takes keys and values as base64 in a JSON body. */
const etcdBody = (withValue: boolean) =>
  JSON.stringify({
    key: randomKey().toString('base64'),
    ...(withValue ? { value: VALUE.toString('base64') } : {}),
  })

type Request = autocannon.Request

function requestFor(target: LoadJob['target']): Request {
  switch (target) {
    case 'get':
      return { method: 'GET', setupRequest: (r: Request) => ({ ...r, path: `/kv/${randomKey()}` }) }
    case 'put':
      return {
        method: 'PUT',
        body: VALUE,
        setupRequest: (r: Request) => ({ ...r, path: `/kv/${randomKey()}` }),
      }
    case 'etcd-put':
    case 'etcd-range':
      return {
        method: 'POST',
        path: target === 'etcd-put' ? '/v3/kv/put' : '/v3/kv/range',
        setupRequest: (r: Request) => ({ ...r, body: etcdBody(target === 'etcd-put') }),
      }
  }
}

const result = await autocannon({
  url: job.url,
  connections: job.connections,
  duration: job.seconds,
  requests: [requestFor(job.target)],
})

const answer: LoadResult = {
  requestsPerSecond: result.requests.average,
  latencyP50Ms: result.latency.p50,
  latencyP99Ms: result.latency.p99,
  non2xx: result.non2xx,
  errors: result.errors + result.timeouts,
}
process.stdout.write(`${JSON.stringify(answer)}\n`)
