/**
 * SQL for range work over the `kv` table: keyset-paged scans, chunked counts and chunked
 * deletes. Every statement is a range over the key index (`key >= ? AND key < ?`), never
 * LIKE or GLOB, and statements are prepared once per shape and reused.
 */
import type { Database, Statement } from 'better-sqlite3'
import type { Bound, KeyRange } from './range.js'

/** Values up to this size travel inside a scan page; larger ones are read one by one. */
export const INLINE_VALUE_BYTES = 16 * 1024

export type ScanColumns = 'keys' | 'items'

type RangeShape = { lower?: Bound; upper?: Bound }

function condition(shape: RangeShape): string {
  const parts: string[] = []
  if (shape.lower) parts.push(shape.lower.inclusive ? 'key >= @lower' : 'key > @lower')
  if (shape.upper) parts.push(shape.upper.inclusive ? 'key <= @upper' : 'key < @upper')
  return parts.length === 0 ? '' : `WHERE ${parts.join(' AND ')}`
}

function shapeName(shape: RangeShape): string {
  const lower = shape.lower ? (shape.lower.inclusive ? 'ge' : 'gt') : '-'
  const upper = shape.upper ? (shape.upper.inclusive ? 'le' : 'lt') : '-'
  return `${lower}${upper}`
}

/** Named parameters for a range's bounds, as the prepared statements expect them. */
export function boundParams(shape: RangeShape): Record<string, Buffer> {
  const params: Record<string, Buffer> = {}
  if (shape.lower) params.lower = shape.lower.key
  if (shape.upper) params.upper = shape.upper.key
  return params
}

/**
 * Narrows a range to what is left after `cursor`, the last key already handed out:
 * ascending scans continue above it, descending ones below it.
 */
export function afterCursor(range: KeyRange, cursor: Buffer, reverse: boolean): RangeShape {
  if (reverse) return { lower: range.lower, upper: { key: cursor, inclusive: false } }
  return { lower: { key: cursor, inclusive: false }, upper: range.upper }
}

export class RangeStatements {
  readonly #db: Database
  readonly #cache = new Map<string, Statement>()

  constructor(db: Database) {
    this.#db = db
  }

  /**
   * A page of keys, or of [key, value] rows for items, where the value is null when it
   * is too large to travel inside a page or lives in a blob. (SQLite reads a blob's
   * length from the record header, without loading the blob.)
   */
  page(columns: ScanColumns, shape: RangeShape, reverse: boolean): Statement {
    const select =
      columns === 'keys'
        ? 'SELECT key'
        : 'SELECT key, CASE WHEN blob IS NULL AND length(value) <= ' +
          `${INLINE_VALUE_BYTES} THEN value END`
    const order = reverse ? 'DESC' : 'ASC'
    // A page of keys comes as the keys themselves: no array per row to make and drop.
    return this.#prepare(
      `page:${columns}:${shapeName(shape)}:${order}`,
      `${select} FROM kv ${condition(shape)} ORDER BY key ${order} LIMIT @limit`,
      columns === 'keys' ? 'pluck' : 'raw',
    )
  }

  /** Counts up to @limit keys of a range, with the last one as the next cursor. */
  countChunk(shape: RangeShape): Statement {
    return this.#prepare(
      `count:${shapeName(shape)}`,
      'SELECT count(*), max(key) FROM ' +
        `(SELECT key FROM kv ${condition(shape)} ORDER BY key LIMIT @limit)`,
      'raw',
    )
  }

  /** Deletes the first @limit keys of a range; answers each deleted row's blob (or null). */
  deleteChunk(shape: RangeShape): Statement {
    return this.#prepare(
      `delete:${shapeName(shape)}`,
      `DELETE FROM kv WHERE key IN (SELECT key FROM kv ${condition(shape)} ` +
        'ORDER BY key LIMIT @limit) RETURNING blob',
      'pluck',
    )
  }

  /** `raw`: rows as arrays; `pluck`: each row as its one column's value. */
  #prepare(name: string, sql: string, shape: 'raw' | 'pluck'): Statement {
    let statement = this.#cache.get(name)
    if (!statement) {
      statement = this.#db.prepare(sql)
      if (shape === 'raw') statement.raw(true)
      else statement.pluck(true)
      this.#cache.set(name, statement)
    }
    return statement
  }
}
