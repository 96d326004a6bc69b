/**
 * A full disk, for real: the store is capped with SQLite's max_page_count, so writes
 * past the cap fail inside SQLite with SQLITE_FULL exactly as on a full file system.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ParkdError } from '../src/errors.js'
import { translateSqliteError } from '../src/store/sqlite-errors.js'
import { call } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'

describe('a full database', () => {
  let server: TestServer
  const value = Buffer.alloc(64 * 1024, 1)

  beforeAll(async () => {
    server = await startServer({}, { storeOptions: { maxBytes: 512 * 1024 } })
  })
  afterAll(async () => {
    await server.close()
  })

  it('answers 507 STORAGE_FULL, keeps what was stored, serves reads, and recovers', async () => {
    const stored: string[] = []
    let full
    for (let i = 0; i < 20 && !full; i++) {
      const answer = await call(server.url, 'PUT', `/kv/v${i}`, { body: value })
      if (answer.status === 507) full = answer
      else stored.push(`v${i}`)
    }
    expect(full?.json()).toMatchObject({ statusCode: 507, code: 'STORAGE_FULL' })
    expect(stored.length).toBeGreaterThan(2)

    for (const key of stored) {
      const read = await call(server.url, 'GET', `/kv/${key}`)
      expect(read.status).toBe(200)
      expect(read.body.equals(value)).toBe(true)
    }
    const failedKey = `v${stored.length}`
    expect((await call(server.url, 'GET', `/kv/${failedKey}`)).status).toBe(404)

    // Deleting makes room; then the same write succeeds.
    for (const key of stored.slice(0, 3)) await call(server.url, 'DELETE', `/kv/${key}`)
    expect((await call(server.url, 'PUT', `/kv/${failedKey}`, { body: value })).status).toBe(201)
  })

  it('fails every write grouped with the one that hit the cap; none lands', async () => {
    const many = Array.from({ length: 12 }, (_, i) =>
      call(server.url, 'PUT', `/kv/group-${i}`, { body: value }),
    )
    const answers = await Promise.all(many)
    for (const [i, answer] of answers.entries()) {
      const read = await call(server.url, 'GET', `/kv/group-${i}`)
      if (answer.status === 507) expect(read.status).toBe(404)
      else expect(read.body.equals(value)).toBe(true)
    }
    expect(answers.some((a) => a.status === 507)).toBe(true)
  })
})

describe('translateSqliteError', () => {
  const sqlite = (code: string) => Object.assign(new Error(code), { code })

  it.each([
    ['SQLITE_FULL', 'STORAGE_FULL', 507],
    ['SQLITE_READONLY', 'STORAGE_READ_ONLY', 503],
    ['SQLITE_READONLY_DBMOVED', 'STORAGE_READ_ONLY', 503],
    ['SQLITE_IOERR_WRITE', 'STORAGE_IO_ERROR', 503],
    ['SQLITE_CANTOPEN', 'STORAGE_IO_ERROR', 503],
  ])('maps %s to %s (%d)', (sqliteCode, code, status) => {
    const mapped = translateSqliteError(sqlite(sqliteCode)) as ParkdError
    expect(mapped).toBeInstanceOf(ParkdError)
    expect(mapped.code).toBe(code)
    expect(mapped.statusCode).toBe(status)
  })

  it('leaves other errors alone', () => {
    const constraint = sqlite('SQLITE_CONSTRAINT')
    expect(translateSqliteError(constraint)).toBe(constraint)
    const plain = new Error('x')
    expect(translateSqliteError(plain)).toBe(plain)
    expect(translateSqliteError('text')).toBe('text')
    const registry = new ParkdError('KEY_NOT_FOUND')
    expect(translateSqliteError(registry)).toBe(registry)
  })
})
