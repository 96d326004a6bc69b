/**
 * Writing rows of `kv` on one connection: a value with a new version, inline or as a
 * blob, freeing the blob a row held before, and batches of records. The engine has one
 * of these for its main connection and one for each atomic batch's connection; they
 * share the version counter and the blob bookkeeping.
 *
 * Every value carries a version, a number taken from a counter that only grows and is
 * saved in the `meta` table by the same transaction as the write: a value rewritten
 * with the same bytes still gets a new version, and a deleted and re-created key never
 * gets an old one back.
 */
import type { Database, Statement } from 'better-sqlite3'
import { assertPrecondition } from './precondition.js'
import {
  CHUNK_BYTES,
  prepareChunkWrites,
  writeChunks,
  type Blobs,
  type ChunkWrites,
} from './sqlite-blobs.js'
import type { BatchOp, Precondition, PutResult } from './types.js'

/** How a value sits in its row: inline, or an empty value and the blob holding it. */
export type StoredForm = [value: Buffer, blob: number | null, blobBytes: number | null]

export const EMPTY = Buffer.alloc(0)

/** The version counter, shared by every connection of one engine. */
export class Versions {
  last: number
  /** The counter as the main connection last wrote it to `meta`. */
  saved: number

  constructor(last: number) {
    this.last = last
    this.saved = last
  }

  next(): number {
    this.last += 1
    return this.last
  }
}

export type RowShared = { blobs: Blobs; versions: Versions }

export class RowWrites {
  readonly chunks: ChunkWrites
  readonly #db: Database
  readonly #blobs: Blobs
  readonly #versions: Versions
  readonly #version: Statement
  readonly #insert: Statement
  readonly #update: Statement
  readonly #upsert: Statement
  readonly #remove: Statement
  readonly #saveVersion: Statement

  constructor(db: Database, shared: RowShared) {
    this.#db = db
    this.#blobs = shared.blobs
    this.#versions = shared.versions
    this.chunks = prepareChunkWrites(db)
    const columns = '(key, rev, value, blob, blob_bytes) VALUES (?, ?, ?, ?, ?)'
    this.#version = db.prepare('SELECT rev FROM kv WHERE key = ?').pluck()
    this.#insert = db.prepare(`INSERT INTO kv ${columns}`)
    this.#update = db.prepare(
      'UPDATE kv SET rev = ?, value = ?, blob = ?, blob_bytes = ? WHERE key = ?',
    )
    this.#upsert = db.prepare(
      `INSERT INTO kv ${columns} ON CONFLICT (key) DO UPDATE SET rev = excluded.rev, ` +
        'value = excluded.value, blob = excluded.blob, blob_bytes = excluded.blob_bytes',
    )
    this.#remove = db.prepare('DELETE FROM kv WHERE key = ?')
    this.#saveVersion = db.prepare("UPDATE meta SET value = ? WHERE name = 'rev'")
  }

  /** Checks the precondition, then writes the key's row with a new version. */
  writeRow(key: Buffer, precondition: Precondition | undefined, form: () => StoredForm) {
    const current = this.#currentVersion(key, precondition)
    const rev = this.#versions.next()
    const [value, blob, blobBytes] = form()
    if (current === undefined) this.#insert.run(key, rev, value, blob, blobBytes)
    else this.#replacing(key, () => this.#update.run(rev, value, blob, blobBytes, key))
    return { created: current === undefined, version: String(rev) } satisfies PutResult
  }

  /** Checks the precondition, then deletes the key's row; false when there was none. */
  removeRow(key: Buffer, precondition: Precondition | undefined): boolean {
    if (precondition) this.#currentVersion(key, precondition)
    return this.#replacing(key, () => this.#remove.run(key).changes > 0)
  }

  /** A value as its row holds it; a large one has its chunks written first. */
  stored(key: Buffer, value: Buffer): StoredForm {
    if (value.length <= CHUNK_BYTES) return [value, null, null]
    const blob = this.#blobs.nextId()
    this.#blobs.holds(key)
    writeChunks(this.chunks, blob, value)
    return [EMPTY, blob, value.length]
  }

  /** Writes batch records in order, and the counter once for all of them. */
  applyOps(ops: readonly BatchOp[]): void {
    const before = this.#versions.last
    for (const op of ops) {
      this.#blobs.freeHeldBy(this.chunks, op.key)
      if (op.value === null) this.#remove.run(op.key)
      else this.#upsert.run(op.key, this.#versions.next(), ...this.stored(op.key, op.value))
    }
    if (this.#versions.last !== before) this.#saveVersion.run(this.#versions.last)
  }

  /**
   * Runs at the end of every group on the main connection: one write of the counter
   * for all the puts of the group instead of one each. A group that rolls back takes
   * its rows with it, so the saved counter never falls behind a committed version.
   */
  saveVersion(): void {
    if (this.#versions.last === this.#versions.saved) return
    this.#saveVersion.run(this.#versions.last)
    this.#versions.saved = this.#versions.last
  }

  /** Throws PRECONDITION_FAILED now if `precondition` does not hold; writes nothing. */
  checkPrecondition(key: Buffer, precondition: Precondition | undefined): void {
    if (precondition) this.#currentVersion(key, precondition)
  }

  #currentVersion(key: Buffer, precondition: Precondition | undefined): number | undefined {
    const current = this.#version.get(key) as number | undefined
    assertPrecondition(current === undefined ? undefined : String(current), precondition)
    return current
  }

  /**
   * Runs `write`, which replaces or deletes the row of `key`, after listing the blob the
   * row may hold as freed. Both then run in a savepoint: were the write to fail alone,
   * the blob would be swept while its row still pointed at it.
   */
  #replacing<T>(key: Buffer, write: () => T): T {
    if (!this.#blobs.mayHold(key)) return write()
    return this.#db.transaction(() => {
      this.#blobs.freeHeldBy(this.chunks, key)
      return write()
    })()
  }
}
