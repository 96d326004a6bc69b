/**
 * The store contract as a suite: any engine that implements Store must pass it. Call
 * `storeContract(name, factory)` from an engine's own test file.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Store } from '../../src/store/types.js'

export type StoreFactory = () => Promise<{ store: Store; cleanup: () => Promise<void> }>

const b = (text: string) => Buffer.from(text)

async function collectKeys(pages: AsyncIterable<Buffer[]>): Promise<string[]> {
  const keys: string[] = []
  for await (const page of pages) for (const key of page) keys.push(key.toString('latin1'))
  return keys
}

export function storeContract(name: string, factory: StoreFactory): void {
  describe(`store contract: ${name}`, () => {
    let store: Store
    let cleanup: () => Promise<void>

    beforeEach(async () => {
      ;({ store, cleanup } = await factory())
    })
    afterEach(async () => {
      await cleanup()
    })

    it('returns undefined for a key that was never written', async () => {
      expect(await store.get(b('missing'))).toBeUndefined()
      expect(await store.stat(b('missing'))).toBeUndefined()
    })

    it('stores bytes exactly, including 0x00, 0xFF and an empty value', async () => {
      const key = Buffer.from([0x00, 0xff, 0x0a, 0x2f])
      const value = Buffer.from([0xff, 0x00, 0xfe, 0x80])
      await store.put(key, value)
      await store.put(b('empty'), Buffer.alloc(0))

      expect((await store.get(key))?.value).toEqual(value)
      expect((await store.get(b('empty')))?.value).toEqual(Buffer.alloc(0))
      expect((await store.stat(key))?.size).toBe(4)
    })

    it('reports created on the first put and a new version on every put', async () => {
      const first = await store.put(b('k'), b('1'))
      const second = await store.put(b('k'), b('1'))
      expect(first.created).toBe(true)
      expect(second.created).toBe(false)
      expect(second.version).not.toBe(first.version)
      expect((await store.get(b('k')))?.version).toBe(second.version)
    })

    it('never gives a re-created key a version it had before', async () => {
      const first = await store.put(b('k'), b('1'))
      await store.delete(b('k'))
      const again = await store.put(b('k'), b('1'))
      expect(again.version).not.toBe(first.version)
    })

    it('deletes and says whether the key existed', async () => {
      await store.put(b('k'), b('v'))
      expect(await store.delete(b('k'))).toBe(true)
      expect(await store.delete(b('k'))).toBe(false)
      expect(await store.get(b('k'))).toBeUndefined()
    })

    it('checks If-Match and If-None-Match preconditions atomically with the write', async () => {
      const { version } = await store.put(b('k'), b('v1'))

      await expect(store.put(b('k'), b('x'), { ifMatch: ['nope'] })).rejects.toMatchObject({
        code: 'PRECONDITION_FAILED',
      })
      await expect(store.put(b('k'), b('x'), { ifNoneMatch: '*' })).rejects.toMatchObject({
        code: 'PRECONDITION_FAILED',
      })
      await expect(store.put(b('new'), b('x'), { ifMatch: '*' })).rejects.toMatchObject({
        code: 'PRECONDITION_FAILED',
      })
      await expect(store.delete(b('k'), { ifNoneMatch: [version] })).rejects.toMatchObject({
        code: 'PRECONDITION_FAILED',
      })
      expect((await store.get(b('k')))?.value).toEqual(b('v1'))

      await store.put(b('k'), b('v2'), { ifMatch: [version] })
      await store.put(b('new'), b('n'), { ifNoneMatch: '*' })
      expect((await store.get(b('k')))?.value).toEqual(b('v2'))
      expect((await store.get(b('new')))?.value).toEqual(b('n'))
    })

    it('lets exactly one of many concurrent create-only puts win', async () => {
      const attempts = Array.from({ length: 20 }, (_, i) =>
        store.put(b('race'), b(String(i)), { ifNoneMatch: '*' }).then(
          () => 'won',
          (error: { code?: string }) => error.code,
        ),
      )
      const outcomes = await Promise.all(attempts)
      expect(outcomes.filter((o) => o === 'won')).toHaveLength(1)
      expect(outcomes.filter((o) => o === 'PRECONDITION_FAILED')).toHaveLength(19)
    })

    it('scans keys byte-wise, forwards and backwards, with bounds and limits', async () => {
      for (const key of ['1', '2', '3', '11', '12', 'a\xff', 'a\x00']) {
        await store.put(Buffer.from(key, 'latin1'), b('v'))
      }
      expect(await collectKeys(store.scanKeys({}))).toEqual([
        '1',
        '11',
        '12',
        '2',
        '3',
        'a\x00',
        'a\xff',
      ])
      expect(await collectKeys(store.scanKeys({ from: b('12'), to: b('2') }))).toEqual(['12', '2'])
      expect(await collectKeys(store.scanKeys({ after: b('12'), limit: 2 }))).toEqual(['2', '3'])
      expect(await collectKeys(store.scanKeys({ reverse: true, before: b('2') }))).toEqual([
        '12',
        '11',
        '1',
      ])
      expect(await collectKeys(store.scanKeys({ prefix: b('a') }))).toEqual(['a\x00', 'a\xff'])
      expect(await collectKeys(store.scanKeys({ from: b('3'), to: b('1') }))).toEqual([])
    })

    it('scans items with their values, small and large', async () => {
      const large = Buffer.alloc(300_000, 7)
      await store.put(b('a'), b('small'))
      await store.put(b('b'), large)
      await store.put(b('c'), Buffer.alloc(0))

      const items: Array<[string, number]> = []
      for await (const page of store.scanItems({})) {
        for (const item of page) items.push([item.key.toString(), item.value.length])
      }
      expect(items).toEqual([
        ['a', 5],
        ['b', 300_000],
        ['c', 0],
      ])
    })

    describe('large values', () => {
      const large = (size: number, seed: number) => {
        const value = Buffer.alloc(size)
        for (let i = 0; i < size; i++) value[i] = (i * 31 + seed) & 0xff
        return value
      }
      async function* piecesOf(value: Buffer, size: number) {
        for (let at = 0; at < value.length; at += size) yield value.subarray(at, at + size)
      }
      async function readAll(key: Buffer): Promise<Buffer | undefined> {
        const read = await store.read(key)
        if (!read) return undefined
        if (Buffer.isBuffer(read.body)) return read.body
        const pieces: Buffer[] = []
        for await (const piece of read.body) pieces.push(piece)
        return Buffer.concat(pieces)
      }

      it('stores a value of several MiB, whole or in odd pieces, and reads it back', async () => {
        const whole = large(3_500_000, 1)
        const streamed = large(2_600_001, 2)
        await store.put(b('whole'), whole)
        await store.putStream(b('streamed'), piecesOf(streamed, 77_777))

        for (const [key, value] of [
          ['whole', whole],
          ['streamed', streamed],
        ] as const) {
          expect((await store.get(b(key)))?.value.equals(value)).toBe(true)
          expect((await readAll(b(key)))?.equals(value)).toBe(true)
          expect((await store.stat(b(key)))?.size).toBe(value.length)
        }
      })

      it('stores a short stream and an empty one like any value', async () => {
        await store.putStream(b('short'), piecesOf(b('hello'), 2))
        await store.putStream(b('empty'), piecesOf(Buffer.alloc(0), 1))
        expect((await store.read(b('short')))?.body).toEqual(b('hello'))
        expect((await store.get(b('empty')))?.value.length).toBe(0)
      })

      it('keeps sending the old value to a reader while it is replaced', async () => {
        const old = large(3_000_000, 3)
        await store.put(b('k'), old)
        const read = await store.read(b('k'))
        await store.put(b('k'), b('new'))
        await store.delete(b('k'))
        await store.put(b('other'), b('x'))

        const pieces: Buffer[] = []
        for await (const piece of read?.body as AsyncIterable<Buffer>) pieces.push(piece)
        expect(Buffer.concat(pieces).equals(old)).toBe(true)
        expect(await store.get(b('k'))).toBeUndefined()
      })

      it('keeps the old value when a stream fails or its precondition does not hold', async () => {
        await store.put(b('k'), b('old'))
        async function* failing() {
          yield large(1_500_000, 4)
          throw new Error('the client went away')
        }
        await expect(store.putStream(b('k'), failing())).rejects.toThrow('went away')
        const stale = { ifMatch: ['no-such-version'] }
        await expect(
          store.putStream(b('k'), piecesOf(large(2_500_000, 5), 100_000), stale),
        ).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' })
        expect((await store.get(b('k')))?.value).toEqual(b('old'))
      })

      it('refuses a conditional stream that cannot succeed before reading any of it', async () => {
        await store.put(b('k'), b('old'))
        let pulled = 0
        async function* counted() {
          for (let i = 0; i < 3; i++) {
            pulled++
            yield large(1_000_000, i)
          }
        }
        await expect(
          store.putStream(b('k'), counted(), { ifNoneMatch: '*' }),
        ).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' })
        expect(pulled).toBe(0)
      })

      it('lists, batches and deletes large values like small ones', async () => {
        const value = large(2_200_000, 6)
        const writer = await store.batch()
        await writer.write([
          { key: b('big'), value },
          { key: b('small'), value: b('s') },
        ])
        await writer.commit()

        const items: Array<[string, boolean]> = []
        for await (const page of store.scanItems({})) {
          for (const item of page) items.push([item.key.toString(), item.value.equals(value)])
        }
        expect(items).toEqual([
          ['big', true],
          ['small', false],
        ])
        expect(await store.deleteRange({ from: b('a') })).toBe(2)
        expect(await store.get(b('big'))).toBeUndefined()
      })
    })

    it('counts and deletes a selection', async () => {
      for (let i = 0; i < 50; i++) await store.put(b(`p/${String(i).padStart(2, '0')}`), b('v'))
      await store.put(b('q'), b('v'))

      expect(await store.count({ prefix: b('p/') })).toBe(50)
      expect(await store.count({ from: b('p/10'), before: b('p/20') })).toBe(10)
      expect(await store.deleteRange({ prefix: b('p/') })).toBe(50)
      expect(await store.count({})).toBe(1)
    })

    it('applies a batch in order, the last record for a key winning', async () => {
      const writer = await store.batch()
      await writer.write([
        { key: b('x'), value: b('1') },
        { key: b('y'), value: b('2') },
        { key: b('x'), value: b('3') },
        { key: b('y'), value: null },
      ])
      await writer.commit()
      expect((await store.get(b('x')))?.value).toEqual(b('3'))
      expect(await store.get(b('y'))).toBeUndefined()
    })

    it('drops every record of an aborted atomic batch', async () => {
      await store.put(b('keep'), b('old'))
      const writer = await store.batch({ atomic: true })
      await writer.write([
        { key: b('keep'), value: b('new') },
        { key: b('gone'), value: b('x') },
      ])
      await writer.abort()
      expect((await store.get(b('keep')))?.value).toEqual(b('old'))
      expect(await store.get(b('gone'))).toBeUndefined()
    })

    it('keeps serving reads while an atomic batch is open, and shows it after commit', async () => {
      await store.put(b('k'), b('before'))
      const writer = await store.batch({ atomic: true })
      await writer.write([{ key: b('k'), value: b('after') }])

      expect((await store.get(b('k')))?.value).toEqual(b('before'))
      const waitingPut = store.put(b('other'), b('v'))
      await writer.commit()
      await waitingPut

      expect((await store.get(b('k')))?.value).toEqual(b('after'))
      expect((await store.get(b('other')))?.value).toEqual(b('v'))
    })

    it('answers ping', async () => {
      await expect(store.ping()).resolves.toBeUndefined()
    })
  })
}
