import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { percentEncodeBytes } from '../src/wire/percent.js'
import { call } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'

let server: TestServer

beforeAll(async () => {
  server = await startServer()
})
afterAll(async () => {
  await server.close()
})

/** Escapes only what a path cannot carry, leaving other bytes as themselves. */
function looselyEncode(bytes: Uint8Array): string {
  let text = ''
  for (const byte of bytes) {
    const plain = byte > 0x20 && byte < 0x7f && !'%?#'.includes(String.fromCharCode(byte))
    text += plain
      ? String.fromCharCode(byte)
      : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return text
}

describe('any key over HTTP', () => {
  it('survives encode -> PUT -> GET for any byte string, strictly or loosely escaped', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 48 }),
        fc.uint8Array({ maxLength: 64 }),
        fc.boolean(),
        async (key, value, strict) => {
          const path = `/kv/${strict ? percentEncodeBytes(key) : looselyEncode(key)}`
          const put = await call(server.url, 'PUT', path, { body: Buffer.from(value) })
          expect(put.status).toBeLessThan(300)

          expect((await server.store.get(Buffer.from(key)))?.value).toEqual(Buffer.from(value))
          const read = await call(server.url, 'GET', path)
          expect(read.status).toBe(200)
          expect(read.body).toEqual(Buffer.from(value))
        },
      ),
      { numRuns: 150 },
    )
  })
})
