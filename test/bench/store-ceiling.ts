/**
 * The store ceiling: better-sqlite3 used in-process on a file made exactly as parkd
 * makes its own (same schema, same pragmas, through the same opening code), with the
 * same records the HTTP benchmarks move. No HTTP, no codecs, no queue: what SQLite on
 * this machine can do at best. Runs in a child pinned like the server; takes its job
 * as JSON in argv[2] and prints one JSON line.
 */
import type Database from 'better-sqlite3'
import { openDatabase } from '../../src/store/sqlite-schema.js'
import { keyAt, VALUE, type KeyOrder } from './dataset.js'

export type CeilingJob = {
  db: string
  records: number
  order: KeyOrder
  pointReads: number
  /** Whether to time the ordered scans too (they are the same whatever the key order). */
  scans: boolean
}

export type CeilingResult = {
  insertsPerSecond: number
  pointReadsPerSecond: number
  /** Records per second of the best of a row-by-row iterator and raw keyset pages. */
  itemsScanPerSecond: number
  keysScanPerSecond: number
  scanMethod: string
}

const TRANSACTION_ROWS = 10_000
const PAGE_ROWS = 1000

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9

function insertAll(db: Database.Database, job: CeilingJob): number {
  const insert = db.prepare('INSERT INTO kv (key, rev, value) VALUES (?, ?, ?)')
  const insertChunk = db.transaction((first: number, last: number) => {
    for (let i = first; i < last; i++) insert.run(keyAt(i, job.order), i + 1, VALUE)
  })

  const start = process.hrtime.bigint()
  for (let first = 0; first < job.records; first += TRANSACTION_ROWS) {
    insertChunk(first, Math.min(first + TRANSACTION_ROWS, job.records))
  }
  return job.records / seconds(start)
}

function pointReads(db: Database.Database, job: CeilingJob): number {
  const read = db.prepare('SELECT rev, value FROM kv WHERE key = ?').raw(true)
  const start = process.hrtime.bigint()
  for (let n = 0; n < job.pointReads; n++) {
    read.get(keyAt(Math.floor(Math.random() * job.records), job.order))
  }
  return job.pointReads / seconds(start)
}

function iterateRows(db: Database.Database, columns: string): number {
  const start = process.hrtime.bigint()
  let rows = 0
  const iterator = db.prepare(`SELECT ${columns} FROM kv ORDER BY key`).raw(true).iterate()
  while (!iterator.next().done) rows++
  return rows / seconds(start)
}

function keysetPages(db: Database.Database, columns: string): number {
  const first = db.prepare(`SELECT ${columns} FROM kv ORDER BY key LIMIT ?`).raw(true)
  const next = db.prepare(`SELECT ${columns} FROM kv WHERE key > ? ORDER BY key LIMIT ?`)
  next.raw(true)

  const start = process.hrtime.bigint()
  let rows = 0
  let page = first.all(PAGE_ROWS) as Buffer[][]
  while (page.length > 0) {
    rows += page.length
    const last = page[page.length - 1] as Buffer[]
    page = next.all(last[0], PAGE_ROWS) as Buffer[][]
  }
  return rows / seconds(start)
}

const job = JSON.parse(process.argv[2] ?? '{}') as CeilingJob
const db = openDatabase(job.db, 'normal')
const insertsPerSecond = insertAll(db, job)
const pointReadsPerSecond = pointReads(db, job)
const scan = (columns: string) =>
  job.scans ? { iterator: iterateRows(db, columns), pages: keysetPages(db, columns) } : undefined
const items = scan('key, value') ?? { iterator: 0, pages: 0 }
const keys = scan('key') ?? { iterator: 0, pages: 0 }
db.close()

const result: CeilingResult = {
  insertsPerSecond,
  pointReadsPerSecond,
  itemsScanPerSecond: Math.max(items.iterator, items.pages),
  keysScanPerSecond: Math.max(keys.iterator, keys.pages),
  scanMethod:
    `items: iterator ${Math.round(items.iterator)}/s, pages ${Math.round(items.pages)}/s; ` +
    `keys: iterator ${Math.round(keys.iterator)}/s, pages ${Math.round(keys.pages)}/s`,
}
process.stdout.write(`${JSON.stringify(result)}\n`)
