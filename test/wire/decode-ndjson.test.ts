import { constants } from 'node:buffer'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { maxLineBytes, NdjsonDecoder } from '../../src/wire/decode-ndjson.js'
import type { BatchRecord } from '../../src/wire/decode-record.js'
import { cutAt, del, ndjson, put, type TestRecord } from '../helpers/records.js'
import { decodeAll, show } from './decode-helpers.js'

const limits = { maxKeyBytes: 16, maxValueBytes: 64 }
const decoder = () => new NdjsonDecoder(limits)
const lines = (...texts: string[]) => Buffer.from(texts.join('\n'))
const outcomeOf = (...texts: string[]) => decodeAll(decoder(), [lines(...texts)])

const bytes = (maxLength: number, minLength = 0) =>
  fc.oneof(
    fc.uint8Array({ minLength, maxLength }).map((array) => Buffer.from(array)),
    fc
      .string({ unit: 'grapheme', minLength, maxLength: maxLength / 4 })
      .map((text) => Buffer.from(text)),
  )
const record = fc.record({
  key: bytes(16, 1).filter((key) => key.length > 0 && key.length <= 16),
  value: fc.option(bytes(64), { freq: 4 }),
})

describe('NDJSON decoding', () => {
  const sample: TestRecord[] = [
    put('a', 'one'),
    del('b'),
    { key: Buffer.from([0xff, 0]), value: Buffer.from([0x80]) },
    put('ünï', 'cödé\n\u0001"'),
  ]

  it('decodes text and base64 fields in order', () => {
    for (const encoding of ['utf8', 'base64'] as const) {
      expect(decodeAll(decoder(), [ndjson(sample, encoding)])).toEqual({
        records: sample.map(show),
      })
    }
  })

  it('takes key and key_b64 mixed freely within a batch and within a record', () => {
    const outcome = outcomeOf(
      '{"key":"a","value_b64":"AAE="}',
      '{"key_b64":"Yg==","value":"two"}',
      '{"value":"three","key":"c"}',
    )
    expect(outcome).toEqual({
      records: [
        show({ key: Buffer.from('a'), value: Buffer.from([0, 1]) }),
        show(put('b', 'two')),
        show(put('c', 'three')),
      ],
    })
  })

  it('skips blank lines, takes CRLF line ends and a last line without a newline', () => {
    const body = Buffer.from('\n  \n{"key":"a","value":"1"}\r\n\t\r\n{"key":"b","delete":true}')
    expect(decodeAll(decoder(), [body])).toEqual({ records: [show(put('a', '1')), show(del('b'))] })
  })

  it('gives the same records when the body is cut in two at every offset', () => {
    const body = ndjson(sample)
    for (let at = 1; at < body.length; at++) {
      expect(decodeAll(decoder(), cutAt(body, [at])), `cut at ${at}`).toEqual({
        records: sample.map(show),
      })
    }
  })

  it('gives the same records however the body is chunked (property)', () => {
    const encoding = fc.constantFrom('utf8' as const, 'base64' as const)
    fc.assert(
      fc.property(fc.array(record), encoding, fc.array(fc.nat()), (records, how, cuts) => {
        const body = ndjson(records, how)
        const pieces = cutAt(
          body,
          cuts.map((cut) => cut % (body.length + 1)),
        )
        expect(decodeAll(decoder(), pieces)).toEqual({ records: records.map(show) })
      }),
    )
  })

  it('makes the same records and the same error of any lines however they are chunked', () => {
    const line = fc.oneof(
      record.map((one) => ndjson([one]).toString()),
      fc.constantFrom('', ' ', '{}', '[]', '{"key":"a","value":1}', '{"key":"ab', '\u00ff'),
      fc.string({ maxLength: 90 }),
    )
    const body = fc.array(line, { maxLength: 10 }).map((texts) => Buffer.from(texts.join('\n')))
    const withInvalidUtf8 = fc.tuple(body, fc.nat()).map(([buffer, at]) => {
      const copy = Buffer.from(buffer)
      if (copy.length > 0) copy[at % copy.length] = 0xff
      return copy
    })
    fc.assert(
      fc.property(fc.oneof(body, withInvalidUtf8), fc.array(fc.nat()), (input, cuts) => {
        const whole = decodeAll(decoder(), [input])
        const pieces = cutAt(
          input,
          cuts.map((cut) => cut % (input.length + 1)),
        )
        expect(decodeAll(decoder(), pieces)).toEqual(whole)
      }),
    )
  })

  it('holds a record split across chunks only until its line ends', () => {
    const d = decoder()
    const out: BatchRecord[] = []
    d.push(Buffer.from('{"key":"a",'), out)
    expect(out).toHaveLength(0)
    d.push(Buffer.from('"value":"1"}\n{"key"'), out)
    expect(out.map(show)).toEqual([show(put('a', '1'))])
  })
})

