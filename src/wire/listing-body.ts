/**
 * A listing as a response body: pages from the store, encoded in the negotiated format,
 * as a byte stream that asks for the next page only when the bytes before it are gone.
 * So a slow reader slows the scan, memory holds about one page plus the read-ahead,
 * and destroying the stream (the client left) returns the page iterator, which ends
 * the scan.
 */
import { Readable } from 'node:stream'
import type { Item } from '../store/types.js'
import type { ListingFormat } from './accept.js'
import { itemFramesEncoder, keyFramesEncoder } from './encode-frames.js'
import {
  itemRecordWriter,
  jsonArrayEncoder,
  keyRecordWriter,
  ndjsonEncoder,
} from './encode-json.js'
import type { PageEncoder } from './page-encoder.js'
import type { JsonEncoding } from './records.js'

/**
 * Encoded bytes buffered ahead of the socket. Big enough that the next page is ready
 * when the socket drains, small next to a page of items (up to a few MiB).
 */
const READ_AHEAD_BYTES = 64 * 1024

export function keysEncoder(format: ListingFormat, encoding: JsonEncoding): PageEncoder<Buffer> {
  if (format === 'frames') return keyFramesEncoder()
  const write = keyRecordWriter(encoding)
  return format === 'json' ? jsonArrayEncoder(write) : ndjsonEncoder(write)
}

export function itemsEncoder(format: ListingFormat, encoding: JsonEncoding): PageEncoder<Item> {
  if (format === 'frames') return itemFramesEncoder()
  const write = itemRecordWriter(encoding)
  return format === 'json' ? jsonArrayEncoder(write) : ndjsonEncoder(write)
}

async function* encodePages<T>(
  pages: AsyncIterable<readonly T[]>,
  encoder: PageEncoder<T>,
): AsyncGenerator<Buffer> {
  for await (const page of pages) {
    for (const chunk of encoder.page(page)) {
      if (chunk.length > 0) yield chunk
    }
  }

  const end = encoder.end()
  if (end) yield end
}

export function listingBody<T>(
  pages: AsyncIterable<readonly T[]>,
  encoder: PageEncoder<T>,
): Readable {
  return Readable.from(encodePages(pages, encoder), {
    objectMode: false,
    highWaterMark: READ_AHEAD_BYTES,
  })
}
