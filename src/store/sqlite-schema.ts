/**
 * Opening a parkd database file: permissions, pragmas, and the schema with its version.
 *
 * The file is marked with SQLite's `application_id` so that parkd recognises its own
 * files and refuses anything else, and `user_version` holds the schema version so that
 * a later parkd can migrate an older file in place.
 */
import fs from 'node:fs'
import Database from 'better-sqlite3'
import { StartupError } from '../errors.js'

export type SyncMode = 'normal' | 'full'

/** "park" in ASCII. */
export const APPLICATION_ID = 0x7061726b
export const SCHEMA_VERSION = 2

/**
 * A rowid table with a unique index on the key, chosen by measurement over a WITHOUT
 * ROWID table keyed by the key (1M records, 16-byte keys, 100-byte values, 10,000-row
 * transactions): inserts ran 1.4x (sequential keys) to 2x (random keys) faster and
 * key-only scans 1.2x faster, because the key index stays small enough to stay cached.
 * The cost: listing items of keys that were written in random order runs at about 40%
 * of the WITHOUT ROWID speed, since rows then sit in the table in arrival order, not
 * key order. Point reads were equal. The numbers are in the commit that chose it.
 */
const SCHEMA_V1 = `
  CREATE TABLE kv (
    id INTEGER PRIMARY KEY,
    key BLOB NOT NULL UNIQUE,
    rev INTEGER NOT NULL,
    value BLOB NOT NULL
  );
  CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
  INSERT INTO meta (name, value) VALUES ('rev', 0);
`

/**
 * Version 2: large values live in 1 MiB chunks of a numbered blob (see sqlite-blobs.ts),
 * so that neither a write nor a read ever holds a whole 64 MiB value in one piece. A row
 * with a blob keeps an empty `value`. A blob whose row goes away or takes another value
 * is not deleted at once but listed in `freed_blob`, since a GET may still be sending
 * it; the engine deletes freed blobs nobody reads. (The engine lists them itself:
 * triggers on `kv` would do it for every write, and measured halved batch ingest.)
 */
const MIGRATE_TO_V2 = `
  ALTER TABLE kv ADD COLUMN blob INTEGER;
  ALTER TABLE kv ADD COLUMN blob_bytes INTEGER;
  CREATE INDEX kv_blob ON kv (blob) WHERE blob IS NOT NULL;
  CREATE TABLE chunk (blob INTEGER NOT NULL, seq INTEGER NOT NULL, bytes BLOB NOT NULL);
  CREATE UNIQUE INDEX chunk_order ON chunk (blob, seq);
  CREATE TABLE freed_blob (blob INTEGER PRIMARY KEY);
`

/** The steps from each schema version to the next; a new file takes them all. */
const MIGRATIONS: readonly string[] = [SCHEMA_V1, MIGRATE_TO_V2]

/**
 * Page cache per connection. It holds the interior pages of the key index of tens of
 * millions of keys; leaf pages come from the operating system's cache either way. 32 MiB
 * gave no faster random GETs than 8 MiB, with 100,000 keys or with 2 million, but cost
 * 24 MB more resident memory under every large upload or listing.
 */
const CACHE_KIB = 8 * 1024

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** Creates the file readable by its owner only; SQLite gives the WAL the same mode. */
function createPrivately(path: string): void {
  try {
    fs.closeSync(fs.openSync(path, 'wx', 0o600))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new StartupError(`cannot create ${path}: ${describe(error)}`, { cause: error })
    }
  }
}

/**
 * Reads the file's marks without writing anything, so that a foreign file is refused
 * untouched. Answers the file's schema version, 0 for an empty file.
 */
function inspect(db: Database.Database, path: string): number {
  const applicationId = db.pragma('application_id', { simple: true }) as number
  const userVersion = db.pragma('user_version', { simple: true }) as number
  const tables = db.prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table'").pluck()

  if (applicationId === 0 && userVersion === 0 && tables.get() === 0) return 0
  if (applicationId !== APPLICATION_ID) {
    throw new StartupError(`${path} is a SQLite database, but not a parkd one`)
  }
  if (userVersion > SCHEMA_VERSION) {
    throw new StartupError(
      `${path} has schema version ${userVersion}; this parkd reads up to ${SCHEMA_VERSION}`,
    )
  }
  return userVersion
}

/**
 * Caps the database file: writes past the cap fail with SQLITE_FULL, exactly as on a
 * full disk, and succeed again once deletes make room or the cap is raised.
 */
function limitSize(db: Database.Database, maxBytes: number): void {
  const pageSize = db.pragma('page_size', { simple: true }) as number
  db.pragma(`max_page_count = ${Math.max(1, Math.floor(maxBytes / pageSize))}`)
}

/**
 * Brings the file to SCHEMA_VERSION in one transaction, so that a crash leaves it at its
 * old version or the new one. The write lock is taken first: two connections opening
 * an old file at once must not both migrate it.
 */
function migrate(db: Database.Database, from: number): void {
  if (from >= SCHEMA_VERSION) return
  db.exec('BEGIN IMMEDIATE')
  try {
    const current = db.pragma('user_version', { simple: true }) as number
    for (const step of MIGRATIONS.slice(current)) db.exec(step)
    if (current === 0) db.pragma(`application_id = ${APPLICATION_ID}`)
    db.pragma(`user_version = ${SCHEMA_VERSION}`)
    db.exec('COMMIT')
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK')
    throw error
  }
}

/** Opens one connection to a parkd database, creating or migrating its schema. */
export function openDatabase(path: string, sync: SyncMode, maxBytes?: number): Database.Database {
  createPrivately(path)

  let db: Database.Database | undefined
  try {
    db = new Database(path, { timeout: 5000 })
    const version = inspect(db, path)
    db.pragma('journal_mode = WAL')
    db.pragma(`synchronous = ${sync === 'full' ? 'FULL' : 'NORMAL'}`)
    db.pragma(`cache_size = -${CACHE_KIB}`)
    db.pragma('trusted_schema = OFF')
    if (maxBytes !== undefined) limitSize(db, maxBytes)
    migrate(db, version)

    // Touch both ends of the key index: a damaged header or root page fails here, at
    // start, rather than on some later request. Deeper damage needs PRAGMA
    // integrity_check, which reads the whole file and so is not run on every start.
    db.prepare('SELECT key FROM kv ORDER BY key LIMIT 1').get()
    db.prepare('SELECT key FROM kv ORDER BY key DESC LIMIT 1').get()
    return db
  } catch (error) {
    db?.close()
    if (error instanceof StartupError) throw error
    const code = (error as { code?: string }).code ?? ''
    if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
      throw new StartupError(`${path} is not a parkd database or is damaged (${code})`, {
        cause: error,
      })
    }
    throw new StartupError(`cannot open ${path}: ${describe(error)}`, { cause: error })
  }
}
