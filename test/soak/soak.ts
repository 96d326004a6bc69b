/**
 * The soak: many clients run a random mix of reads, writes, listings, batches and
 * deletes against one server for a while, each on keys of its own (`c<n>/...`), so each
 * keeps an exact model of what must be stored. Every answer is checked as it comes;
 * at the end the whole store is compared with the models. The server's memory is
 * sampled throughout.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import { Pool } from 'undici'

export type SoakOptions = {
  url: string
  seconds: number
  clients: number
  /** PID of the server, to sample its memory; omitted when it runs in this process. */
  pid?: number
  /** Keys per client; small enough that operations keep hitting existing keys. */
  keysPerClient?: number
}

export type SoakReport = {
  operations: Record<string, number>
  serverErrors: number
  mismatches: string[]
  rssMiB: { first: number; peak: number; last: number }
  seconds: number
}

type Model = Map<string, Buffer>

class Soak {
  readonly pool: Pool
  readonly report: SoakReport
  readonly #options: Required<Omit<SoakOptions, 'pid'>> & { pid?: number }

  constructor(options: SoakOptions) {
    this.#options = { keysPerClient: 200, ...options }
    this.pool = new Pool(options.url, { connections: options.clients })
    this.report = {
      operations: {},
      serverErrors: 0,
      mismatches: [],
      rssMiB: { first: 0, peak: 0, last: 0 },
      seconds: options.seconds,
    }
  }

  async request(method: string, path: string, body?: string | Buffer, headers = {}) {
    const answer = await this.pool.request({ method: method as 'GET', path, body, headers })
    const bytes = Buffer.from(await answer.body.arrayBuffer())
    if (answer.statusCode >= 500) this.report.serverErrors++
    return { status: answer.statusCode, body: bytes }
  }

  count(op: string): void {
    this.report.operations[op] = (this.report.operations[op] ?? 0) + 1
  }

  mismatch(text: string): void {
    if (this.report.mismatches.length < 50) this.report.mismatches.push(text)
  }

