/**
 * Large values as blobs: numbered runs of 1 MiB chunks in the `chunk` table, which a kv
 * row points to. A value split so is never one 64 MiB piece anywhere: a streamed PUT
 * writes its chunks as they arrive and a GET sends them one by one, so the server's
 * memory holds a chunk or two, not the value (SQLite would otherwise hold it twice more,
 * as a bound parameter and as a record).
 *
 * A blob is written before the row that points to it commits, so until then it is
 * invisible; one left behind by a crash or a failed write is deleted at the next open.
 * A blob that loses its row is listed in `freed_blob` by the same transaction, and
 * deleted by `sweep` once no GET is still sending it, so a reader never loses chunks
 * midway. To find such blobs without a lookup per written record, the engine keeps the
 * keys that may hold one in memory (`mayHold`): there are few, each being 1 MiB or more,
 * and a key kept there wrongly costs only a lookup, while one missing would only leave
 * chunks behind until the next open.
 */
import type { Database, Statement } from 'better-sqlite3'
import { ParkdError } from '../errors.js'

/** Values longer than this are stored as a blob. */
export const CHUNK_BYTES = 1024 * 1024

export type ChunkWrites = {
  insert: Statement
  drop: Statement
  /** Lists a blob whose row went; run in the transaction of the write that did it. */
  free: Statement
  /** The blob of a key's row, if it has one. */
  blobOf: Statement
}

/** The statements that write chunks, for one connection. */
export function prepareChunkWrites(db: Database): ChunkWrites {
  return {
    insert: db.prepare('INSERT INTO chunk (blob, seq, bytes) VALUES (?, ?, ?)'),
    drop: db.prepare('DELETE FROM chunk WHERE blob = ?'),
    free: db.prepare('INSERT OR IGNORE INTO freed_blob (blob) VALUES (?)'),
    blobOf: db.prepare('SELECT blob FROM kv WHERE key = ?').pluck(),
  }
}

/** Writes `value` as the chunks of `blob`, in order; runs inside the caller's transaction. */
export function writeChunks(writes: ChunkWrites, blob: number, value: Buffer): void {
  for (let seq = 0; seq * CHUNK_BYTES < value.length; seq++) {
    const start = seq * CHUNK_BYTES
    writes.insert.run(blob, seq, value.subarray(start, start + CHUNK_BYTES))
  }
}

/** A blob being sent, piece by piece; `release` lets it be deleted if it was freed. */
export type BlobPieces = AsyncIterable<Buffer> & { release(): void }

/**
 * Nobody reads yet, so every freed blob and every blob without a row can go. Looked
 * for first, so that a file opened read-only still opens when there is nothing to do.
 */
function dropLeftovers(db: Database): void {
  const orphans = 'FROM chunk WHERE blob NOT IN (SELECT blob FROM kv WHERE blob IS NOT NULL)'
  const found = db.prepare(
    `SELECT EXISTS (SELECT 1 ${orphans}) OR EXISTS (SELECT 1 FROM freed_blob)`,
  )
  if (!found.pluck().get()) return
  db.exec(`BEGIN; DELETE ${orphans}; DELETE FROM freed_blob; COMMIT`)
}

export class Blobs {
  readonly #read: Statement
  readonly #readAll: Statement
  readonly #anyFreed: Statement
  readonly #sweepChunks: Statement
  readonly #sweepFreed: Statement
  /** How many GETs are sending each blob. */
  readonly #readers = new Map<number, number>()
  /** Keys (as latin1 text, one character a byte) that may hold a blob. */
  readonly #keys = new Set<string>()
  #lastId: number

