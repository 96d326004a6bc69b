/**
 * Query strings of the listing, count and range-delete requests. Bounds and prefixes are
 * bytes, so each is percent-encoded byte by byte (every byte but unreserved ASCII is
 * escaped, `+` included, which the server would otherwise read as a space).
 */
import { percentEncodeBytes } from '../wire/percent.js'
import { toBytes, type BytesInput } from './bytes.js'

/**
 * Which keys an operation covers; every bound is a whole key and all of them combine
 * with AND.
 *
 * @example
 * await client.count({ from: 'log/2024-01', before: 'log/2024-02' })
 */
export type Selection = {
  /** Keys >= `from`. */
  from?: BytesInput
  /** Keys <= `to`. */
  to?: BytesInput
  /** Keys > `after` (for paging; not with `from`). */
  after?: BytesInput
  /** Keys < `before` (for paging backwards; not with `to`). */
  before?: BytesInput
  /** Keys that start with `prefix`. */
  prefix?: BytesInput
}

/**
 * A selection and how to walk it. To page: ask with `limit`, then again with `after`
 * set to the last key received, until fewer than `limit` records come back.
 *
 * @example
 * const page = client.keys({ prefix: 'pet/', after: 'pet/cat', limit: 100 })
 */
export type ListOptions = Selection & {
  /** With `prefix`: keys come back with the prefix removed. */
  strip?: boolean
  /** At most this many records (an integer >= 0). */
  limit?: number
  /** Descending byte-wise order. */
  reverse?: boolean
}

/**
 * What `deleteRange` deletes: a selection, or every key with `all: true` alone.
 *
 * @example
 * await client.deleteRange({ prefix: 'session/', before: 'session/2024' })
 */
export type DeleteRangeOptions = Selection & {
  /** Deletes every key; refused by the server beside a selection. */
  all?: boolean
}

const BOUNDS = ['from', 'to', 'after', 'before', 'prefix'] as const

function boundParts(selection: Selection): string[] {
  const parts: string[] = []
  for (const name of BOUNDS) {
    const value = selection[name]
    if (value !== undefined) parts.push(`${name}=${percentEncodeBytes(toBytes(value, name))}`)
  }
  return parts
}

function flagParts(options: Record<string, unknown>, names: readonly string[]): string[] {
  return names.filter((name) => options[name] === true).map((name) => `${name}=true`)
}

function limitParts(limit: number | undefined): string[] {
  if (limit === undefined) return []
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new RangeError(`option 'limit' must be an integer >= 0; got ${limit}`)
  }
  return [`limit=${limit}`]
}

function joined(parts: string[]): string {
  return parts.length === 0 ? '' : `?${parts.join('&')}`
}

/** `?from=...&to=...` for GET /count, or '' for everything. */
export function selectionQuery(selection: Selection = {}): string {
  return joined(boundParts(selection))
}

/** The query of GET /keys and GET /items. */
export function listingQuery(options: ListOptions = {}): string {
  const flags = flagParts(options, ['strip', 'reverse'])
  return joined([...boundParts(options), ...flags, ...limitParts(options.limit)])
}

/** The query of DELETE /keys. */
export function deleteRangeQuery(options: DeleteRangeOptions): string {
  return joined([...boundParts(options), ...flagParts(options, ['all'])])
}
