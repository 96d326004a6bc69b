/**
 * Incremental decoding of the binary frames of a listing: `u32 length, bytes`, big
 * endian, one frame per key, two (key, value) per item. Fed the body chunk by chunk, it
 * hands out each frame as soon as its last byte arrives, so memory holds one chunk and
 * at most one unfinished frame whatever the size of the listing.
 *
 * A frame that lies whole inside a chunk is cut out of it without a copy. A frame split
 * across chunks is kept as the pieces received so far and joined once complete, so a
 * length field never makes the client allocate bytes that have not arrived.
 */
import { FRAME_LENGTH_BYTES } from '../wire/records.js'

const EMPTY = Buffer.alloc(0)

export class FrameReader {
  readonly #header = Buffer.alloc(FRAME_LENGTH_BYTES)
  #headerFilled = 0
  /** The length of the frame being assembled, or -1 between frames. */
  #length = -1
  #pieces: Buffer[] = []
  #received = 0

  /** True when the bytes so far end inside a frame. */
  get midFrame(): boolean {
    return this.#length >= 0 || this.#headerFilled > 0
  }

  /** Appends to `out` every frame that `chunk` completes. */
  push(chunk: Buffer, out: Buffer[]): void {
    let at = 0
    while (at < chunk.length) {
      if (!this.midFrame) at = this.#readWhole(chunk, at, out)
      if (at < chunk.length) at = this.#readPart(chunk, at, out)
    }
  }

  /** Cuts out the frames that lie whole in `chunk` from `at`; answers where the rest begins. */
  #readWhole(chunk: Buffer, at: number, out: Buffer[]): number {
    while (at + FRAME_LENGTH_BYTES <= chunk.length) {
      const start = at + FRAME_LENGTH_BYTES
      const end = start + chunk.readUInt32BE(at)
      if (end > chunk.length) return at

      out.push(chunk.subarray(start, end))
      at = end
    }
    return at
  }

  /** Takes what `chunk` has of the length field or the frame being assembled. */
  #readPart(chunk: Buffer, at: number, out: Buffer[]): number {
    if (this.#length < 0) return this.#readHeader(chunk, at, out)

    const piece = chunk.subarray(at, at + this.#length - this.#received)
    this.#pieces.push(piece)
    this.#received += piece.length
    if (this.#received === this.#length) this.#finish(Buffer.concat(this.#pieces), out)
    return at + piece.length
  }

  #readHeader(chunk: Buffer, at: number, out: Buffer[]): number {
    const taken = chunk.copy(this.#header, this.#headerFilled, at)
    this.#headerFilled += taken
    if (this.#headerFilled < FRAME_LENGTH_BYTES) return at + taken

    this.#headerFilled = 0
    this.#length = this.#header.readUInt32BE(0)
    if (this.#length === 0) this.#finish(EMPTY, out)
    return at + taken
  }

  #finish(frame: Buffer, out: Buffer[]): void {
    out.push(frame)
    this.#length = -1
    this.#pieces = []
    this.#received = 0
  }
}