  constructor(db: Database) {
    this.#read = db.prepare('SELECT bytes FROM chunk WHERE blob = ? AND seq = ?').pluck()
    this.#readAll = db.prepare('SELECT bytes FROM chunk WHERE blob = ? ORDER BY seq').pluck()
    this.#anyFreed = db.prepare('SELECT EXISTS (SELECT 1 FROM freed_blob)').pluck()
    const unread = 'SELECT blob FROM freed_blob WHERE blob NOT IN (SELECT value FROM json_each(?))'
    this.#sweepChunks = db.prepare(`DELETE FROM chunk WHERE blob IN (${unread})`)
    this.#sweepFreed = db.prepare(`DELETE FROM freed_blob WHERE blob IN (${unread})`)

    dropLeftovers(db)
    const last = db.prepare('SELECT max(blob) FROM kv WHERE blob IS NOT NULL').pluck().get()
    this.#lastId = (last as number | null) ?? 0
    const keys = db.prepare('SELECT key FROM kv WHERE blob IS NOT NULL').pluck().iterate()
    for (const key of keys as Iterable<Buffer>) this.#keys.add(key.toString('latin1'))
  }

  /** Whether `key` may hold a blob; false is certain. */
  mayHold(key: Buffer): boolean {
    return this.#keys.size > 0 && this.#keys.has(key.toString('latin1'))
  }

  /** Marks `key` as one that may hold a blob, before the blob is written. */
  holds(key: Buffer): void {
    this.#keys.add(key.toString('latin1'))
  }

  /**
   * Lists the blob `key` holds now, if any, as freed: the caller is about to give the
   * key another value or delete it, in the same transaction.
   */
  freeHeldBy(writes: ChunkWrites, key: Buffer): void {
    if (!this.mayHold(key)) return
    const blob = writes.blobOf.get(key) as number | null | undefined
    if (blob !== null && blob !== undefined) writes.free.run(blob)
  }

  /** A number no blob has had since the file was opened, nor has now. */
  nextId(): number {
    this.#lastId += 1
    return this.#lastId
  }

  /** The whole value of a blob, for callers that need it in one piece. */
  assemble(blob: number): Buffer {
    return Buffer.concat(this.#readAll.all(blob) as Buffer[])
  }

  /**
   * The chunks of `blob`, read one at a time as the consumer asks. It counts as read
   * from this call (so the caller must hold no await between reading the row and
   * calling this) until the iteration ends or `release` is called.
   */
  pieces(blob: number, bytes: number, afterRelease: () => void): BlobPieces {
    this.#readers.set(blob, (this.#readers.get(blob) ?? 0) + 1)
    let released = false
    const release = () => {
      if (released) return
      released = true
      const left = (this.#readers.get(blob) ?? 1) - 1
      if (left > 0) this.#readers.set(blob, left)
      else this.#readers.delete(blob)
      afterRelease()
    }

    const count = Math.ceil(bytes / CHUNK_BYTES)
    const read = (seq: number) => this.#read.get(blob, seq) as Buffer | undefined
    return {
      release,
      async *[Symbol.asyncIterator]() {
        try {
          for (let seq = 0; seq < count; seq++) {
            const chunk = read(seq)
            if (!chunk) throw new ParkdError('STORAGE_IO_ERROR', 'a chunk of the value is missing')
            yield chunk
          }
        } finally {
          release()
        }
      },
    }
  }

  /** Deletes the freed blobs nobody is sending; runs inside a write transaction. */
  sweep(): void {
    if (!this.#anyFreed.get()) return
    const reading = JSON.stringify([...this.#readers.keys()])
    this.#sweepChunks.run(reading)
    this.#sweepFreed.run(reading)
  }
}

/**
 * Re-cuts a stream of pieces of any size into chunks of exactly `size` bytes (the last
 * may be shorter), holding at most one chunk's worth at a time.
 */
export async function* inChunks(pieces: AsyncIterable<Buffer>, size: number) {
  let parts: Buffer[] = []
  let held = 0
  for await (let piece of pieces) {
    while (held + piece.length >= size) {
      const take = size - held
      parts.push(piece.subarray(0, take))
      yield Buffer.concat(parts, size)
      piece = piece.subarray(take)
      parts = []
      held = 0
    }
    if (piece.length > 0) {
      parts.push(piece)
      held += piece.length
    }
  }
  if (held > 0) yield Buffer.concat(parts, held)
}
