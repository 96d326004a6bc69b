/**
 * The JSON listing formats: NDJSON (one record per line) and one JSON array. A page of
 * records is built as one string and turned into bytes once; each field is text when
 * its bytes are valid UTF-8 (under encoding=utf8) and base64 otherwise (see records.ts).
 */
import type { Item } from '../store/types.js'
import type { PageEncoder } from './page-encoder.js'
import { textField, type JsonEncoding } from './records.js'

export const NDJSON_CONTENT_TYPE = 'application/x-ndjson'
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8'

export type RecordWriter<T> = (record: T) => string

function field(name: 'key' | 'value', bytes: Buffer, encoding: JsonEncoding): string {
  const [fieldName, text] = textField(name, bytes, encoding)
  return `"${fieldName}":${JSON.stringify(text)}`
}

/** `{"key":...}` for a keys listing. */
export function keyRecordWriter(encoding: JsonEncoding): RecordWriter<Buffer> {
  return (key) => `{${field('key', key, encoding)}}`
}

/** `{"key":...,"value":...}` for an items listing. */
export function itemRecordWriter(encoding: JsonEncoding): RecordWriter<Item> {
  return (item) => `{${field('key', item.key, encoding)},${field('value', item.value, encoding)}}`
}

export function ndjsonEncoder<T>(write: RecordWriter<T>): PageEncoder<T> {
  return {
    contentType: NDJSON_CONTENT_TYPE,
    page: (records) => {
      let text = ''
      for (const record of records) text += write(record) + '\n'
      return [Buffer.from(text, 'utf8')]
    },
    end: () => undefined,
  }
}

/** `[` before the first record, `,` between records, `]` at the end: `[]` when empty. */
export function jsonArrayEncoder<T>(write: RecordWriter<T>): PageEncoder<T> {
  let started = false
  return {
    contentType: JSON_CONTENT_TYPE,
    page: (records) => {
      let text = ''
      for (const record of records) {
        text += (started ? ',' : '[') + write(record)
        started = true
      }
      return [Buffer.from(text, 'utf8')]
    },
    end: () => Buffer.from(started ? ']' : '[]'),
  }
}
