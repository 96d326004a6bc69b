/**
 * Decodes a batch of binary frames (see records.ts): `u32 key length, key, u32 value
 * length, value`, big-endian, where a value length of FRAME_DELETE means delete.
 *
 * Records that lie whole inside a chunk are cut straight out of it, without a copy.
 * Only a record split across chunks is assembled: its length fields in a 4-byte buffer,
 * its key and value in buffers of their exact size, each allocated once its length has
 * been read and checked, so an oversized value is refused before a byte of it is held.
 * Records point into the chunks they came from, which must not be changed afterwards.
 */
import {
  checkKeyLength,
  checkValueLength,
  RecordError,
  type BatchRecord,
  type RecordDecoder,
  type RecordLimits,
} from './decode-record.js'
import { FRAME_DELETE, FRAME_LENGTH_BYTES } from './records.js'

type Phase = 'key-length' | 'key' | 'value-length' | 'value'

const EMPTY = Buffer.alloc(0)
/** A length field, at least one key byte, and a length field. */
const SMALLEST_RECORD = 2 * FRAME_LENGTH_BYTES + 1

export class FrameDecoder implements RecordDecoder {
  readonly #limits: RecordLimits
  /** The position of the record being read. */
  #index = 0
  #phase: Phase = 'key-length'
  readonly #length = Buffer.alloc(FRAME_LENGTH_BYTES)
  #lengthFilled = 0
  #key = EMPTY
  /** The key or value being assembled from several chunks. */
  #part = EMPTY
  #partFilled = 0

  constructor(limits: RecordLimits) {
    this.#limits = limits
  }

  push(chunk: Buffer, out: BatchRecord[]): void {
    let at = 0
    while (at < chunk.length) {
      if (this.#phase === 'key-length' && this.#lengthFilled === 0) {
        at = this.#readWhole(chunk, at, out)
      }
      if (at < chunk.length) at = this.#readPart(chunk, at, out)
    }
  }

  end(): void {
    if (this.#phase !== 'key-length' || this.#lengthFilled > 0) {
      throw new RecordError('BAD_RECORD', this.#index, 'is cut short: the body ends inside it')
    }
  }

  /** Reads the records that lie whole in `chunk` from `at`; answers where the rest begins. */
  #readWhole(chunk: Buffer, at: number, out: BatchRecord[]): number {
    while (at + SMALLEST_RECORD <= chunk.length) {
      const keyLength = chunk.readUInt32BE(at)
      checkKeyLength(keyLength, this.#limits, this.#index)
      const valueAt = at + FRAME_LENGTH_BYTES + keyLength
      if (valueAt + FRAME_LENGTH_BYTES > chunk.length) return at

      const valueLength = chunk.readUInt32BE(valueAt)
      if (valueLength !== FRAME_DELETE) checkValueLength(valueLength, this.#limits, this.#index)
      const valueStart = valueAt + FRAME_LENGTH_BYTES
      const next = valueLength === FRAME_DELETE ? valueStart : valueStart + valueLength
      if (next > chunk.length) return at

      const key = chunk.subarray(at + FRAME_LENGTH_BYTES, valueAt)
      const value = valueLength === FRAME_DELETE ? null : chunk.subarray(valueStart, next)
      out.push({ key, value })
      this.#index++
      at = next
    }
    return at
  }

  /** Takes what `chunk` has of the length, key or value being assembled. */
  #readPart(chunk: Buffer, at: number, out: BatchRecord[]): number {
    if (this.#phase === 'key-length' || this.#phase === 'value-length') {
      return this.#readLength(chunk, at, out)
    }

    const taken = chunk.copy(this.#part, this.#partFilled, at)
    this.#partFilled += taken
    if (this.#partFilled < this.#part.length) return at + taken

    if (this.#phase === 'key') {
      this.#key = this.#part
      this.#phase = 'value-length'
    } else {
      this.#emit(this.#part, out)
    }
    return at + taken
  }

  #readLength(chunk: Buffer, at: number, out: BatchRecord[]): number {
    const taken = chunk.copy(this.#length, this.#lengthFilled, at)
    this.#lengthFilled += taken
    if (this.#lengthFilled < FRAME_LENGTH_BYTES) return at + taken

    this.#lengthFilled = 0
    const length = this.#length.readUInt32BE(0)
    if (this.#phase === 'key-length') {
      checkKeyLength(length, this.#limits, this.#index)
      this.#startPart('key', length)
    } else if (length === FRAME_DELETE) {
      this.#emit(null, out)
    } else {
      checkValueLength(length, this.#limits, this.#index)
      if (length === 0) this.#emit(EMPTY, out)
      else this.#startPart('value', length)
    }
    return at + taken
  }

  #startPart(phase: 'key' | 'value', length: number): void {
    this.#phase = phase
    this.#part = Buffer.allocUnsafe(length)
    this.#partFilled = 0
  }

  #emit(value: Buffer | null, out: BatchRecord[]): void {
    out.push({ key: this.#key, value })
    this.#index++
    this.#phase = 'key-length'
    this.#key = EMPTY
    this.#part = EMPTY
  }
}
