/**
 * The SQLite engine of the store contract, on better-sqlite3.
 *
 * One connection serves reads and grouped writes (see WriteQueue). Atomic batches get a
 * second connection that holds the write lock for the length of the upload: in WAL mode
 * the main connection keeps reading the last committed state meanwhile, and its queued
 * writes wait until the batch commits or rolls back (see sqlite-atomic.ts). How rows
 * and their versions are written is told in sqlite-rows.ts, and how large values are
 * kept in sqlite-blobs.ts.
 */
import fs from 'node:fs'
import { setImmediate as nextTurn } from 'node:timers/promises'
import type Database from 'better-sqlite3'
import type { Statement } from 'better-sqlite3'
import { ParkdError, StartupError } from '../errors.js'
import { acquireOwnerLock, type OwnerLock } from './owner-lock.js'
import { selectionToRange } from './range.js'
import { atomicBatchWriter } from './sqlite-atomic.js'
import { Blobs, CHUNK_BYTES, inChunks } from './sqlite-blobs.js'
import { EMPTY, RowWrites, Versions } from './sqlite-rows.js'
import { openDatabase, type SyncMode } from './sqlite-schema.js'
import { translateSqliteError, withTranslatedErrors } from './sqlite-errors.js'
import { afterCursor, boundParams, RangeStatements, type ScanColumns } from './sqlite-range-sql.js'
import type {
  BatchOptions,
  BatchWriter,
  Item,
  Precondition,
  PutResult,
  ScanOptions,
  Selection,
  Store,
  StoreStats,
  StoredValue,
  ValueInfo,
  ValueRead,
} from './types.js'
import { WriteQueue } from './write-queue.js'

export type SqliteStoreOptions = {
  /** Path of the database file; created (readable by the owner only) when missing. */
  path: string
  sync?: SyncMode
  /** A cap on the database file's size; past it writes fail with STORAGE_FULL. */
  maxBytes?: number
}

const KEYS_PAGE_ROWS = 1000
const ITEMS_PAGE_ROWS = 256
const COUNT_CHUNK_ROWS = 50_000
const DELETE_CHUNK_ROWS = 2000

export class SqliteStore implements Store {
  readonly #path: string
  readonly #sync: SyncMode
  readonly #maxBytes: number | undefined
  readonly #lock: OwnerLock
  readonly #db: Database.Database
  readonly #writes: RowWrites
  readonly #ranges: RangeStatements
  readonly #queue: WriteQueue
  readonly #read: { value: Statement; stat: Statement; ping: Statement }
  readonly #blobs: Blobs
  readonly #versions: Versions
  #closed = false

