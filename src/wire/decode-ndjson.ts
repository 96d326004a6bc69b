/**
 * Decodes a batch of NDJSON records (see records.ts): one JSON object per line, with
 * `key` or `key_b64`, and `value` or `value_b64` or `"delete": true`. Blank lines are
 * skipped; a last line without a newline still counts.
 *
 * The whole lines of a chunk are checked for UTF-8 and turned into text in one go; only
 * the unfinished line at its end is kept, copied into a carry-over buffer that is capped
 * (see maxLineBytes) so that a line that never ends cannot exhaust memory.
 */
import { constants, isUtf8 } from 'node:buffer'
import {
  checkKeyLength,
  checkValueLength,
  RecordError,
  type BatchRecord,
  type RecordDecoder,
  type RecordLimits,
} from './decode-record.js'

declare global {
  interface String {
    /** False when the string holds a lone surrogate (ES2024; Node 20 has it). */
    isWellFormed(): boolean
  }
}

const NEWLINE = 0x0a
const BLANK = /^[ \t\r]*$/
/** Room for field names, quotes, braces and a little whitespace around the data. */
const LINE_OVERHEAD_BYTES = 1024
/** The first size of the carry-over buffer; it doubles while a line goes on. */
const CARRY_START_BYTES = 64 * 1024

/**
 * The longest line a record within the limits can need: JSON text escapes a byte as
 * at most 6 (a control character as \u00XX), base64 needs 4 per 3, so 6 bytes per key
 * and value byte plus the fixed part. JavaScript strings are capped in length, and a
 * longer line could not be parsed anyway.
 */
export function maxLineBytes(limits: RecordLimits): number {
  const longest = 6 * (limits.maxKeyBytes + limits.maxValueBytes) + LINE_OVERHEAD_BYTES
  return Math.min(longest, constants.MAX_STRING_LENGTH)
}

export class NdjsonDecoder implements RecordDecoder {
  readonly #limits: RecordLimits
  readonly #maxLine: number
  /** The position of the next record. */
  #index = 0
  #carry = Buffer.alloc(0)
  #carried = 0

  constructor(limits: RecordLimits) {
    this.#limits = limits
    this.#maxLine = maxLineBytes(limits)
  }

  push(chunk: Buffer, out: BatchRecord[]): void {
    let start = 0
    if (this.#carried > 0) {
      const newline = chunk.indexOf(NEWLINE)
      this.#keep(chunk.subarray(0, newline < 0 ? chunk.length : newline))
      if (newline < 0) return
      this.#endCarry(out)
      start = newline + 1
    }

    const last = chunk.lastIndexOf(NEWLINE)
    if (last >= start) {
      this.#lines(chunk, start, last, out)
      start = last + 1
    }
    if (start < chunk.length) this.#keep(chunk.subarray(start))
  }

