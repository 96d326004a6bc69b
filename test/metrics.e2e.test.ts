import fs from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { parseSamples, sampleValue, type Sample } from './helpers/prometheus.js'
import { startServer, type TestServer } from './helpers/server.js'

let server: TestServer
let other: TestServer

beforeAll(async () => {
  ;[server, other] = await Promise.all([startServer(), startServer()])
})
afterAll(async () => {
  await Promise.all([server.close(), other.close()])
})

async function call(target: TestServer, method: string, path: string, body?: string, headers = {}) {
  const response = await request(target.url + path, { method: method as 'GET', body, headers })
  const text = await response.body.text()
  return { status: response.statusCode, headers: response.headers, text }
}

async function scrape(target: TestServer): Promise<Sample[]> {
  const response = await call(target, 'GET', '/metrics')
  expect(response.status).toBe(200)
  expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
  return parseSamples(response.text)
}

describe('GET /metrics', () => {
  it('counts requests by method, route pattern and status, never by raw URL', async () => {
    await call(server, 'PUT', '/kv/secret%2Fkey-1', 'woof')
    await call(server, 'PUT', '/kv/secret%2Fkey-1', 'bark!')
    await call(server, 'GET', '/kv/secret/key-1')
    await call(server, 'GET', '/kv/missing')
    await call(server, 'GET', '/no/such/route')
    await call(server, 'POST', '/healthz')

    const samples = await scrape(server)
    const requests = (labels: Record<string, string>) =>
      sampleValue(samples, 'parkd_http_requests_total', labels)
    expect(requests({ method: 'PUT', route: '/kv/*', status: '201' })).toBe(1)
    expect(requests({ method: 'PUT', route: '/kv/*', status: '204' })).toBe(1)
    expect(requests({ method: 'GET', route: '/kv/*', status: '200' })).toBe(1)
    expect(requests({ method: 'GET', route: '/kv/*', status: '404' })).toBe(1)
    expect(requests({ method: 'GET', route: 'unmatched', status: '404' })).toBe(1)
    expect(requests({ method: 'POST', route: 'unmatched', status: '405' })).toBe(1)

    const routes = new Set(samples.flatMap((s) => (s.labels.route ? [s.labels.route] : [])))
    expect([...routes].every((route) => !route.includes('secret') && !route.includes('no/'))).toBe(
      true,
    )
  })

  it('keeps a latency histogram per method and route', async () => {
    await call(server, 'GET', '/healthz')
    const samples = await scrape(server)
    const labels = { method: 'GET', route: '/healthz' }
    const count = sampleValue(samples, 'parkd_http_request_duration_seconds_count', labels)
    const infinite = sampleValue(samples, 'parkd_http_request_duration_seconds_bucket', {
      ...labels,
      le: '+Inf',
    })
    expect(count).toBeGreaterThanOrEqual(1)
    expect(infinite).toBe(count)
    expect(sampleValue(samples, 'parkd_http_request_duration_seconds_sum', labels)).toBeGreaterThan(
      0,
    )
  })

  it('counts records and bytes of values written and read', async () => {
    const before = await scrape(server)
    await call(server, 'PUT', '/kv/records', 'twelve bytes')
    await call(server, 'GET', '/kv/records')
    await call(server, 'GET', '/kv/records')
    await call(server, 'DELETE', '/kv/records')
    const after = await scrape(server)

    const delta = (name: string) =>
      sampleValue(after, name, { route: '/kv/*' }) - sampleValue(before, name, { route: '/kv/*' })
    expect(delta('parkd_records_in_total')).toBe(2)
    expect(delta('parkd_bytes_in_total')).toBe(12)
    expect(delta('parkd_records_out_total')).toBe(2)
    expect(delta('parkd_bytes_out_total')).toBe(24)
  })

  it('reports the database and WAL sizes of the moment of the scrape', async () => {
    await call(server, 'PUT', '/kv/big', 'x'.repeat(100_000))
    const samples = await scrape(server)
    const fileBytes = sampleValue(samples, 'parkd_database_file_bytes')
    const walBytes = sampleValue(samples, 'parkd_database_wal_bytes')

    expect(fileBytes).toBe(fs.statSync(server.dbPath).size)
    expect(walBytes).toBeGreaterThan(100_000)
    expect(walBytes).toBe(server.store.stats().walBytes)
  })

  it('keeps the counts of two apps in one process apart', async () => {
    await call(other, 'PUT', '/kv/only-here', 'v')
    const mine = await scrape(server)
    const theirs = await scrape(other)
    const labels = { method: 'PUT', route: '/kv/*', status: '201' }
    expect(sampleValue(theirs, 'parkd_http_requests_total', labels)).toBe(1)
    expect(sampleValue(mine, 'parkd_http_requests_total', labels)).toBeGreaterThan(1)
    expect(sampleValue(theirs, 'process_resident_memory_bytes')).toBeGreaterThan(0)
  })

  it('needs the token when the server has one', async () => {
    const guarded = await startServer({ token: 'sesame' })
    try {
      const refused = await call(guarded, 'GET', '/metrics')
      expect(refused.status).toBe(401)
      const allowed = await call(guarded, 'GET', '/metrics', undefined, {
        authorization: 'Bearer sesame',
      })
      expect(allowed.status).toBe(200)
      const samples = parseSamples(allowed.text)
      const labels = { method: 'GET', route: '/metrics', status: '401' }
      expect(sampleValue(samples, 'parkd_http_requests_total', labels)).toBe(1)
    } finally {
      await guarded.close()
    }
  })
})
