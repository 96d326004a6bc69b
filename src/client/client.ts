/**
 * ParkdClient: parkd over HTTP for Node programs, on undici. Keys and values are bytes
 * (strings are sent as UTF-8); listings and batches stream in binary frames, so memory
 * stays flat however many records pass.
 */
import type { Readable } from 'node:stream'
import type { Dispatcher } from 'undici'
import { percentEncodeBytes } from '../wire/percent.js'
import { checkSource, deleteBody, putBody, type BatchEntry, type Source } from './batch-body.js'
import { converter, toBytes, type As, type BytesInput, type Output } from './bytes.js'
import { conditionHeaders } from './conditions.js'
import { errorFrom, ParkdClientError } from './errors.js'
import { readItems, readKeys, type Item } from './listing.js'
import {
  deleteRangeQuery,
  listingQuery,
  selectionQuery,
  type DeleteRangeOptions,
  type ListOptions,
  type Selection,
} from './query.js'
import { Transport, type ClientOptions } from './transport.js'
import type {
  BatchOptions,
  BatchResult,
  GetOptions,
  PrefixOptions,
  PutResult,
  RequestOptions,
  TaggedValue,
  WriteOptions,
} from './types.js'

const FRAMES = 'application/octet-stream'

function keyPath(key: BytesInput): string {
  return `/kv/${percentEncodeBytes(toBytes(key, 'the key'))}`
}

function etagOf(response: Dispatcher.ResponseData): string {
  const etag = response.headers.etag
  return Array.isArray(etag) ? (etag[0] ?? '') : (etag ?? '')
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(text) as Record<string, unknown>
  } catch {
    return undefined
  }
}

/** The number fields `names` of a JSON answer. */
async function numbers<N extends string>(
  response: Dispatcher.ResponseData,
  names: readonly N[],
): Promise<Record<N, number>> {
  const body = parseJson(await response.body.text())
  const fields = names.map((name) => [name, body?.[name]] as const)
  if (fields.some(([, value]) => typeof value !== 'number')) {
    const message = `the answer is not JSON with ${names.join(' and ')}`
    throw new ParkdClientError('BAD_RESPONSE', response.statusCode, message)
  }
  return Object.fromEntries(fields) as Record<N, number>
}

/**
 * A client of one parkd server, holding a pool of keep-alive connections.
 *
 * @example
 * const client = new ParkdClient({ url: 'http://127.0.0.1:8080' })
 * await client.put('pet/cat', 'Felis catus')
 * const cat = await client.get('pet/cat', { as: 'text' }) // 'Felis catus'
 * await client.close()
 */
export class ParkdClient {
  readonly #transport: Transport

  /** @throws TypeError naming the option when an option is invalid. */
  constructor(options: ClientOptions) {
    this.#transport = new Transport(options)
  }

  /**
   * The value of `key`, or `undefined` when there is none.
   *
   * @example
   * const photo = await client.get(Buffer.from([0x70, 0xff])) // a Buffer or undefined
   * const name = await client.get('pet/cat', { as: 'text' }) // a string or undefined
   */
  async get<A extends As = 'buffer'>(
    key: BytesInput,
    options: GetOptions<A> = {},
  ): Promise<Output<A> | undefined> {
    return (await this.getWithEtag(key, options))?.value
  }

  /**
   * The value of `key` with its ETag, or `undefined` when there is none: read, change,
   * then write back only if nobody wrote in between.
   *
   * @example
   * const current = await client.getWithEtag('counter', { as: 'text' })
   * const next = String(Number(current?.value ?? 0) + 1)
   * await client.put('counter', next, current ? { ifMatch: current.etag } : { ifNoneMatch: '*' })
   */
  async getWithEtag<A extends As = 'buffer'>(
    key: BytesInput,
    options: GetOptions<A> = {},
  ): Promise<TaggedValue<A> | undefined> {
    const convert = converter(options.as)
    const response = await this.#transport.call('GET', keyPath(key), { signal: options.signal })
    if (response.statusCode === 404) return this.#missing(response)
    if (response.statusCode !== 200) throw await errorFrom(response)

    const value = Buffer.from(await response.body.arrayBuffer())
    return { value: convert(value), etag: etagOf(response) }
  }

