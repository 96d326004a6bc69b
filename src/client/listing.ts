/**
 * Listings read from their binary-frame answers, record by record, as the body arrives.
 * Leaving a loop early returns the generator, which destroys the body: the connection
 * closes and the server stops its scan. A body cut by the server (it cuts the connection
 * on an error after the first byte) throws undici's socket error rather than ending,
 * so a cut listing is never taken for a whole one.
 */
import type { Dispatcher } from 'undici'
import type { As, Output } from './bytes.js'
import { ParkdClientError } from './errors.js'
import { FrameReader } from './frame-reader.js'

/**
 * A key and its value, as buffers or, with `as: 'text'`, strings.
 *
 * @example
 * for await (const { key, value } of client.items({ prefix: 'pet/' })) value.length
 */
export type Item<A extends As = 'buffer'> = { key: Output<A>; value: Output<A> }

type Body = Dispatcher.ResponseData['body']

function cutShort(statusCode: number): ParkdClientError {
  return new ParkdClientError('BAD_RESPONSE', statusCode, 'the listing ends inside a record')
}

/** The frames of `body` in order, a chunk's worth at a time. */
async function* frameGroups(body: Body, statusCode: number): AsyncGenerator<Buffer[]> {
  const reader = new FrameReader()
  for await (const chunk of body as AsyncIterable<Buffer>) {
    const frames: Buffer[] = []
    reader.push(chunk, frames)
    if (frames.length > 0) yield frames
  }
  if (reader.midFrame) throw cutShort(statusCode)
}

export async function* readKeys<A extends As>(
  response: Dispatcher.ResponseData,
  convert: (bytes: Buffer) => Output<A>,
): AsyncGenerator<Output<A>> {
  for await (const frames of frameGroups(response.body, response.statusCode)) {
    for (const key of frames) yield convert(key)
  }
}

export async function* readItems<A extends As>(
  response: Dispatcher.ResponseData,
  convert: (bytes: Buffer) => Output<A>,
): AsyncGenerator<Item<A>> {
  // An item's key and value frames may arrive in different chunks.
  let key: Buffer | undefined
  for await (const frames of frameGroups(response.body, response.statusCode)) {
    for (const frame of frames) {
      if (key === undefined) {
        key = frame
        continue
      }
      const item = { key: convert(key), value: convert(frame) }
      key = undefined
      yield item
    }
  }
  if (key !== undefined) throw cutShort(response.statusCode)
}
