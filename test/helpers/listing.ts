/**
 * Listing helpers for tests: query values percent-encoded byte by byte, and the three
 * listing formats decoded straight from API.md rather than with the src encoders, so
 * that the tests hold the server to the contract and not to itself.
 */
import { expect } from 'vitest'
import { FRAMES, postBatch } from './batch.js'
import { call, type Answer } from './http.js'
import { frames, type TestRecord } from './records.js'

export type Kind = 'keys' | 'items'

/** One listed record; `value` only in an items listing. */
export type Listed = { key: Buffer; value?: Buffer }

export const ACCEPT = {
  ndjson: 'application/x-ndjson',
  json: 'application/json',
  frames: 'application/octet-stream',
} as const

export type Format = keyof typeof ACCEPT

const UNRESERVED = /^[A-Za-z0-9\-._~]$/

/**
 * `bytes` as a form-urlencoded query value: unreserved ASCII as it is, a space as `+`
 * and every other byte as `%XX`, so any bytes at all survive the trip.
 */
export function queryValue(bytes: Buffer | string): string {
  let text = ''
  for (const byte of typeof bytes === 'string' ? Buffer.from(bytes) : bytes) {
    const char = String.fromCharCode(byte)
    if (byte === 0x20) text += '+'
    else if (UNRESERVED.test(char)) text += char
    else text += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return text
}

/** The bytes of one field, given as text under `name` or as base64 under `name_b64`. */
function fieldBytes(record: Record<string, unknown>, name: string): Buffer {
  const text = record[name]
  const base64 = record[`${name}_b64`]
  if (typeof text === 'string' && base64 === undefined) return Buffer.from(text, 'utf8')
  if (typeof base64 === 'string' && text === undefined) {
    expect(base64).toMatch(/^[A-Za-z0-9+/]*={0,2}$/)
    return Buffer.from(base64, 'base64')
  }
  throw new Error(`record ${JSON.stringify(record)} needs exactly one of ${name}, ${name}_b64`)
}

/** A JSON record of a listing, checked to carry exactly the fields of its kind. */
export function fromJson(json: unknown, kind: Kind): Listed {
  const record = json as Record<string, unknown>
  const names = kind === 'keys' ? 1 : 2
  if (Object.keys(record).length !== names) throw new Error(`odd record ${JSON.stringify(json)}`)

  const key = fieldBytes(record, 'key')
  return kind === 'keys' ? { key } : { key, value: fieldBytes(record, 'value') }
}

/** The objects of an NDJSON body, whose every line (the last one too) ends in `\n`. */
export function ndjsonObjects(body: Buffer): unknown[] {
  const text = body.toString('utf8')
  if (text === '') return []
  expect(text.endsWith('\n')).toBe(true)
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => JSON.parse(line) as unknown)
}

/** The objects of a JSON array body. */
export function arrayObjects(body: Buffer): unknown[] {
  const array = JSON.parse(body.toString('utf8')) as unknown
  if (!Array.isArray(array)) throw new Error('a JSON listing must be one array')
  return array as unknown[]
}

export function decodeNdjson(body: Buffer, kind: Kind): Listed[] {
  return ndjsonObjects(body).map((record) => fromJson(record, kind))
}

export function decodeJsonArray(body: Buffer, kind: Kind): Listed[] {
  return arrayObjects(body).map((record) => fromJson(record, kind))
}

/** Big-endian `u32 length, bytes` frames: one per key, two per item. */
export function decodeFrames(body: Buffer, kind: Kind): Listed[] {
  const records: Listed[] = []
  let at = 0
  const next = (): Buffer => {
    if (at + 4 > body.length) throw new Error(`truncated frame length at ${at}`)
    const length = body.readUInt32BE(at)
    if (at + 4 + length > body.length) throw new Error(`truncated frame at ${at}`)
    at += 4 + length
    return body.subarray(at - length, at)
  }

  while (at < body.length) {
    const key = next()
    records.push(kind === 'keys' ? { key } : { key, value: next() })
  }
  return records
}

