/**
 * Batch and listing records written straight from API.md, independently of src/, so
 * that tests check the server against the contract rather than against itself.
 */
import { isUtf8 } from 'node:buffer'

/** A put, or a delete when `value` is null. */
export type TestRecord = { key: Buffer; value: Buffer | null }

export type JsonEncoding = 'utf8' | 'base64'

function field(name: string, bytes: Buffer, encoding: JsonEncoding): string {
  if (encoding === 'utf8' && isUtf8(bytes)) {
    return `${JSON.stringify(name)}:${JSON.stringify(bytes.toString('utf8'))}`
  }
  return `"${name}_b64":"${bytes.toString('base64')}"`
}

/** One NDJSON line (with its newline) per record, as GET /items writes it. */
export function ndjson(records: readonly TestRecord[], encoding: JsonEncoding = 'utf8'): Buffer {
  const lines = records.map(({ key, value }) => {
    const second = value === null ? '"delete":true' : field('value', value, encoding)
    return `{${field('key', key, encoding)},${second}}\n`
  })
  return Buffer.from(lines.join(''), 'utf8')
}

function u32(length: number): Buffer {
  const bytes = Buffer.alloc(4)
  bytes.writeUInt32BE(length)
  return bytes
}

/** One item frame per record, big-endian lengths; a delete has value length 0xFFFFFFFF. */
export function frames(records: readonly TestRecord[]): Buffer {
  const parts = records.flatMap(({ key, value }) =>
    value === null
      ? [u32(key.length), key, u32(0xffffffff)]
      : [u32(key.length), key, u32(value.length), value],
  )
  return Buffer.concat(parts)
}

/** Shorthand for a put of UTF-8 text. */
export function put(key: string, value: string): TestRecord {
  return { key: Buffer.from(key), value: Buffer.from(value) }
}

export function del(key: string): TestRecord {
  return { key: Buffer.from(key), value: null }
}

/** `bytes` cut at the given offsets (any order, repeats and out-of-range ones ignored). */
export function cutAt(bytes: Buffer, offsets: readonly number[]): Buffer[] {
  const cuts = [...new Set(offsets.filter((at) => at > 0 && at < bytes.length))].sort(
    (a, b) => a - b,
  )
  const pieces: Buffer[] = []
  let start = 0
  for (const at of [...cuts, bytes.length]) {
    pieces.push(bytes.subarray(start, at))
    start = at
  }
  return pieces.filter((piece) => piece.length > 0)
}
