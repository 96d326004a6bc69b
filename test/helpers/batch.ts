/** HTTP calls the batch tests make, each reading its response body to the end. */
import { request } from 'undici'
import { percentEncodeBytes } from '../../src/wire/percent.js'

export const NDJSON = 'application/x-ndjson'
export const FRAMES = 'application/octet-stream'

export type BatchAnswer = { status: number; body: Record<string, unknown> }

export type PostOptions = { type?: string; query?: string }

export async function postBatch(
  url: string,
  body: Buffer | string | AsyncIterable<Buffer> | NodeJS.ReadableStream,
  options: PostOptions = {},
): Promise<BatchAnswer> {
  const headers = options.type === undefined ? {} : { 'content-type': options.type }
  const response = await request(`${url}/batch${options.query ?? ''}`, {
    method: 'POST',
    body: body as Buffer,
    headers,
  })
  return { status: response.statusCode, body: (await response.body.json()) as BatchAnswer['body'] }
}

/** The stored value of `key` as text, or undefined when the key does not exist. */
export async function valueOf(url: string, key: string | Buffer): Promise<string | undefined> {
  const bytes = typeof key === 'string' ? Buffer.from(key) : key
  const response = await request(`${url}/kv/${percentEncodeBytes(bytes)}`)
  const text = await response.body.text()
  if (response.statusCode === 404) return undefined
  if (response.statusCode !== 200) throw new Error(`GET answered ${response.statusCode}: ${text}`)
  return text
}

/** Which of `keys` exist, in their order. */
export async function existing(url: string, keys: readonly string[]): Promise<string[]> {
  const values = await Promise.all(keys.map((key) => valueOf(url, key)))
  return keys.filter((_, i) => values[i] !== undefined)
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
