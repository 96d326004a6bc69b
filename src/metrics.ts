/**
 * The Prometheus metrics of one server, in a registry of its own: several apps in one
 * process (tests, an embedding program) then count apart instead of clashing over
 * prom-client's global registry.
 *
 * Routes are labelled by their pattern (`/kv/*`), never by the URL, so that the number
 * of series stays bounded whatever keys clients use.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { StoreStats } from './store/types.js'

/**
 * Seconds. A point read answers in well under a millisecond, a backup or a listing of
 * millions of records takes minutes, so the buckets span both ends.
 */
const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30, 120,
]

export type Metrics = {
  readonly registry: Registry
  /** Counts one answered request and its latency. `route` is the pattern, not the URL. */
  observeRequest(method: string, route: string, status: number, seconds: number): void
  /** Records received for writing (puts and deletes). */
  recordsIn(route: string, n: number): void
  /** Records sent out (values read, listed keys or items). */
  recordsOut(route: string, n: number): void
  /** Body bytes received (stored values, batch uploads). */
  bytesIn(route: string, n: number): void
  /** Body bytes sent (values, listings, backups). */
  bytesOut(route: string, n: number): void
  /** The text exposition of every metric. */
  scrape(): Promise<string>
  readonly contentType: string
}

export type MetricsOptions = {
  /** Read at scrape time, so the gauges show the sizes of the moment. */
  stats: () => StoreStats
}

/** A counter by route, its labelled children kept (see the series of observeRequest). */
function byRoute(
  registry: Registry,
  name: string,
  help: string,
): (route: string, n: number) => void {
  const counter = new Counter({ name, help, labelNames: ['route'], registers: [registry] })
  const children = new Map<string, { inc: (n: number) => void }>()
  return (route, n) => {
    let child = children.get(route)
    if (!child) {
      child = counter.labels(route)
      children.set(route, child)
    }
    child.inc(n)
  }
}

export function createMetrics(options: MetricsOptions): Metrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })

  const requests = new Counter({
    name: 'parkd_http_requests_total',
    help: 'Requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  })
  const latency = new Histogram({
    name: 'parkd_http_request_duration_seconds',
    help: 'Time from the request arriving to the answer being sent, by method and route',
    labelNames: ['method', 'route'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  })
  const recordsIn = byRoute(registry, 'parkd_records_in_total', 'Records received for writing')
  const recordsOut = byRoute(registry, 'parkd_records_out_total', 'Records sent out')
  const bytesIn = byRoute(registry, 'parkd_bytes_in_total', 'Body bytes of records received')
  const bytesOut = byRoute(registry, 'parkd_bytes_out_total', 'Body bytes of data sent out')

  new Gauge({
    name: 'parkd_database_file_bytes',
    help: 'Size of the main database file',
    registers: [registry],
    collect() {
      this.set(options.stats().fileBytes)
    },
  })
  new Gauge({
    name: 'parkd_database_wal_bytes',
    help: 'Size of the write-ahead log, which grows between checkpoints',
    registers: [registry],
    collect() {
      this.set(options.stats().walBytes)
    },
  })

  // Labelled children are looked up once per series and kept: resolving labels on
  // every request costs more than the counting. Routes are patterns, so the number of
  // series, and of entries here, is bounded.
  const series = new Map<string, { count: () => void; time: (seconds: number) => void }>()
  const seriesOf = (method: string, route: string, status: number) => {
    const name = `${method} ${route} ${status}`
    let found = series.get(name)
    if (!found) {
      const counter = requests.labels(method, route, String(status))
      const histogram = latency.labels(method, route)
      found = { count: () => counter.inc(), time: (seconds) => histogram.observe(seconds) }
      series.set(name, found)
    }
    return found
  }

  return {
    registry,
    observeRequest(method, route, status, seconds) {
      const found = seriesOf(method, route, status)
      found.count()
      found.time(seconds)
    },
    recordsIn,
    recordsOut,
    bytesIn,
    bytesOut,
    scrape: () => registry.metrics(),
    contentType: registry.contentType,
  }
}
