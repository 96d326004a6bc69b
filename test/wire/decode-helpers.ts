/** Runs a batch decoder over pieces of a body and reports what it made of them. */
import { RecordError, type BatchRecord, type RecordDecoder } from '../../src/wire/decode-record.js'
import type { TestRecord } from '../helpers/records.js'

export type Outcome = {
  records: string[]
  error?: { code: string; index: number; message: string }
}

/** A record as comparable text: hex key, then hex value or `delete`. */
export function show(record: TestRecord | BatchRecord): string {
  const value = record.value === null ? 'delete' : record.value.toString('hex')
  return `${record.key.toString('hex')}=${value}`
}

export function decodeAll(decoder: RecordDecoder, pieces: readonly Buffer[]): Outcome {
  const out: BatchRecord[] = []
  try {
    for (const piece of pieces) decoder.push(piece, out)
    decoder.end(out)
    return { records: out.map(show) }
  } catch (error) {
    if (!(error instanceof RecordError)) throw error
    const { code, index, message } = error
    return { records: out.map(show), error: { code, index, message } }
  }
}
