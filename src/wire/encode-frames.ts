/**
 * Binary frames for listings: a key is `u32 length, bytes`, an item is a key frame then
 * a value frame, all big-endian (see records.ts). A page is sized first and written into
 * one buffer, so each record costs two copies and no allocation.
 */
import type { Item } from '../store/types.js'
import type { PageEncoder } from './page-encoder.js'
import { FRAME_LENGTH_BYTES } from './records.js'

export const FRAMES_CONTENT_TYPE = 'application/octet-stream'

/**
 * Values this large leave as they are, behind a small buffer holding their key and
 * length: copying megabytes into a page buffer would cost more than the extra write.
 */
const SHARED_VALUE_BYTES = 64 * 1024

export function encodeKeyFrames(keys: readonly Buffer[]): Buffer {
  let size = 0
  for (const key of keys) size += FRAME_LENGTH_BYTES + key.length

  const out = Buffer.allocUnsafe(size)
  let at = 0
  for (const key of keys) {
    out.writeUInt32BE(key.length, at)
    at += FRAME_LENGTH_BYTES + key.copy(out, at + FRAME_LENGTH_BYTES)
  }
  return out
}

/** Frames of items[start, end), values included, in one buffer. */
function packItems(items: readonly Item[], start: number, end: number): Buffer {
  let size = 0
  for (let i = start; i < end; i++) {
    const { key, value } = items[i] as Item
    size += 2 * FRAME_LENGTH_BYTES + key.length + value.length
  }

  const out = Buffer.allocUnsafe(size)
  let at = 0
  for (let i = start; i < end; i++) {
    const { key, value } = items[i] as Item
    out.writeUInt32BE(key.length, at)
    at += FRAME_LENGTH_BYTES + key.copy(out, at + FRAME_LENGTH_BYTES)
    out.writeUInt32BE(value.length, at)
    at += FRAME_LENGTH_BYTES + value.copy(out, at + FRAME_LENGTH_BYTES)
  }
  return out
}

/** The key frame and value length of an item whose value is sent on its own. */
function itemHead(item: Item): Buffer {
  const out = Buffer.allocUnsafe(2 * FRAME_LENGTH_BYTES + item.key.length)
  out.writeUInt32BE(item.key.length, 0)
  item.key.copy(out, FRAME_LENGTH_BYTES)
  out.writeUInt32BE(item.value.length, FRAME_LENGTH_BYTES + item.key.length)
  return out
}

export function encodeItemFrames(items: readonly Item[]): Buffer[] {
  const chunks: Buffer[] = []
  let start = 0
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as Item
    if (item.value.length < SHARED_VALUE_BYTES) continue

    if (i > start) chunks.push(packItems(items, start, i))
    chunks.push(itemHead(item), item.value)
    start = i + 1
  }
  if (start < items.length) chunks.push(packItems(items, start, items.length))
  return chunks
}

export function keyFramesEncoder(): PageEncoder<Buffer> {
  return {
    contentType: FRAMES_CONTENT_TYPE,
    page: (keys) => [encodeKeyFrames(keys)],
    end: () => undefined,
  }
}

export function itemFramesEncoder(): PageEncoder<Item> {
  return { contentType: FRAMES_CONTENT_TYPE, page: encodeItemFrames, end: () => undefined }
}
