/**
 * parkd/client: a client of the parkd key-value server for Node programs, on undici.
 *
 * @example
 * import { ParkdClient } from 'parkd/client'
 *
 * const client = new ParkdClient({ url: 'http://127.0.0.1:8080' })
 * await client.put('pet/cat', 'Felis catus')
 * const pets = new Map<string, string>()
 * for await (const { key, value } of client.prefixItems('pet/', { as: 'text' })) {
 *   pets.set(key, value)
 * }
 * await client.close()
 */
export { createClient, ParkdClient } from './client.js'
export type { BatchEntry, Source } from './batch-body.js'
export type { As, AsOptions, BytesInput, Output } from './bytes.js'
export type { Condition, WriteConditions } from './conditions.js'
export { ParkdClientError, type ParkdErrorCode } from './errors.js'
export type { Item } from './listing.js'
export type { DeleteRangeOptions, ListOptions, Selection } from './query.js'
export type { ClientOptions } from './transport.js'
export type {
  BatchOptions,
  BatchResult,
  GetOptions,
  PrefixOptions,
  PutResult,
  RequestOptions,
  TaggedValue,
  WriteOptions,
} from './types.js'
