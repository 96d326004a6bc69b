import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FrameDecoder } from '../../src/wire/decode-frames.js'
import { RecordError, type BatchRecord } from '../../src/wire/decode-record.js'
import { cutAt, del, frames, put, type TestRecord } from '../helpers/records.js'
import { decodeAll, show } from './decode-helpers.js'

const limits = { maxKeyBytes: 16, maxValueBytes: 64 }
const decoder = () => new FrameDecoder(limits)

const record = fc.record({
  key: fc.uint8Array({ minLength: 1, maxLength: 16 }).map((bytes) => Buffer.from(bytes)),
  value: fc.option(
    fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
    { freq: 4 },
  ),
})

const u32 = (n: number) => {
  const bytes = Buffer.alloc(4)
  bytes.writeUInt32BE(n)
  return bytes
}

describe('frame decoding', () => {
  const sample: TestRecord[] = [put('a', 'one'), del('bb'), put('c', ''), put('dd', 'four!')]
  const body = frames(sample)

  it('decodes puts, deletes and empty values in order', () => {
    expect(decodeAll(decoder(), [body])).toEqual({ records: sample.map(show) })
  })

  it('gives the same records when the body is cut in two at every offset', () => {
    for (let at = 1; at < body.length; at++) {
      expect(decodeAll(decoder(), cutAt(body, [at])), `cut at ${at}`).toEqual({
        records: sample.map(show),
      })
    }
  })

  it('gives the same records when every byte arrives on its own', () => {
    const bytes = [...body].map((byte) => Buffer.from([byte]))
    expect(decodeAll(decoder(), bytes)).toEqual({ records: sample.map(show) })
  })

  it('gives the same records however the body is chunked (property)', () => {
    fc.assert(
      fc.property(fc.array(record, { maxLength: 30 }), fc.array(fc.nat()), (records, cuts) => {
        const encoded = frames(records)
        const pieces = cutAt(
          encoded,
          cuts.map((cut) => cut % (encoded.length + 1)),
        )
        expect(decodeAll(decoder(), pieces)).toEqual({ records: records.map(show) })
      }),
    )
  })

  it('makes the same records and the same error of any bytes however they are chunked', () => {
    // Garbage built from lengths near the limits, so that every kind of failure occurs.
    const length = fc.oneof(fc.constantFrom(0, 1, 16, 17, 64, 65, 0xffffffff), fc.nat(70))
    const part = fc.oneof(length.map(u32), fc.uint8Array({ maxLength: 20 }).map(Buffer.from))
    fc.assert(
      fc.property(fc.array(part, { maxLength: 12 }), fc.array(fc.nat()), (parts, cuts) => {
        const bytes = Buffer.concat(parts)
        const whole = decodeAll(decoder(), [bytes])
        const pieces = cutAt(
          bytes,
          cuts.map((cut) => cut % (bytes.length + 1)),
        )
        expect(decodeAll(decoder(), pieces)).toEqual(whole)
      }),
    )
  })

  it('hands out records of a chunk without copying them', () => {
    const out: BatchRecord[] = []
    decoder().push(body, out)
    expect(out[0]?.key.buffer).toBe(body.buffer)
  })
})

describe('bad frames', () => {
  const first = frames([put('a', '1')])

  it('refuses a key length of 0 as a bad record, after the records before it', () => {
    const outcome = decodeAll(decoder(), [Buffer.concat([first, u32(0), u32(1), Buffer.from('x')])])
    expect(outcome.records).toHaveLength(1)
    expect(outcome.error).toMatchObject({ code: 'BAD_RECORD', index: 1 })
    expect(outcome.error?.message).toMatch(/^record 1: the key is empty/)
  })

  it('refuses a key over the limit as soon as its length is read', () => {
    const out: BatchRecord[] = []
    const push = () => decoder().push(Buffer.concat([first, u32(17)]), out)
    expect(push).toThrow(expect.objectContaining({ code: 'KEY_TOO_LARGE', index: 1 }))
    expect(out).toHaveLength(1)
  })

  it('refuses a value over the limit as soon as its length is read, before its bytes', () => {
    const header = Buffer.concat([u32(1), Buffer.from('k'), u32(65)])
    for (const pieces of [[header], cutAt(header, [2, 6])]) {
      const d = decoder()
      let error: unknown
      try {
        for (const piece of pieces) d.push(piece, [])
      } catch (caught) {
        error = caught
      }
      expect(error).toBeInstanceOf(RecordError)
      expect(error).toMatchObject({ code: 'VALUE_TOO_LARGE', index: 0, statusCode: 413 })
    }
  })

  it('accepts a key and a value exactly at the limits', () => {
    const records = [{ key: Buffer.alloc(16, 1), value: Buffer.alloc(64, 2) }]
    expect(decodeAll(decoder(), [frames(records)])).toEqual({ records: records.map(show) })
  })

  it('refuses a body that ends inside a record, wherever it ends', () => {
    const body = frames([put('a', '1'), put('key', 'value')])
    for (let end = first.length + 1; end < body.length; end++) {
      const outcome = decodeAll(decoder(), [body.subarray(0, end)])
      expect(outcome.records, `ends at ${end}`).toHaveLength(1)
      expect(outcome.error, `ends at ${end}`).toMatchObject({ code: 'BAD_RECORD', index: 1 })
      expect(outcome.error?.message).toMatch(/cut short/)
    }
  })
})