  sampleMemory(): void {
    const rss = rssMiB(this.#options.pid)
    const memory = this.report.rssMiB
    if (memory.first === 0) memory.first = rss
    memory.peak = Math.max(memory.peak, rss)
    memory.last = rss
  }

  async run(): Promise<SoakReport> {
    const deadline = Date.now() + this.#options.seconds * 1000
    const sampler = setInterval(() => this.sampleMemory(), 250)
    this.sampleMemory()

    const models = await Promise.all(
      Array.from({ length: this.#options.clients }, (_, i) => this.client(i, deadline)),
    )
    for (const [i, model] of models.entries()) await this.verifyPartition(i, model, 'final')

    clearInterval(sampler)
    this.sampleMemory()
    await this.pool.close()
    return this.report
  }

  async client(id: number, deadline: number): Promise<Model> {
    const model: Model = new Map()
    const key = () => `c${id}/${crypto.randomInt(this.#options.keysPerClient)}`

    while (Date.now() < deadline) {
      const roll = crypto.randomInt(100)
      if (roll < 35) await this.put(model, key())
      else if (roll < 65) await this.get(model, key())
      else if (roll < 75) await this.remove(model, key())
      else if (roll < 85) await this.batch(id, model)
      else if (roll < 93) await this.verifyPartition(id, model, 'listing')
      else if (roll < 97) await this.countPartition(id, model)
      else await this.deleteRange(id, model)
    }
    return model
  }

  async put(model: Model, key: string): Promise<void> {
    const value = crypto.randomBytes(crypto.randomInt(1, 2000))
    const answer = await this.request('PUT', `/kv/${key}`, value)
    this.count('put')
    if (answer.status !== 201 && answer.status !== 204)
      this.mismatch(`PUT ${key}: ${answer.status}`)
    else model.set(key, value)
  }

  async get(model: Model, key: string): Promise<void> {
    const answer = await this.request('GET', `/kv/${key}`)
    this.count('get')
    const expected = model.get(key)
    if (expected === undefined ? answer.status !== 404 : !answer.body.equals(expected)) {
      this.mismatch(`GET ${key}: ${answer.status}, expected ${expected ? 'a value' : '404'}`)
    }
  }

  async remove(model: Model, key: string): Promise<void> {
    const answer = await this.request('DELETE', `/kv/${key}`)
    this.count('delete')
    const expected = model.has(key) ? 204 : 404
    if (answer.status !== expected) this.mismatch(`DELETE ${key}: ${answer.status}`)
    model.delete(key)
  }

  async batch(id: number, model: Model): Promise<void> {
    const records: string[] = []
    const applied: Array<[string, Buffer | undefined]> = []
    for (let i = crypto.randomInt(1, 100); i > 0; i--) {
      const key = `c${id}/${crypto.randomInt(this.#options.keysPerClient)}`
      if (crypto.randomInt(5) === 0) {
        records.push(JSON.stringify({ key, delete: true }))
        applied.push([key, undefined])
      } else {
        const value = crypto.randomBytes(crypto.randomInt(0, 500))
        records.push(JSON.stringify({ key, value_b64: value.toString('base64') }))
        applied.push([key, value])
      }
    }
    const atomic = crypto.randomInt(2) === 0 ? '?atomic=true' : ''
    const answer = await this.request('POST', `/batch${atomic}`, `${records.join('\n')}\n`, {
      'content-type': 'application/x-ndjson',
    })
    this.count('batch')
    if (answer.status !== 200) return this.mismatch(`POST /batch: ${answer.status}`)
    for (const [key, value] of applied) {
      if (value === undefined) model.delete(key)
      else model.set(key, value)
    }
  }

  async verifyPartition(id: number, model: Model, op: string): Promise<void> {
    const answer = await this.request('GET', `/items?prefix=c${id}/`)
    this.count(op)
    if (answer.status !== 200) return this.mismatch(`GET /items c${id}: ${answer.status}`)

    const listed = parseItems(answer.body)
    const expected = [...model.keys()].sort((a, b) =>
      Buffer.compare(Buffer.from(a), Buffer.from(b)),
    )
    if (listed.map(([key]) => key).join('\n') !== expected.join('\n')) {
      return this.mismatch(
        `${op} c${id}: ${listed.length} keys listed, ${expected.length} expected`,
      )
    }
    for (const [key, value] of listed) {
      if (!value.equals(model.get(key) as Buffer)) this.mismatch(`${op} ${key}: value differs`)
    }
  }

  async countPartition(id: number, model: Model): Promise<void> {
    const answer = await this.request('GET', `/count?prefix=c${id}/`)
    this.count('count')
    const counted =
      answer.status === 200 ? (JSON.parse(answer.body.toString()) as { count: number }).count : -1
    if (counted !== model.size) this.mismatch(`count c${id}: ${counted}, expected ${model.size}`)
  }

  async deleteRange(id: number, model: Model): Promise<void> {
    const digit = crypto.randomInt(10)
    const prefix = `c${id}/${digit}`
    const answer = await this.request('DELETE', `/keys?prefix=${encodeURIComponent(prefix)}`)
    this.count('deleteRange')
    const doomed = [...model.keys()].filter((key) => key.startsWith(prefix))
    const deleted =
      answer.status === 200
        ? (JSON.parse(answer.body.toString()) as { deleted: number }).deleted
        : -1
    if (deleted !== doomed.length)
      this.mismatch(`DELETE /keys ${prefix}: ${deleted}, expected ${doomed.length}`)
    for (const key of doomed) model.delete(key)
  }
}

type JsonItem = { key?: string; key_b64?: string; value?: string; value_b64?: string }

function parseItems(body: Buffer): Array<[string, Buffer]> {
  return body
    .toString('utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const record = JSON.parse(line) as JsonItem
      const key = record.key ?? Buffer.from(record.key_b64 ?? '', 'base64').toString('utf8')
      const value =
        record.value !== undefined
          ? Buffer.from(record.value)
          : Buffer.from(record.value_b64 ?? '', 'base64')
      return [key, value]
    })
}

function rssMiB(pid?: number): number {
  if (pid === undefined) return process.memoryUsage().rss / 2 ** 20
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
    const match = /VmRSS:\s+(\d+) kB/.exec(status)
    return match ? Number(match[1]) / 1024 : 0
  } catch {
    return 0
  }
}

export function runSoak(options: SoakOptions): Promise<SoakReport> {
  return new Soak(options).run()
}
