/**
 * What the batch decoders (decode-frames.ts, decode-ndjson.ts) share: the record they
 * produce, the limits they enforce, and the error that names the bad record.
 *
 * A decoder is fed the body chunk by chunk, as it arrives, and appends the records each
 * chunk completes. Records may be split anywhere across chunks; only the unfinished one
 * is kept between calls.
 */

/** One batch record: a put, or a delete when `value` is null. */
export type BatchRecord = { key: Buffer; value: Buffer | null }

export type RecordLimits = { maxKeyBytes: number; maxValueBytes: number }

export type RecordDecoder = {
  /** Appends to `out` every record that `chunk` completes; throws a RecordError. */
  push(chunk: Buffer, out: BatchRecord[]): void
  /** The body has ended: appends a last record, or throws if one is left unfinished. */
  end(out: BatchRecord[]): void
}

export type RecordErrorCode = 'BAD_RECORD' | 'KEY_TOO_LARGE' | 'VALUE_TOO_LARGE'

/** A record that cannot be stored, with its 0-based position in the batch. */
export class RecordError extends Error {
  readonly code: RecordErrorCode
  readonly index: number
  /** A malformed record is a 400; a record over a limit is a 413, as for a single value. */
  readonly statusCode: 400 | 413

  constructor(code: RecordErrorCode, index: number, reason: string) {
    super(`record ${index}: ${reason}`)
    this.name = 'RecordError'
    this.code = code
    this.index = index
    this.statusCode = code === 'BAD_RECORD' ? 400 : 413
  }
}

/** Refuses an empty key or one over the limit; `length` may be known before the bytes. */
export function checkKeyLength(length: number, limits: RecordLimits, index: number): void {
  if (length === 0) throw new RecordError('BAD_RECORD', index, 'the key is empty')
  if (length > limits.maxKeyBytes) {
    const reason = `the key is ${length} bytes; the limit is ${limits.maxKeyBytes}`
    throw new RecordError('KEY_TOO_LARGE', index, reason)
  }
}

export function checkValueLength(length: number, limits: RecordLimits, index: number): void {
  if (length > limits.maxValueBytes) {
    const reason = `the value is ${length} bytes; the limit is ${limits.maxValueBytes}`
    throw new RecordError('VALUE_TOO_LARGE', index, reason)
  }
}