  private constructor(options: SqliteStoreOptions, lock: OwnerLock, db: Database.Database) {
    this.#path = options.path
    this.#sync = options.sync ?? 'normal'
    this.#maxBytes = options.maxBytes
    this.#lock = lock
    this.#db = db
    this.#blobs = new Blobs(db)
    const rev = db.prepare("SELECT value FROM meta WHERE name = 'rev'").pluck().get() as number
    this.#versions = new Versions(rev)
    this.#writes = new RowWrites(db, { blobs: this.#blobs, versions: this.#versions })
    this.#ranges = new RangeStatements(db)
    this.#queue = new WriteQueue(db, {
      translate: translateSqliteError,
      beforeCommit: () => {
        this.#writes.saveVersion()
        this.#blobs.sweep()
      },
    })
    this.#read = {
      value: db.prepare('SELECT rev, value, blob, blob_bytes FROM kv WHERE key = ?').raw(true),
      stat: db
        .prepare('SELECT rev, coalesce(blob_bytes, length(value)) FROM kv WHERE key = ?')
        .raw(true),
      ping: db.prepare('SELECT 1').pluck(),
    }
  }

  /** Opens (or creates) the database; fails with a StartupError the operator can read. */
  static open(options: SqliteStoreOptions): SqliteStore {
    const lock = acquireOwnerLock(options.path)
    try {
      const db = openDatabase(options.path, options.sync ?? 'normal', options.maxBytes)
      return new SqliteStore(options, lock, db)
    } catch (error) {
      lock.release()
      throw error
    }
  }

  async get(key: Buffer): Promise<StoredValue | undefined> {
    return withTranslatedErrors(() => {
      const row = this.#read.value.get(key) as StoredRow | undefined
      if (!row) return undefined
      const [rev, value, blob] = row
      return { version: String(rev), value: blob === null ? value : this.#blobs.assemble(blob) }
    })
  }

  async read(key: Buffer): Promise<ValueRead | undefined> {
    return withTranslatedErrors(() => {
      const row = this.#read.value.get(key) as StoredRow | undefined
      if (!row) return undefined
      const [rev, value, blob, blobBytes] = row
      const version = String(rev)
      if (blob === null) return { version, size: value.length, body: value }

      // A freed blob may be waiting for this reader: sweep once it is done.
      const body = this.#blobs.pieces(blob, blobBytes as number, () => this.#sweepSoon())
      return { version, size: blobBytes as number, body }
    })
  }

  async stat(key: Buffer): Promise<ValueInfo | undefined> {
    const row = withTranslatedErrors(() => this.#read.stat.get(key)) as [number, number] | undefined
    return row && { version: String(row[0]), size: row[1] }
  }

  /**
   * One writing statement after the checks, so no savepoint, unless a large value adds
   * its chunks; the group saves the counter.
   */
  put(key: Buffer, value: Buffer, precondition?: Precondition): Promise<PutResult> {
    const write = () =>
      this.#writes.writeRow(key, precondition, () => this.#writes.stored(key, value))
    return this.#queue.enqueue(write, { savepoint: value.length > CHUNK_BYTES })
  }

  /**
   * The chunks are written and committed one by one as they arrive, invisible until the
   * row points at them; a failure drops them (or, after a crash, the next open does).
   * The precondition is checked before the first piece is read, so that a conditional
   * upload that cannot succeed fails at once, and again with the final write.
   */
  async putStream(
    key: Buffer,
    pieces: AsyncIterable<Buffer>,
    precondition?: Precondition,
  ): Promise<PutResult> {
    withTranslatedErrors(() => this.#writes.checkPrecondition(key, precondition))
    const blob = this.#blobs.nextId()
    let staged = 0
    let bytes = 0
    const stage = (chunk: Buffer) => {
      const seq = staged++
      bytes += chunk.length
      const insert = () => this.#writes.chunks.insert.run(blob, seq, chunk)
      return this.#queue.enqueue(insert, { savepoint: false })
    }

    try {
      let held: Buffer | undefined
      for await (const chunk of inChunks(pieces, CHUNK_BYTES)) {
        if (held) await stage(held)
        held = chunk
      }
      if (staged === 0) return await this.put(key, held ?? EMPTY, precondition)

      await stage(held as Buffer)
      this.#blobs.holds(key)
      const point = () => this.#writes.writeRow(key, precondition, () => [EMPTY, blob, bytes])
      return await this.#queue.enqueue(point)
    } catch (error) {
      if (staged > 0)
        await this.#queue.enqueue(() => this.#writes.chunks.drop.run(blob)).catch(noop)
      throw error
    }
  }

  delete(key: Buffer, precondition?: Precondition): Promise<boolean> {
    const write = () => this.#writes.removeRow(key, precondition)
    return this.#queue.enqueue(write, { savepoint: false })
  }

  async *scanKeys(options: ScanOptions): AsyncGenerator<Buffer[]> {
    const budget = { remaining: options.limit ?? Number.POSITIVE_INFINITY }
    const keyOf = (key: Buffer) => key
    yield* this.#scanPages<Buffer>('keys', options, KEYS_PAGE_ROWS, budget, keyOf)
  }

  async *scanItems(options: ScanOptions): AsyncGenerator<Item[]> {
    const budget = { remaining: options.limit ?? Number.POSITIVE_INFINITY }
    const keyOf = (row: ItemRow) => row[0]
    for await (const rows of this.#scanPages('items', options, ITEMS_PAGE_ROWS, budget, keyOf)) {
      let inline: Item[] = []
      // A null value is one too large for a page (values are never null in the table).
      for (const [key, value] of rows) {
        if (value !== null) {
          inline.push({ key, value })
          continue
        }

        // A large value is read on its own, so that a page never holds many of them.
        if (inline.length > 0) yield inline
        inline = []
        const large = await this.get(key)
        if (large) yield [{ key, value: large.value }]
        // Deleted since its page was read: it takes no place of the limit, so that a
        // client paging until a short page comes back does not stop early.
        else budget.remaining += 1
      }
      if (inline.length > 0) yield inline
    }
  }

  /**
   * Keyset paging: each page is one short query that starts after the last key handed
   * out, so no statement stays open while the consumer awaits. `budget` is the number
   * of rows still wanted; the consumer may give some back while it holds a page.
   */
  async *#scanPages<Row>(
    columns: ScanColumns,
    options: ScanOptions,
    pageRows: number,
    budget: { remaining: number },
    keyOf: (row: Row) => Buffer,
  ): AsyncGenerator<Row[]> {
    const range = selectionToRange(options)
    const reverse = options.reverse ?? false
    if (range.empty) return

    let shape: ReturnType<typeof afterCursor> = range
    while (budget.remaining > 0) {
      const limit = Math.min(pageRows, budget.remaining)
      const statement = this.#ranges.page(columns, shape, reverse)
      const rows = withTranslatedErrors(() =>
        statement.all({ ...boundParams(shape), limit }),
      ) as Row[]
      if (rows.length === 0) return

      budget.remaining -= rows.length
      shape = afterCursor(range, keyOf(rows[rows.length - 1] as Row), reverse)
      const lastPage = rows.length < limit
      yield rows
      if (lastPage) return
    }
  }

  async count(selection: Selection): Promise<number> {
    const range = selectionToRange(selection)
    if (range.empty) return 0

    let total = 0
    let shape: ReturnType<typeof afterCursor> = range
    for (;;) {
      const statement = this.#ranges.countChunk(shape)
      const [counted, last] = withTranslatedErrors(() =>
        statement.get({ ...boundParams(shape), limit: COUNT_CHUNK_ROWS }),
      ) as [number, Buffer | null]
      total += counted
      if (counted < COUNT_CHUNK_ROWS || last === null) return total

      shape = afterCursor(range, last, false)
      // Let other requests run between chunks of a very large count.
      await nextTurn()
    }
  }

  async deleteRange(selection: Selection): Promise<number> {
    const range = selectionToRange(selection)
    if (range.empty) return 0

    let total = 0
    for (;;) {
      const statement = this.#ranges.deleteChunk(range)
      const params = { ...boundParams(range), limit: DELETE_CHUNK_ROWS }
      const deleteChunk = () => {
        const blobs = statement.all(params) as Array<number | null>
        for (const blob of blobs) if (blob !== null) this.#writes.chunks.free.run(blob)
        return blobs.length
      }
      const deleted = await this.#queue.enqueue(deleteChunk)
      total += deleted
      if (deleted < DELETE_CHUNK_ROWS) return total
    }
  }

  async batch(options: BatchOptions = {}): Promise<BatchWriter> {
    if (options.atomic) return this.#atomicBatch()

    return {
      write: (ops) => this.#queue.enqueue(() => this.#writes.applyOps(ops)),
      commit: async () => {},
      abort: async () => {},
    }
  }

  /** An all-or-nothing batch; how it works is told in sqlite-atomic.ts. */
  async #atomicBatch(): Promise<BatchWriter> {
    const release = await this.#queue.hold()

    let connection: Database.Database | undefined
    try {
      connection = openDatabase(this.#path, this.#sync, this.#maxBytes)
      connection.exec('BEGIN IMMEDIATE')
    } catch (error) {
      connection?.close()
      release()
      throw error instanceof StartupError
        ? new ParkdError('STORAGE_IO_ERROR', undefined, { cause: error })
        : translateSqliteError(error)
    }

    const writes = new RowWrites(connection, { blobs: this.#blobs, versions: this.#versions })
    return atomicBatchWriter({ connection, apply: (ops) => writes.applyOps(ops), release })
  }

  /** Runs a group soon, whose end sweeps the freed blobs that nobody reads any more. */
  #sweepSoon(): void {
    this.#queue.enqueue(() => undefined).catch(noop)
  }

  async backup(destination: string): Promise<void> {
    try {
      await this.#db.backup(destination)
    } catch (error) {
      throw translateSqliteError(error)
    }
  }

  async ping(): Promise<void> {
    withTranslatedErrors(() => this.#read.ping.get())
  }

  stats(): StoreStats {
    return { fileBytes: fileSize(this.#path), walBytes: fileSize(`${this.#path}-wal`) }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true

    // Queued writes were acknowledged to nobody yet: let them (and any atomic batch
    // holding the queue) finish before the connection goes.
    await this.#queue.drain()
    this.#db.close()
    this.#lock.release()
  }
}

/** A row of an items page: the key, and its value unless it is read on its own. */
type ItemRow = [key: Buffer, value: Buffer | null]

/** [rev, value, blob, blob_bytes] */
type StoredRow = [number, Buffer, number | null, number | null]

/** For writes whose failure has nothing left to undo: the next open tidies up. */
function noop(): void {}

function fileSize(path: string): number {
  try {
    return fs.statSync(path).size
  } catch {
    return 0
  }
}
