/**
 * The records the benchmarks move: 16-byte keys, as text so that NDJSON carries them as
 * they are, and 100-byte values. Sequential keys sort in the order they are made;
 * random-order keys are a fixed permutation of the same key space, so every run moves
 * the same bytes.
 */

export const KEY_BYTES = 16
export const VALUE_BYTES = 100

export type KeyOrder = 'sequential' | 'random'

export const VALUE = Buffer.alloc(VALUE_BYTES, 'v')

/** A multiplier coprime with every power of two: i -> i * M mod 2^32 is a permutation. */
const SHUFFLE = 0x9e3779b1

/** The i-th key, `k` then 15 hex digits; random-order keys spread over the whole space. */
export function keyAt(i: number, order: KeyOrder): Buffer {
  const n = order === 'sequential' ? i : Math.imul(i, SHUFFLE) >>> 0
  return Buffer.from(`k${n.toString(16).padStart(KEY_BYTES - 1, '0')}`)
}

export type ChunkOptions = {
  count: number
  order: KeyOrder
  format: 'frames' | 'ndjson'
  /** The first record's index, to append to a store that holds the first ones. */
  start?: number
  value?: Buffer
  recordsPerChunk?: number
}

/** The body of a batch upload, made on the fly in chunks so that none of it is stored. */
export async function* batchBody(options: ChunkOptions): AsyncGenerator<Buffer> {
  const { count, order, format, start = 0, value = VALUE, recordsPerChunk = 8192 } = options
  const encode = format === 'frames' ? encodeFrames : encodeNdjson

  for (let first = start; first < start + count; first += recordsPerChunk) {
    const last = Math.min(first + recordsPerChunk, start + count)
    const keys = []
    for (let i = first; i < last; i++) keys.push(keyAt(i, order))
    yield encode(keys, value)
  }
}

/**
 * The client must outrun the server, so chunks are written into one buffer each; the
 * tests' record helpers build a buffer per field, which is too slow to measure with.
 */
function encodeFrames(keys: Buffer[], value: Buffer): Buffer {
  const size = keys.reduce((sum, key) => sum + 8 + key.length + value.length, 0)
  const chunk = Buffer.allocUnsafe(size)
  let at = 0
  for (const key of keys) {
    at = chunk.writeUInt32BE(key.length, at)
    at += key.copy(chunk, at)
    at = chunk.writeUInt32BE(value.length, at)
    at += value.copy(chunk, at)
  }
  return chunk
}

function encodeNdjson(keys: Buffer[], value: Buffer): Buffer {
  const tail = `","value":${JSON.stringify(value.toString('latin1'))}}\n`
  let text = ''
  for (const key of keys) text += `{"key":"${key.toString('latin1')}${tail}`
  return Buffer.from(text, 'latin1')
}
