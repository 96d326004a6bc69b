import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  MalformedEscapeError,
  percentDecodeBytes,
  percentEncodeBytes,
} from '../../src/wire/percent.js'

describe('percentDecodeBytes', () => {
  it('decodes every escape to exactly one byte, whatever the byte', () => {
    expect(percentDecodeBytes('%00%ff%C3%28')).toEqual(Buffer.from([0x00, 0xff, 0xc3, 0x28]))
  })

  it('keeps other characters as their UTF-8 bytes', () => {
    expect(percentDecodeBytes('é/x')).toEqual(Buffer.from('é/x', 'utf8'))
  })

  it('reads + as a space only when asked to (query strings)', () => {
    expect(percentDecodeBytes('a+b').toString()).toBe('a+b')
    expect(percentDecodeBytes('a+b', true).toString()).toBe('a b')
    expect(percentDecodeBytes('a%2Bb', true).toString()).toBe('a+b')
  })

  it.each(['%', '%4', '%G1', 'ab%zz', '%%41'])('refuses the malformed escape in %s', (text) => {
    expect(() => percentDecodeBytes(text)).toThrow(MalformedEscapeError)
  })

  it('gives back any byte string that was encoded', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const encoded = percentEncodeBytes(bytes)
        expect(percentDecodeBytes(encoded)).toEqual(Buffer.from(bytes))
        expect(percentDecodeBytes(encoded, true)).toEqual(Buffer.from(bytes))
      }),
    )
  })

  it('decodes arbitrary mixes of escapes and text like a byte-wise reference', () => {
    const piece = fc.oneof(
      fc
        .integer({ min: 0, max: 255 })
        .map((b) => ({ text: `%${b.toString(16).padStart(2, '0')}`, bytes: [b] })),
      fc
        .constantFrom('a', 'Z', '/', '~', 'é', '+')
        .map((c) => ({ text: c, bytes: [...Buffer.from(c)] })),
    )
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (pieces) => {
        const text = pieces.map((p) => p.text).join('')
        const bytes = Buffer.from(pieces.flatMap((p) => p.bytes))
        expect(percentDecodeBytes(text)).toEqual(bytes)
      }),
    )
  })
})