const DECODERS = { ndjson: decodeNdjson, json: decodeJsonArray, frames: decodeFrames }

export function decode(body: Buffer, kind: Kind, format: Format): Listed[] {
  return DECODERS[format](body, kind)
}

export const CONTENT_TYPES: Record<Format, RegExp> = {
  ndjson: /^application\/x-ndjson(;|$)/,
  json: /^application\/json(;|$)/,
  frames: /^application\/octet-stream$/,
}

/** The format a listing answer says it is in, from its Content-Type. */
export function formatOf(answer: Answer): Format {
  const type = String(answer.headers['content-type'])
  const format = (Object.keys(CONTENT_TYPES) as Format[]).find((f) => CONTENT_TYPES[f].test(type))
  if (!format) throw new Error(`not a listing type: ${type}`)
  return format
}

export type ListOptions = { format?: Format; accept?: string }

/** GET /keys or /items with a raw query string (no `?`), read to the end. */
export function list(base: string, kind: Kind, query = '', options: ListOptions = {}) {
  const accept = options.accept ?? (options.format && ACCEPT[options.format])
  const headers: Record<string, string> = accept === undefined ? {} : { accept }
  return call(base, 'GET', `/${kind}${query === '' ? '' : `?${query}`}`, { headers })
}

/** A successful listing's records, decoded by the format its Content-Type names. */
export async function listed(
  base: string,
  kind: Kind,
  query = '',
  options: ListOptions = {},
): Promise<Listed[]> {
  const answer = await list(base, kind, query, options)
  if (answer.status !== 200) {
    throw new Error(`GET /${kind}?${query} answered ${answer.status}: ${answer.body.toString()}`)
  }
  return decode(answer.body, kind, formatOf(answer))
}

/** The keys of a successful listing as text, for listings of UTF-8 keys. */
export async function keyTexts(base: string, query = '', options: ListOptions = {}) {
  const records = await listed(base, 'keys', query, options)
  return records.map((record) => record.key.toString('utf8'))
}

/** Stores `records` with one batch of frames. */
export async function load(base: string, records: readonly TestRecord[]): Promise<void> {
  const answer = await postBatch(base, frames(records), { type: FRAMES })
  expect(answer.status).toBe(200)
}

/** Deletes every key. */
export async function reset(base: string): Promise<void> {
  const answer = await call(base, 'DELETE', '/keys?all=true')
  expect(answer.status).toBe(200)
}

/**
 * Frames decoded as they arrive, for listings too large to hold whole: `push` answers
 * the records completed by each piece, whatever the cuts between pieces.
 */
export class FrameReader {
  readonly #kind: Kind
  #pieces: Buffer[] = []
  #buffered = 0
  #length: number | undefined
  #key: Buffer | undefined

  constructor(kind: Kind) {
    this.#kind = kind
  }

  push(piece: Buffer): Listed[] {
    this.#pieces.push(piece)
    this.#buffered += piece.length

    const records: Listed[] = []
    for (;;) {
      const field = this.#field()
      if (!field) return records
      if (this.#kind === 'keys') records.push({ key: field })
      else if (!this.#key) this.#key = field
      else {
        records.push({ key: this.#key, value: field })
        this.#key = undefined
      }
    }
  }

  /** True when the bytes so far end inside a record. */
  get partial(): boolean {
    return this.#buffered > 0 || this.#key !== undefined
  }

  #field(): Buffer | undefined {
    if (this.#length === undefined) {
      const head = this.#take(4)
      if (!head) return undefined
      this.#length = head.readUInt32BE(0)
    }
    const field = this.#take(this.#length)
    if (field) this.#length = undefined
    return field
  }

  /** The next `bytes` bytes, joined only once they have all arrived. */
  #take(bytes: number): Buffer | undefined {
    if (this.#buffered < bytes) return undefined
    const all =
      this.#pieces.length === 1 ? (this.#pieces[0] as Buffer) : Buffer.concat(this.#pieces)
    this.#pieces = all.length > bytes ? [all.subarray(bytes)] : []
    this.#buffered -= bytes
    return all.subarray(0, bytes)
  }
}
