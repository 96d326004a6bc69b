import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { atomicBatchWriter } from '../../src/store/sqlite-atomic.js'
import { SqliteStore } from '../../src/store/sqlite.js'
import { tempDir } from '../helpers/server.js'

let dir: string
let store: SqliteStore

beforeEach(() => {
  dir = tempDir()
  store = SqliteStore.open({ path: path.join(dir, 'park.db') })
})
afterEach(async () => {
  await store.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

const put = (key: string, value: string) => ({ key: Buffer.from(key), value: Buffer.from(value) })
const text = async (key: string) => (await store.get(Buffer.from(key)))?.value.toString()

describe('atomic batches of the SQLite store', () => {
  it('keeps readers on the last committed state until the batch commits', async () => {
    await store.put(Buffer.from('a'), Buffer.from('old'))
    const writer = await store.batch({ atomic: true })
    await writer.write([put('a', 'new'), put('b', 'new')])

    expect(await text('a')).toBe('old')
    expect(await text('b')).toBeUndefined()

    await writer.commit()
    expect(await text('a')).toBe('new')
    expect(await text('b')).toBe('new')
  })

  it('stores nothing when aborted, and later writes still get fresh versions', async () => {
    const before = await store.put(Buffer.from('a'), Buffer.from('old'))
    const writer = await store.batch({ atomic: true })
    await writer.write([put('a', 'new')])
    await writer.abort()

    expect(await text('a')).toBe('old')
    const after = await store.put(Buffer.from('a'), Buffer.from('newer'))
    expect(Number(after.version)).toBeGreaterThan(Number(before.version))
  })

  it('runs a write issued during the batch after the batch commits', async () => {
    const writer = await store.batch({ atomic: true })
    await writer.write([put('k', 'from batch')])
    const later = store.put(Buffer.from('k'), Buffer.from('from put'))

    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(await text('k')).toBeUndefined()

    await writer.commit()
    await later
    expect(await text('k')).toBe('from put')
  })

  it('lets a second atomic batch begin only after the first one ends', async () => {
    const first = await store.batch({ atomic: true })
    let secondStarted = false
    const second = store.batch({ atomic: true }).then((writer) => {
      secondStarted = true
      return writer
    })

    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(secondStarted).toBe(false)

    await first.abort()
    const writer = await second
    await writer.write([put('x', '1')])
    await writer.commit()
    expect(await text('x')).toBe('1')
  })

  it('takes commit and abort after the end as harmless, a late write as a mistake', async () => {
    const writer = await store.batch({ atomic: true })
    await writer.commit()
    await writer.abort()
    await expect(writer.commit()).rejects.toThrow(/already ended/)
    await expect(writer.write([put('a', '1')])).rejects.toThrow(/already ended/)
  })

  it('gives the write queue back when its transaction cannot begin', async () => {
    // Another connection holding the write lock past the busy timeout (5 s) is the one
    // way to make BEGIN IMMEDIATE fail on a healthy file.
    const intruder = new Database(path.join(dir, 'park.db'))
    intruder.exec('BEGIN IMMEDIATE')
    await expect(store.batch({ atomic: true })).rejects.toMatchObject({ code: 'SQLITE_BUSY' })
    intruder.exec('ROLLBACK')
    intruder.close()

    await store.put(Buffer.from('after'), Buffer.from('1'))
    expect(await text('after')).toBe('1')
  }, 15_000)
})

describe('an atomic batch whose transaction SQLite ended by itself', () => {
  let connection: Database.Database
  let released: number

  beforeEach(() => {
    connection = new Database(path.join(dir, 'other.db'))
    connection.exec('CREATE TABLE t (v)')
    connection.exec('BEGIN IMMEDIATE')
    released = 0
  })

  const writerOn = () =>
    atomicBatchWriter({
      connection,
      apply: () => void connection.prepare('INSERT INTO t VALUES (1)').run(),
      release: () => released++,
    })

  it('refuses to commit, so no write can slip in on its own', async () => {
    const writer = writerOn()
    connection.exec('ROLLBACK')

    await expect(writer.write([])).rejects.toMatchObject({ code: 'STORAGE_IO_ERROR' })
    await expect(writer.commit()).rejects.toMatchObject({ code: 'STORAGE_IO_ERROR' })
    expect(released).toBe(1)
    expect(connection.open).toBe(false)
  })

  it('refuses to commit after a failed write and gives the queue back', async () => {
    const writer = atomicBatchWriter({
      connection,
      apply: () => {
        throw Object.assign(new Error('disk full'), { code: 'SQLITE_FULL' })
      },
      release: () => released++,
    })

    await expect(writer.write([])).rejects.toMatchObject({ code: 'STORAGE_FULL' })
    await expect(writer.commit()).rejects.toMatchObject({ code: 'STORAGE_FULL' })
    expect(released).toBe(1)
  })
})
