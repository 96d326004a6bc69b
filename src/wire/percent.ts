/**
 * Byte-wise percent-decoding. `%XX` is exactly one byte, whatever it is (0x00, 0xFF,
 * half of a UTF-8 sequence); any other character stands for its own UTF-8 bytes. The
 * standard decoders refuse or replace bytes that are not valid UTF-8, which would change
 * binary keys, so parkd decodes by hand.
 */

const HEX_VALUE = new Int8Array(128).fill(-1)
for (let i = 0; i < 10; i++) HEX_VALUE[0x30 + i] = i
for (let i = 0; i < 6; i++) {
  HEX_VALUE[0x41 + i] = 10 + i
  HEX_VALUE[0x61 + i] = 10 + i
}

function hexDigit(code: number): number {
  return code < 128 ? (HEX_VALUE[code] as number) : -1
}

export class MalformedEscapeError extends Error {
  constructor(readonly position: number) {
    super(`malformed percent-escape at position ${position}`)
    this.name = 'MalformedEscapeError'
  }
}

/**
 * Decodes `text` into bytes. With `plusIsSpace` (query strings, form encoding) a `+` is a
 * space; in a path it is itself. Throws MalformedEscapeError on `%` not followed by two
 * hex digits.
 */
export function percentDecodeBytes(text: string, plusIsSpace = false): Buffer {
  if (!/[%+]/.test(text)) return Buffer.from(text, 'utf8')

  const out = Buffer.allocUnsafe(Buffer.byteLength(text, 'utf8'))
  let length = 0
  let plainStart = 0

  const flushPlain = (end: number) => {
    if (end > plainStart) length += out.write(text.slice(plainStart, end), length, 'utf8')
  }

  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code === 0x25) {
      const high = hexDigit(text.charCodeAt(i + 1))
      const low = hexDigit(text.charCodeAt(i + 2))
      if (high < 0 || low < 0) throw new MalformedEscapeError(i)
      flushPlain(i)
      out[length++] = (high << 4) | low
      i += 2
      plainStart = i + 1
    } else if (code === 0x2b && plusIsSpace) {
      flushPlain(i)
      out[length++] = 0x20
      plainStart = i + 1
    }
  }

  flushPlain(text.length)
  return out.subarray(0, length)
}

const UNRESERVED = /[A-Za-z0-9\-._~]/

/** Encodes bytes so that percentDecodeBytes gives them back exactly (every byte escaped
 * except unreserved ASCII). Used by the client and by tests. */
export function percentEncodeBytes(bytes: Uint8Array): string {
  let text = ''
  for (const byte of bytes) {
    const char = String.fromCharCode(byte)
    text += byte < 128 && UNRESERVED.test(char) ? char : `%${byte.toString(16).padStart(2, '0')}`
  }
  return text
}
