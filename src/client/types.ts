/**
 * The options and results of the client's calls, in one place so that the client class
 * reads as its methods.
 */
import type { As, AsOptions, Output } from './bytes.js'
import type { WriteConditions } from './conditions.js'
import type { ListOptions } from './query.js'

/**
 * Options every request takes.
 *
 * @example
 * await client.get('pet/cat', { signal: AbortSignal.timeout(1000) })
 */
export type RequestOptions = {
  /** Aborts the request; the call rejects with the signal's reason. */
  signal?: AbortSignal
}

/**
 * The options of reads: the form of the bytes and an abort signal.
 *
 * @example
 * await client.get('pet/cat', { as: 'text', signal: AbortSignal.timeout(1000) })
 */
export type GetOptions<A extends As> = AsOptions<A> & RequestOptions

/**
 * The options of `put` and `delete`: conditions and an abort signal.
 *
 * @example
 * await client.put('pet/cat', 'Felis catus', { ifNoneMatch: '*' })
 */
export type WriteOptions = WriteConditions & RequestOptions

/**
 * A value with the ETag that names its version, for a later conditional write.
 *
 * @example
 * const { value, etag } = (await client.getWithEtag('pet/cat')) ?? {}
 */
export type TaggedValue<A extends As = 'buffer'> = { value: Output<A>; etag: string }

/**
 * What a `put` did.
 *
 * @example
 * const { created, etag } = await client.put('pet/cat', 'Felis catus')
 */
export type PutResult = {
  /** True when the key was new, false when a value was replaced. */
  created: boolean
  /** The ETag of the stored value, e.g. `"7"`. */
  etag: string
}

/**
 * The options of `putMany` and `deleteMany`. An abort cuts the upload: without `atomic`
 * a gapless prefix of the records stays stored, with it none.
 *
 * @example
 * await client.putMany(rows(), { atomic: true, signal: controller.signal })
 */
export type BatchOptions = RequestOptions & {
  /** All records are stored or none (the server still holds memory flat). */
  atomic?: boolean
}

/**
 * How many put and delete records a batch applied (a delete of a missing key counts).
 *
 * @example
 * const { put, deleted } = await client.putMany([['a', '1']]) // { put: 1, deleted: 0 }
 */
export type BatchResult = { put: number; deleted: number }

/**
 * A listing's options, without the prefix that `prefixKeys` / `prefixItems` take apart.
 *
 * @example
 * client.prefixKeys('pet/', { strip: true, limit: 10, as: 'text' })
 */
export type PrefixOptions<A extends As> = Omit<ListOptions, 'prefix'> & GetOptions<A>
