import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FrameReader } from '../../src/client/frame-reader.js'
import { encodeItemFrames, encodeKeyFrames } from '../../src/wire/encode-frames.js'
import { cutAt } from '../helpers/records.js'

const bytes = (maxLength: number) => fc.uint8Array({ maxLength }).map((array) => Buffer.from(array))

function readAll(pieces: readonly Buffer[]): { frames: string[]; midFrame: boolean } {
  const reader = new FrameReader()
  const out: Buffer[] = []
  for (const piece of pieces) reader.push(piece, out)
  return { frames: out.map((frame) => frame.toString('hex')), midFrame: reader.midFrame }
}

const hex = (frames: readonly Buffer[]) => frames.map((frame) => frame.toString('hex'))

describe('FrameReader', () => {
  it('reads the key frames the server writes, however the body is chunked (property)', () => {
    fc.assert(
      fc.property(fc.array(bytes(40), { maxLength: 30 }), fc.array(fc.nat()), (keys, cuts) => {
        const body = encodeKeyFrames(keys)
        const pieces = cutAt(
          body,
          cuts.map((cut) => cut % (body.length + 1)),
        )
        expect(readAll(pieces)).toEqual({ frames: hex(keys), midFrame: false })
      }),
    )
  })

  it('reads item frames as key, value pairs, large values included (property)', () => {
    // 70 KiB values leave the server's encoder as buffers of their own.
    const value = fc.oneof(bytes(50), fc.constant(Buffer.alloc(70 * 1024, 7)))
    const item = fc.record({ key: bytes(20), value })
    fc.assert(
      fc.property(fc.array(item, { maxLength: 12 }), fc.array(fc.nat()), (items, cuts) => {
        const body = Buffer.concat(encodeItemFrames(items))
        const pieces = cutAt(
          body,
          cuts.map((cut) => cut % (body.length + 1)),
        )
        const expected = hex(items.flatMap(({ key, value }) => [key, value]))
        expect(readAll(pieces)).toEqual({ frames: expected, midFrame: false })
      }),
      { numRuns: 50 },
    )
  })

  it('reads frames when every byte arrives on its own, empty frames included', () => {
    const frames = [Buffer.from('a'), Buffer.alloc(0), Buffer.from([0, 0xff, 0])]
    const body = encodeKeyFrames(frames)
    const pieces = [...body].map((byte) => Buffer.from([byte]))
    expect(readAll(pieces)).toEqual({ frames: hex(frames), midFrame: false })
  })

  it('says it is inside a frame when the bytes end in a length field or in the bytes', () => {
    const body = encodeKeyFrames([Buffer.from('abc'), Buffer.from('defg')])
    for (let end = 1; end < body.length; end++) {
      const outcome = readAll(cutAt(body.subarray(0, end), [2, 5]))
      expect(outcome.midFrame, `cut at ${end}`).toBe(end !== 7)
      expect(outcome.frames).toEqual(end < 7 ? [] : [Buffer.from('abc').toString('hex')])
    }
  })

  it('hands out frames that lie whole in a chunk without copying them', () => {
    const body = encodeKeyFrames([Buffer.from('key')])
    const out: Buffer[] = []
    new FrameReader().push(body, out)
    expect(out[0]?.buffer).toBe(body.buffer)
  })
})
