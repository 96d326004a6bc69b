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
