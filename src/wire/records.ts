/**
 * The record formats shared by listings (which write them) and batches (which read them),
 * so that a listing can be replayed into a batch byte for byte.
 *
 * JSON records: `{"key": ...}` or `{"key": ..., "value": ...}` with UTF-8 text, where a
 * field whose bytes are not valid UTF-8 (or every field, with encoding=base64) is
 * written as `key_b64` / `value_b64` in standard base64 instead.
 *
 * Binary frames, big-endian: `u32 length, bytes` per key; an item is a key frame then a
 * value frame; in a batch a value length of 0xFFFFFFFF means delete.
 */
import { isUtf8 } from 'node:buffer'

export type JsonEncoding = 'utf8' | 'base64'

export const FRAME_LENGTH_BYTES = 4
/** Value length of a delete record in a batch of frames. */
export const FRAME_DELETE = 0xffffffff

/** A JSON record field name and its text for `bytes` under `encoding`. */
export function textField(
  name: 'key' | 'value',
  bytes: Buffer,
  encoding: JsonEncoding,
): [string, string] {
  if (encoding === 'utf8' && isUtf8(bytes)) return [name, bytes.toString('utf8')]
  return [`${name}_b64`, bytes.toString('base64')]
}