  /**
   * True when `key` exists; the value itself is not sent. (A 404 answer to a HEAD has
   * no body, so a wrong base path also reads as false here; `get` tells them apart.)
   *
   * @example
   * if (!(await client.has('pet/cat'))) await client.put('pet/cat', 'Felis catus')
   */
  async has(key: BytesInput, options: RequestOptions = {}): Promise<boolean> {
    const response = await this.#transport.call('HEAD', keyPath(key), { signal: options.signal })
    await response.body.dump()
    if (response.statusCode === 200) return true
    if (response.statusCode === 404) return false

    // An error answer to a HEAD has no body to carry its code: ask again with a GET,
    // which throws the coded error (or answers, if the key changed in between).
    return (await this.getWithEtag(key, options)) !== undefined
  }

  /**
   * Stores `value` under `key`. With `ifMatch` / `ifNoneMatch` the write happens only
   * if the condition holds, else it throws a ParkdClientError `PRECONDITION_FAILED`.
   *
   * @example
   * const { created, etag } = await client.put('pet/cat', 'Felis catus')
   * await client.put('pet/cat', 'Felis silvestris', { ifMatch: etag }) // compare and swap
   * await client.put('pet/dog', 'Canis familiaris', { ifNoneMatch: '*' }) // create only
   */
  async put(key: BytesInput, value: BytesInput, options: WriteOptions = {}): Promise<PutResult> {
    const response = await this.#transport.call('PUT', keyPath(key), {
      headers: { 'content-type': FRAMES, ...conditionHeaders(options) },
      body: toBytes(value, 'the value'),
      signal: options.signal,
    })
    if (response.statusCode !== 201 && response.statusCode !== 204) {
      throw await errorFrom(response)
    }

    await response.body.dump()
    return { created: response.statusCode === 201, etag: etagOf(response) }
  }

  /**
   * Deletes `key`: true when it existed, false when there was nothing to delete.
   * Conditions as for `put`.
   *
   * @example
   * const removed = await client.delete('pet/cat')
   */
  async delete(key: BytesInput, options: WriteOptions = {}): Promise<boolean> {
    const response = await this.#transport.call('DELETE', keyPath(key), {
      headers: conditionHeaders(options),
      signal: options.signal,
    })
    if (response.statusCode === 404) return this.#missing(response).then(() => false)
    if (response.statusCode !== 204) throw await errorFrom(response)

    await response.body.dump()
    return true
  }

  /**
   * Stores the `[key, value]` pairs of any iterable (a Map, an array, a generator,
   * sync or async, even an endless one) in order, streamed to the server as they come:
   * the source is read only as fast as the connection takes its records. A later record
   * for a key wins. Without `atomic` records are committed in chunks as they arrive, so
   * if the upload stops early (an `AbortSignal`, a thrown source, a refused record) what
   * is stored is a gapless prefix of the source; a refusal says how much in `committed`.
   *
   * @example
   * function* rows() {
   *   for (let i = 0; i < 1_000_000; i++) yield [`row/${i}`, JSON.stringify({ i })] as const
   * }
   * const { put } = await client.putMany(rows())
   * await client.putMany(new Map([['a', '1'], ['b', '2']]), { atomic: true }) // all or none
   */
  async putMany(entries: Source<BatchEntry>, options: BatchOptions = {}): Promise<BatchResult> {
    checkSource(entries, 'the entries')
    return this.#batch(putBody(entries, options.signal), options)
  }

  /**
   * Deletes every key of any iterable, sync or async, streamed as `putMany` streams;
   * keys that do not exist count as deleted too.
   *
   * @example
   * const { deleted } = await client.deleteMany(['pet/cat', 'pet/dog'])
   */
  async deleteMany(keys: Source<BytesInput>, options: BatchOptions = {}): Promise<BatchResult> {
    checkSource(keys, 'the keys')
    return this.#batch(deleteBody(keys, options.signal), options)
  }

  /**
   * The keys of a selection in byte-wise order, streamed: the first arrive before the
   * server has read the last, and leaving the loop early closes the answer and stops
   * the server's scan. A listing the server cuts (on an error) throws rather than ends.
   *
   * @example
   * const names: string[] = []
   * for await (const key of client.keys({ from: 'pet/a', to: 'pet/m', as: 'text' })) {
   *   names.push(key)
   * }
   * const lastTen = client.keys({ reverse: true, limit: 10 })
   */
  keys<A extends As = 'buffer'>(
    options: ListOptions & GetOptions<A> = {},
  ): AsyncGenerator<Output<A>, void, undefined> {
    const convert = converter(options.as)
    const path = `/keys${listingQuery(options)}`
    return this.#listing(path, options, (response) => readKeys(response, convert))
  }

  /**
   * The items (key and value) of a selection in byte-wise key order, streamed as `keys`
   * streams them; values of any size arrive whole.
   *
   * @example
   * const pets = new Map<string, string>()
   * for await (const { key, value } of client.items({ prefix: 'pet/', as: 'text' })) {
   *   pets.set(key, value)
   * }
   */
  items<A extends As = 'buffer'>(
    options: ListOptions & GetOptions<A> = {},
  ): AsyncGenerator<Item<A>, void, undefined> {
    const convert = converter(options.as)
    const path = `/items${listingQuery(options)}`
    return this.#listing(path, options, (response) => readItems(response, convert))
  }

  /**
   * The keys under `prefix`; with `strip: true` they come without it (a key equal to
   * the prefix becomes empty). Other bounds are still whole keys.
   *
   * @example
   * const names: string[] = []
   * for await (const name of client.prefixKeys('pet/', { strip: true, as: 'text' })) {
   *   names.push(name) // 'cat', 'dog', ...
   * }
   */
  prefixKeys<A extends As = 'buffer'>(
    prefix: BytesInput,
    options: PrefixOptions<A> = {},
  ): AsyncGenerator<Output<A>, void, undefined> {
    return this.keys({ ...options, prefix })
  }

  /**
   * The items under `prefix`, with the prefix stripped from their keys if asked.
   *
   * @example
   * const pets = new Map<string, string>()
   * for await (const { key, value } of client.prefixItems('pet/', { strip: true, as: 'text' })) {
   *   pets.set(key, value)
   * }
   */
  prefixItems<A extends As = 'buffer'>(
    prefix: BytesInput,
    options: PrefixOptions<A> = {},
  ): AsyncGenerator<Item<A>, void, undefined> {
    return this.items({ ...options, prefix })
  }

  /**
   * How many keys a selection holds; every key without one.
   *
   * @example
   * const pets = await client.count({ prefix: 'pet/' })
   */
  async count(selection: Selection & RequestOptions = {}): Promise<number> {
    const path = `/count${selectionQuery(selection)}`
    const response = await this.#transport.call('GET', path, { signal: selection.signal })
    if (response.statusCode !== 200) throw await errorFrom(response)
    return (await numbers(response, ['count'])).count
  }

  /**
   * Deletes every key of a selection and answers how many went. Deleting everything
   * must be asked for with `{ all: true }`; an empty selection is refused (400).
   *
   * @example
   * await client.deleteRange({ prefix: 'tmp/' })
   * await client.deleteRange({ all: true }) // every key
   */
  async deleteRange(options: DeleteRangeOptions & RequestOptions): Promise<number> {
    const path = `/keys${deleteRangeQuery(options)}`
    const response = await this.#transport.call('DELETE', path, { signal: options.signal })
    if (response.statusCode !== 200) throw await errorFrom(response)
    return (await numbers(response, ['deleted'])).deleted
  }

  /**
   * Waits for the requests in flight, then closes the connections; the client cannot
   * be used afterwards.
   *
   * @example
   * await client.close()
   */
  close(): Promise<void> {
    return this.#transport.close()
  }

  /** A 404 is "no such key" only with that code: a wrong base path is a 404 as well. */
  async #missing(response: Dispatcher.ResponseData): Promise<undefined> {
    const error = await errorFrom(response)
    if (error.code === 'KEY_NOT_FOUND') return undefined
    throw error
  }

  async #batch(body: Readable, options: BatchOptions): Promise<BatchResult> {
    const query = options.atomic === true ? '?atomic=true' : ''
    const response = await this.#transport.call('POST', `/batch${query}`, {
      headers: { 'content-type': FRAMES },
      body,
      signal: options.signal,
    })
    if (response.statusCode !== 200) throw await errorFrom(response)
    return numbers(response, ['put', 'deleted'])
  }

  async *#listing<T>(
    path: string,
    options: RequestOptions,
    read: (response: Dispatcher.ResponseData) => AsyncGenerator<T>,
  ): AsyncGenerator<T, void, undefined> {
    const response = await this.#transport.call('GET', path, {
      headers: { accept: FRAMES },
      signal: options.signal,
    })
    if (response.statusCode !== 200) throw await errorFrom(response)
    yield* read(response)
  }
}

/**
 * The same as `new ParkdClient(options)`.
 *
 * @example
 * const client = createClient({ url: process.env.PARKD_URL!, token: process.env.PARKD_TOKEN })
 */
export function createClient(options: ClientOptions): ParkdClient {
  return new ParkdClient(options)
}
