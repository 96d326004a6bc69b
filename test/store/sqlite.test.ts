import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { StartupError } from '../../src/errors.js'
import { SqliteStore } from '../../src/store/sqlite.js'
import { tempDir } from '../helpers/server.js'
import { storeContract } from './contract.js'

const dirs: string[] = []
function freshPath(): string {
  const dir = tempDir()
  dirs.push(dir)
  return path.join(dir, 'park.db')
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

storeContract('sqlite', async () => {
  const store = SqliteStore.open({ path: freshPath() })
  return { store, cleanup: () => store.close() }
})

describe('sqlite store files', () => {
  it('creates the database readable by its owner only', async () => {
    const file = freshPath()
    const store = SqliteStore.open({ path: file })
    await store.put(Buffer.from('k'), Buffer.from('v'))

    expect(fs.statSync(file).mode & 0o777).toBe(0o600)
    expect(fs.statSync(`${file}-wal`).mode & 0o777).toBe(0o600)
    await store.close()
  })

  it('keeps data and versions across a reopen', async () => {
    const file = freshPath()
    let store = SqliteStore.open({ path: file, sync: 'full' })
    const first = await store.put(Buffer.from('k'), Buffer.from('v'))
    await store.close()

    store = SqliteStore.open({ path: file })
    expect((await store.get(Buffer.from('k')))?.value.toString()).toBe('v')
    const second = await store.put(Buffer.from('k'), Buffer.from('w'))
    expect(Number(second.version)).toBeGreaterThan(Number(first.version))
    await store.close()
  })

  it('refuses a second owner of the same file', async () => {
    const file = freshPath()
    const store = SqliteStore.open({ path: file })
    expect(() => SqliteStore.open({ path: file })).toThrow(/in use by another parkd/)
    await store.close()

    const again = SqliteStore.open({ path: file })
    await again.close()
  })

  it('refuses a SQLite file of another application and leaves it untouched', () => {
    const file = freshPath()
    const foreign = new Database(file)
    foreign.exec('CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES (1)')
    foreign.close()
    const before = fs.readFileSync(file)

    expect(() => SqliteStore.open({ path: file })).toThrow(StartupError)
    expect(() => SqliteStore.open({ path: file })).toThrow(/not a parkd one/)
    expect(fs.readFileSync(file)).toEqual(before)
  })

  it('refuses a file that is not a database with a one-line message', () => {
    const file = freshPath()
    fs.writeFileSync(file, Buffer.alloc(8192, 0x41))
    const before = fs.readFileSync(file)

    expect(() => SqliteStore.open({ path: file })).toThrow(/not a parkd database or is damaged/)
    expect(fs.readFileSync(file)).toEqual(before)
  })

  it('refuses a file written by a newer schema', async () => {
    const file = freshPath()
    await SqliteStore.open({ path: file }).close()
    const db = new Database(file)
    db.pragma('user_version = 99')
    db.close()

    expect(() => SqliteStore.open({ path: file })).toThrow(/schema version 99/)
  })
})

describe('sqlite blobs of large values', () => {
  const big = (fill: number) => Buffer.alloc(2_500_000, fill)
  const counts = (file: string) => {
    const db = new Database(file, { readonly: true })
    const chunk = db.prepare('SELECT count(*) FROM chunk').pluck().get()
    const freed = db.prepare('SELECT count(*) FROM freed_blob').pluck().get()
    db.close()
    return { chunk, freed }
  }

  it('leaves no chunk once large values are replaced, deleted or range-deleted', async () => {
    const file = freshPath()
    const store = SqliteStore.open({ path: file })
    await store.put(Buffer.from('a'), big(1))
    await store.put(Buffer.from('a'), big(2))
    await store.put(Buffer.from('b'), big(3))
    await store.put(Buffer.from('c'), big(4))
    expect(counts(file).chunk).toBe(9)

    await store.put(Buffer.from('a'), Buffer.from('small'))
    await store.delete(Buffer.from('b'))
    await store.deleteRange({ prefix: Buffer.from('c') })
    await store.close()
    expect(counts(file)).toEqual({ chunk: 0, freed: 0 })
  })

  it('frees every blob a batch replaces, even the same key twice in one chunk', async () => {
    const file = freshPath()
    const store = SqliteStore.open({ path: file })
    await store.put(Buffer.from('k'), big(1))
    const writer = await store.batch()
    await writer.write([
      { key: Buffer.from('k'), value: big(2) },
      { key: Buffer.from('k'), value: big(3) },
      { key: Buffer.from('gone'), value: big(4) },
      { key: Buffer.from('gone'), value: null },
    ])
    await writer.commit()

    expect((await store.get(Buffer.from('k')))?.value.equals(big(3))).toBe(true)
    await store.close()
    expect(counts(file)).toEqual({ chunk: 3, freed: 0 })
  })

  it('keeps a large value whole when an atomic batch that replaced it rolls back', async () => {
    const file = freshPath()
    const store = SqliteStore.open({ path: file })
    await store.put(Buffer.from('k'), big(1))
    const atomic = await store.batch({ atomic: true })
    await atomic.write([{ key: Buffer.from('k'), value: Buffer.from('small') }])
    await atomic.abort()
    await store.put(Buffer.from('other'), Buffer.from('x'))

    expect((await store.get(Buffer.from('k')))?.value.equals(big(1))).toBe(true)
    await store.close()
    expect(counts(file)).toEqual({ chunk: 3, freed: 0 })
  })

  it('drops chunks that no row points to when the file is opened', async () => {
    const file = freshPath()
    await SqliteStore.open({ path: file }).close()
    const db = new Database(file)
    db.prepare('INSERT INTO chunk (blob, seq, bytes) VALUES (7, 0, ?)').run(big(5))
    db.prepare('INSERT INTO freed_blob (blob) VALUES (7)').run()
    db.close()

    const store = SqliteStore.open({ path: file })
    await store.close()
    expect(counts(file)).toEqual({ chunk: 0, freed: 0 })
  })

  it('migrates a version 1 file in place, keeping its values and versions', async () => {
    const file = freshPath()
    const v1 = new Database(file)
    v1.exec(`
      CREATE TABLE kv (id INTEGER PRIMARY KEY, key BLOB NOT NULL UNIQUE,
        rev INTEGER NOT NULL, value BLOB NOT NULL);
      CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
      INSERT INTO meta (name, value) VALUES ('rev', 5);
      INSERT INTO kv (key, rev, value) VALUES (x'6b', 5, x'0001ff');
      PRAGMA application_id = ${0x7061726b};
      PRAGMA user_version = 1;
    `)
    v1.close()

    const store = SqliteStore.open({ path: file })
    expect(await store.get(Buffer.from('k'))).toEqual({
      version: '5',
      value: Buffer.from([0, 1, 0xff]),
    })
    await store.put(Buffer.from('large'), big(6))
    expect((await store.get(Buffer.from('large')))?.value.equals(big(6))).toBe(true)
    await store.close()

    const db = new Database(file, { readonly: true })
    expect(db.pragma('user_version', { simple: true })).toBe(2)
    db.close()
  })
})