  end(out: BatchRecord[]): void {
    if (this.#carried > 0) this.#endCarry(out)
  }

  /** Adds the start of an unfinished line to the carry-over, refusing a line too long. */
  #keep(bytes: Buffer): void {
    const needed = this.#carried + bytes.length
    this.#checkLineLength(needed)
    if (needed > this.#carry.length) {
      const size = Math.max(needed, CARRY_START_BYTES, 2 * this.#carry.length)
      const grown = Buffer.allocUnsafe(Math.min(size, this.#maxLine))
      this.#carry.copy(grown, 0, 0, this.#carried)
      this.#carry = grown
    }
    this.#carried += bytes.copy(this.#carry, this.#carried)
  }

  #endCarry(out: BatchRecord[]): void {
    const line = this.#carry.subarray(0, this.#carried)
    this.#carried = 0
    // A long line's buffer goes with it, so that one huge record is not held on to.
    if (this.#carry.length > CARRY_START_BYTES) this.#carry = Buffer.alloc(0)
    this.#line(line, out)
  }

  /** The lines of chunk[start, end), where chunk[end] is the last newline. */
  #lines(chunk: Buffer, start: number, end: number, out: BatchRecord[]): void {
    if (!isUtf8(chunk.subarray(start, end))) return this.#linesOneByOne(chunk, start, end, out)

    const text = chunk.toString('utf8', start, end)
    let from = 0
    for (;;) {
      const newline = text.indexOf('\n', from)
      const line = text.slice(from, newline < 0 ? text.length : newline)
      // A UTF-8 byte sequence is at most 3 bytes per UTF-16 unit: measure only if needed.
      if (line.length * 3 > this.#maxLine) this.#checkLineLength(Buffer.byteLength(line))
      this.#parse(line, out)
      if (newline < 0) return
      from = newline + 1
    }
  }

  /** The slow way, for the chunk where some line is not UTF-8: lines before it count. */
  #linesOneByOne(chunk: Buffer, start: number, end: number, out: BatchRecord[]): void {
    while (start <= end) {
      const stop = chunk.indexOf(NEWLINE, start)
      this.#line(chunk.subarray(start, stop), out)
      start = stop + 1
    }
  }

  #line(bytes: Buffer, out: BatchRecord[]): void {
    this.#checkLineLength(bytes.length)
    if (!isUtf8(bytes)) throw new RecordError('BAD_RECORD', this.#index, 'is not valid UTF-8')
    this.#parse(bytes.toString('utf8'), out)
  }

  #parse(line: string, out: BatchRecord[]): void {
    let parsed: unknown
    try {
      parsed = JSON.parse(line)
    } catch {
      if (BLANK.test(line)) return
      throw new RecordError('BAD_RECORD', this.#index, 'is not valid JSON')
    }
    out.push(recordFromJson(parsed, this.#limits, this.#index))
    this.#index++
  }

  #checkLineLength(length: number): void {
    if (length <= this.#maxLine) return
    const reason =
      `its line is over ${this.#maxLine} bytes, ` +
      'longer than any record within the key and value limits needs'
    throw new RecordError('VALUE_TOO_LARGE', this.#index, reason)
  }
}

function bad(index: number, reason: string): RecordError {
  return new RecordError('BAD_RECORD', index, reason)
}

/**
 * The record of one parsed line. JSON.parse makes every field an own property (even
 * `__proto__`), and only the names returned by Object.keys are read, each against a
 * fixed list, so no prototype is ever consulted or changed.
 */
function recordFromJson(parsed: unknown, limits: RecordLimits, index: number): BatchRecord {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw bad(index, 'is not a JSON object')
  }

  const fields = parsed as Record<string, unknown>
  let key: Buffer | undefined
  let value: Buffer | undefined
  let remove = false
  for (const name of Object.keys(fields)) {
    if (name === 'key' || name === 'key_b64') {
      if (key !== undefined) throw bad(index, 'has both "key" and "key_b64"')
      key = fieldBytes(name, fields[name], index)
    } else if (name === 'value' || name === 'value_b64') {
      if (value !== undefined) throw bad(index, 'has both "value" and "value_b64"')
      value = fieldBytes(name, fields[name], index)
    } else if (name === 'delete') {
      if (fields[name] !== true) throw bad(index, 'has "delete" other than true')
      remove = true
    } else {
      throw bad(index, `has an unknown field ${JSON.stringify(name.slice(0, 64))}`)
    }
  }

  if (key === undefined) throw bad(index, 'has no "key" or "key_b64"')
  checkKeyLength(key.length, limits, index)
  if (remove && value !== undefined) throw bad(index, 'has both a value and "delete"')
  if (!remove && value === undefined) throw bad(index, 'has neither a value nor "delete"')
  if (value !== undefined) checkValueLength(value.length, limits, index)
  return { key, value: value ?? null }
}

function fieldBytes(name: string, field: unknown, index: number): Buffer {
  if (typeof field !== 'string') throw bad(index, `has "${name}" that is not a string`)

  if (!name.endsWith('_b64')) {
    // JSON can spell a lone surrogate (\ud800) that UTF-8 cannot carry; turning it into
    // U+FFFD would store other bytes than were sent.
    if (!field.isWellFormed()) throw bad(index, `has "${name}" with a lone surrogate`)
    return Buffer.from(field, 'utf8')
  }

  // Node's decoder skips characters it does not know and accepts the URL alphabet;
  // strict standard base64 is exactly what encodes back to the same text.
  const bytes = Buffer.from(field, 'base64')
  if (bytes.toString('base64') !== field) throw bad(index, `has "${name}" that is not base64`)
  return bytes
}