describe('bad NDJSON records', () => {
  const good = '{"key":"a","value":"1"}'
  const cases: Array<[string, string, RegExp]> = [
    ['invalid JSON', '{"key":"b",', /not valid JSON/],
    ['an array', '["b","c"]', /not a JSON object/],
    ['a number', '42', /not a JSON object/],
    ['null', 'null', /not a JSON object/],
    ['an unknown field', '{"key":"b","value":"c","ttl":3}', /unknown field "ttl"/],
    ['a __proto__ field', '{"key":"b","value":"c","__proto__":{"x":1}}', /"__proto__"/],
    ['no key', '{"value":"c"}', /no "key"/],
    ['an empty key', '{"key":"","value":"c"}', /key is empty/],
    ['an empty base64 key', '{"key_b64":"","value":"c"}', /key is empty/],
    ['both key and key_b64', '{"key":"b","key_b64":"Yg==","value":"c"}', /both "key"/],
    ['both value and value_b64', '{"key":"b","value":"c","value_b64":"Yw=="}', /both "value"/],
    ['a value and delete', '{"key":"b","value":"c","delete":true}', /both a value and/],
    ['neither value nor delete', '{"key":"b"}', /neither/],
    ['delete false', '{"key":"b","delete":false}', /"delete" other than true/],
    ['delete as text', '{"key":"b","delete":"true"}', /"delete" other than true/],
    ['a key that is not text', '{"key":7,"value":"c"}', /"key" that is not a string/],
    ['a value that is not text', '{"key":"b","value":null}', /"value" that is not a string/],
    ['a lone surrogate', '{"key":"b","value":"\\ud800"}', /lone surrogate/],
    ['the URL base64 alphabet', '{"key":"b","value_b64":"-_8="}', /not base64/],
    ['base64 without padding', '{"key":"b","value_b64":"YQ"}', /not base64/],
    ['base64 with spare bits set', '{"key":"b","value_b64":"YR=="}', /not base64/],
    ['base64 with whitespace', '{"key":"b","value_b64":"YW Jj"}', /not base64/],
  ]

  for (const [what, line, reason] of cases) {
    it(`refuses ${what} as a bad record, after the records before it`, () => {
      const outcome = outcomeOf(good, '', line, good)
      expect(outcome.records).toEqual([show(put('a', '1'))])
      expect(outcome.error).toMatchObject({ code: 'BAD_RECORD', index: 1 })
      expect(outcome.error?.message).toMatch(reason)
    })
  }

  it('leaves Object.prototype alone when a record carries __proto__', () => {
    outcomeOf('{"__proto__":{"polluted":true},"key":"a","value":"1"}')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('refuses a line that is not UTF-8 as a bad record', () => {
    const body = Buffer.concat([
      Buffer.from(`${good}\n{"key":"`),
      Buffer.from([0xc3]),
      Buffer.from('","value":"x"}\n'),
    ])
    const outcome = decodeAll(decoder(), [body])
    expect(outcome.error).toMatchObject({ code: 'BAD_RECORD', index: 1 })
    expect(outcome.error?.message).toMatch(/UTF-8/)
    expect(outcome.records).toHaveLength(1)
  })

  it('refuses a key or value over the limit with the 413 codes', () => {
    const key = outcomeOf(good, `{"key":"${'k'.repeat(17)}","value":"c"}`)
    expect(key.error).toMatchObject({ code: 'KEY_TOO_LARGE', index: 1 })
    const value = outcomeOf(
      good,
      `{"key":"b","value_b64":"${Buffer.alloc(65).toString('base64')}"}`,
    )
    expect(value.error).toMatchObject({ code: 'VALUE_TOO_LARGE', index: 1 })
  })

  it('accepts the longest line a record within the limits can need', () => {
    // Control characters are the costliest to write: 6 bytes each as \u00XX.
    const record = { key: Buffer.alloc(16, 1), value: Buffer.alloc(64, 2) }
    const body = ndjson([record])
    expect(body.length).toBeGreaterThan(6 * 80)
    expect(decodeAll(decoder(), cutAt(body, [100]))).toEqual({ records: [show(record)] })
  })

  it('stops a line that never ends once it outgrows the cap', () => {
    const d = decoder()
    const out: BatchRecord[] = []
    const cap = maxLineBytes(limits)
    let fed = 0
    const feed = () => {
      for (; fed <= 10 * cap; fed += 100) d.push(Buffer.alloc(100, 0x61), out)
    }
    expect(feed).toThrow(expect.objectContaining({ code: 'VALUE_TOO_LARGE', index: 0 }))
    expect(fed).toBeLessThanOrEqual(cap)
  })

  it('caps lines by what the limits need, within the longest string JavaScript has', () => {
    expect(maxLineBytes({ maxKeyBytes: 2048, maxValueBytes: 64 * 1024 * 1024 })).toBe(
      6 * (2048 + 64 * 1024 * 1024) + 1024,
    )
    expect(maxLineBytes({ maxKeyBytes: 2048, maxValueBytes: 1024 ** 3 })).toBe(
      constants.MAX_STRING_LENGTH,
    )
  })
})
