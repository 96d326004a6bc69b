/**
 * The body of a batch upload: records from any iterable, sync or async, encoded as
 * binary frames (see records.ts) and pulled only as fast as the connection takes them,
 * so the upload never holds more than one group of records whatever the length of the
 * source (it may be endless).
 *
 * Records leave in groups of about GROUP_BYTES, each encoded into one buffer, because a
 * write per record would cost more than the record. An async source may pause (it
 * waits for its own input): when its next record is not ready at once, the group held
 * so far is sent first, so that records never wait in the client for later ones.
 */
import { Readable } from 'node:stream'
import { encodeItemFrames } from '../wire/encode-frames.js'
import { FRAME_DELETE, FRAME_LENGTH_BYTES } from '../wire/records.js'
import type { Item } from '../store/types.js'
import { toBytes, type BytesInput } from './bytes.js'

/**
 * A record source: anything `for await` can walk.
 *
 * @example
 * async function* fromFile() { yield ['k', 'v'] as const }
 * await client.putMany(fromFile())
 */
export type Source<T> = Iterable<T> | AsyncIterable<T>

/**
 * One put of a batch: a key and its value.
 *
 * @example
 * const entries: BatchEntry[] = [['pet/cat', 'Felis catus'], [Buffer.from([1]), '']]
 */
export type BatchEntry = readonly [key: BytesInput, value: BytesInput]

const GROUP_BYTES = 64 * 1024
/** Microtask turns after which a record that has not settled counts as not ready. */
const READY_TURNS = 8

/** How records of a source become encodable ones, and how much of a group each takes. */
type Grouping<T, R> = {
  convert: (record: T) => R
  sizeOf: (record: R) => number
  signal: AbortSignal | undefined
}

function isAsync<T>(source: Source<T>): source is AsyncIterable<T> {
  return typeof (source as AsyncIterable<T>)[Symbol.asyncIterator] === 'function'
}

/** Refuses a source that is neither iterable nor async iterable, before any request. */
export function checkSource(source: unknown, name: string): void {
  const iterable = source as Partial<Iterable<unknown> & AsyncIterable<unknown>> | null
  const ok =
    typeof iterable?.[Symbol.iterator] === 'function' ||
    typeof iterable?.[Symbol.asyncIterator] === 'function'
  if (!ok) throw new TypeError(`${name} must be an iterable or an async iterable`)
}

/** True when `promise` settles within a few microtask turns (it waits for no I/O). */
async function settlesAtOnce(promise: Promise<unknown>): Promise<boolean> {
  let settled = false
  const mark = () => (settled = true)
  promise.then(mark, mark)
  for (let turn = 0; turn < READY_TURNS && !settled; turn++) await null
  return settled
}

/** Collects records into groups of about GROUP_BYTES. */
class Group<R> {
  records: R[] = []
  bytes = 0

  add(record: R, size: number): void {
    this.records.push(record)
    this.bytes += size
  }

  get full(): boolean {
    return this.bytes >= GROUP_BYTES
  }

  /** Hands the records out and starts a new group. */
  take(): R[] {
    const records = this.records
    this.records = []
    this.bytes = 0
    return records
  }
}

function* syncGroups<T, R>(source: Iterable<T>, grouping: Grouping<T, R>) {
  const { convert, sizeOf, signal } = grouping
  const group = new Group<R>()
  for (const record of source) {
    signal?.throwIfAborted()
    const converted = convert(record)
    group.add(converted, sizeOf(converted))
    if (group.full) yield group.take()
  }
  if (group.records.length > 0) yield group.take()
}

async function* asyncGroups<T, R>(source: AsyncIterable<T>, grouping: Grouping<T, R>) {
  const { convert, sizeOf, signal } = grouping
  const iterator = source[Symbol.asyncIterator]()
  const group = new Group<R>()
  try {
    for (;;) {
      if (group.full) yield group.take()
      // A record pending across a yield always has settlesAtOnce's handler, so that a
      // source failing while the upload stops at that yield is not an unhandled error.
      const next = iterator.next()
      if (group.records.length > 0 && !(await settlesAtOnce(next))) yield group.take()

      const result = await next
      signal?.throwIfAborted()
      if (result.done) break
      const converted = convert(result.value)
      group.add(converted, sizeOf(converted))
    }
    if (group.records.length > 0) yield group.take()
  } finally {
    // The upload stopped early (an abort, a refused batch): let the source clean up.
    await iterator.return?.()
  }
}

function groups<T, R>(source: Source<T>, grouping: Grouping<T, R>) {
  return isAsync(source) ? asyncGroups(source, grouping) : syncGroups(source, grouping)
}

function toItem(entry: BatchEntry): Item {
  if (!Array.isArray(entry)) throw new TypeError('a batch entry must be a [key, value] pair')
  return { key: toBytes(entry[0], 'a key'), value: toBytes(entry[1], 'a value') }
}

/** Delete frames: a key frame and the length FRAME_DELETE, with no value bytes. */
function encodeDeleteFrames(keys: readonly Buffer[]): Buffer {
  let size = 0
  for (const key of keys) size += 2 * FRAME_LENGTH_BYTES + key.length

  const out = Buffer.allocUnsafe(size)
  let at = 0
  for (const key of keys) {
    out.writeUInt32BE(key.length, at)
    at += FRAME_LENGTH_BYTES + key.copy(out, at + FRAME_LENGTH_BYTES)
    out.writeUInt32BE(FRAME_DELETE, at)
    at += FRAME_LENGTH_BYTES
  }
  return out
}

async function* putChunks(entries: Source<BatchEntry>, signal: AbortSignal | undefined) {
  const sizeOf = (item: Item) => 2 * FRAME_LENGTH_BYTES + item.key.length + item.value.length
  for await (const items of groups(entries, { convert: toItem, sizeOf, signal })) {
    yield* encodeItemFrames(items)
  }
}

async function* deleteChunks(keys: Source<BytesInput>, signal: AbortSignal | undefined) {
  const convert = (key: BytesInput) => toBytes(key, 'a key')
  const sizeOf = (key: Buffer) => 2 * FRAME_LENGTH_BYTES + key.length
  for await (const group of groups(keys, { convert, sizeOf, signal })) {
    yield encodeDeleteFrames(group)
  }
}

/** The frames of `entries` as puts, as a stream for a request body. */
export function putBody(entries: Source<BatchEntry>, signal?: AbortSignal): Readable {
  return Readable.from(putChunks(entries, signal), { objectMode: false })
}

/** The frames of `keys` as deletes, as a stream for a request body. */
export function deleteBody(keys: Source<BytesInput>, signal?: AbortSignal): Readable {
  return Readable.from(deleteChunks(keys, signal), { objectMode: false })
}
