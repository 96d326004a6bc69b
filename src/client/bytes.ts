/**
 * Keys and values as the client takes and gives them: any string (sent as its UTF-8
 * bytes) or Uint8Array in, a Buffer out, or a string when the caller asks for text.
 */

/**
 * A key or value as the client accepts it: text is sent as its UTF-8 bytes.
 *
 * @example
 * await client.put(new Uint8Array([0x00, 0xff]), 'any bytes make a key')
 */
export type BytesInput = string | Uint8Array

/**
 * How bytes come back: `'buffer'` (the default) or `'text'`, decoded as UTF-8.
 *
 * @example
 * const text = await client.get('pet/cat', { as: 'text' }) // string | undefined
 */
export type As = 'buffer' | 'text'

/**
 * What bytes come back as under `as`.
 *
 * @example
 * const name: Output<'text'> = 'cat' // a string; Output<'buffer'> is a Buffer
 */
export type Output<A extends As> = A extends 'text' ? string : Buffer

/**
 * The options of every read that returns keys or values.
 *
 * @example
 * const keys = client.keys({ prefix: 'pet/', as: 'text' }) // yields strings
 */
export type AsOptions<A extends As> = {
  /**
   * `'text'` decodes keys and values as UTF-8; bytes that are not valid UTF-8 become
   * U+FFFD, so read binary data as buffers (the default).
   */
  as?: A
}

/** The bytes of `input`, without a copy when it already is a byte array. */
export function toBytes(input: BytesInput, name: string): Buffer {
  if (typeof input === 'string') return Buffer.from(input, 'utf8')
  if (input instanceof Uint8Array) return Buffer.from(input.buffer, input.byteOffset, input.length)
  throw new TypeError(`${name} must be a string or a Uint8Array`)
}

/** Turns a buffer into what `as` asks for. */
export function converter<A extends As>(as: A | undefined): (bytes: Buffer) => Output<A> {
  if (as === undefined || as === 'buffer') return (bytes) => bytes as Output<A>
  if (as === 'text') return (bytes) => bytes.toString('utf8') as Output<A>
  throw new TypeError(`option 'as' must be 'buffer' or 'text'; got ${String(as)}`)
}
