/**
 * Feeds a batch body through a record decoder into a store batch, one chunk of records
 * at a time, as the body arrives.
 *
 * A chunk is written when it holds `records` records or `bytes` bytes of body,
 * whichever comes first (checked after each piece of the body, so a chunk can pass
 * either bound by at most one piece). The next piece is read only once the chunk is
 * written, so an upload never runs ahead of the store: memory stays at about one chunk
 * whatever the length of the stream, and TCP slows the client down meanwhile.
 */
import { ParkdError } from '../errors.js'
import type { BatchWriter } from '../store/types.js'
import { RecordError, type BatchRecord, type RecordDecoder } from '../wire/decode-record.js'

export type Chunking = { records: number; bytes: number }

/**
 * 10,000 records make a transaction long enough that its commit costs little per
 * record. 2 MiB bounds a chunk of large values: a 1 GB upload of 1,000-byte values
 * peaked at 157 MB of server memory with 8 MiB chunks and 143 MB with 2 MiB, for 4%
 * less throughput; small records reach the record count first either way.
 */
export const DEFAULT_CHUNKING: Chunking = { records: 10_000, bytes: 2 * 1024 * 1024 }

export type IngestOptions = {
  decoder: RecordDecoder
  writer: BatchWriter
  /** Records stay uncommitted until the caller commits: none count as stored before. */
  atomic: boolean
  chunking?: Chunking
}

export type BatchCounts = { put: number; deleted: number }

/** The body broke off before its end (the client went away); `committed` are stored. */
export class BodyBrokeOff extends Error {
  readonly committed: number

  constructor(committed: number, cause: unknown) {
    super('the batch upload broke off', { cause })
    this.name = 'BodyBrokeOff'
    this.committed = committed
  }
}

/** Wraps errors of the body stream so that they cannot pass for decoder or store errors. */
async function* pieces(body: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  try {
    yield* body
  } catch (error) {
    throw new BodyBrokeOff(0, error)
  }
}

/**
 * Reads `body` to its end and writes its records in order. Throws a ParkdError for a
 * bad record (400 or 413) or a store failure, with `committed` (and `index`) as details;
 * BodyBrokeOff when the body breaks off. Before a bad record or a break, the complete
 * records already decoded are written, so that what is stored is a prefix of the stream.
 */
export async function ingest(body: AsyncIterable<Buffer>, options: IngestOptions) {
  const { decoder } = options
  const chunk = new RecordChunk(options)

  try {
    for await (const piece of pieces(body)) {
      decoder.push(piece, chunk.records)
      if (chunk.isFull(piece.length)) await chunk.write()
    }
    decoder.end(chunk.records)
    await chunk.write()
  } catch (error) {
    throw await chunk.failed(error)
  }
  return chunk.counts
}

class RecordChunk {
  records: BatchRecord[] = []
  readonly counts: BatchCounts = { put: 0, deleted: 0 }
  readonly #writer: BatchWriter
  readonly #atomic: boolean
  readonly #chunking: Chunking
  #bytes = 0
  #written = 0

  constructor(options: IngestOptions) {
    this.#writer = options.writer
    this.#atomic = options.atomic
    this.#chunking = options.chunking ?? DEFAULT_CHUNKING
  }

  /** Counts `bytes` more of body; true when the chunk should be written now. */
  isFull(bytes: number): boolean {
    this.#bytes += bytes
    return this.records.length >= this.#chunking.records || this.#bytes >= this.#chunking.bytes
  }

  async write(): Promise<void> {
    const records = this.records
    this.records = []
    this.#bytes = 0
    if (records.length === 0) return

    await this.#writer.write(records)
    this.#written += records.length
    for (const record of records) {
      if (record.value === null) this.counts.deleted++
      else this.counts.put++
    }
  }

  /** The error to answer `error` with, once the records before it are written. */
  async failed(error: unknown): Promise<unknown> {
    const stored = () => (this.#atomic ? 0 : this.#written)
    if (!(error instanceof RecordError || error instanceof BodyBrokeOff)) {
      return withCommitted(error, stored())
    }

    try {
      if (!this.#atomic) await this.write()
    } catch (writeError) {
      return withCommitted(writeError, stored())
    }
    if (error instanceof BodyBrokeOff) return new BodyBrokeOff(stored(), error.cause)
    return new ParkdError(error.code, error.message, {
      statusCode: error.statusCode,
      details: { index: error.index, committed: stored() },
    })
  }
}

/** A store error with the count of records stored before it, for the client to resume. */
function withCommitted(error: unknown, committed: number): unknown {
  if (!(error instanceof ParkdError)) return error
  return new ParkdError(error.code, error.message, {
    statusCode: error.statusCode,
    details: { ...error.details, committed },
    cause: error.cause ?? error,
  })
}
