/**
 * One parkd per database file. The server caches state (the next version number) and
 * serialises its own writers, so a second writer on the same file would corrupt that
 * picture. The lock is an exclusive SQLite lock on a small sidecar file: SQLite's own
 * file locking works across processes, is released by the kernel if the owner dies, and
 * leaves the data file itself free for the server's own connections.
 */
import Database from 'better-sqlite3'
import { StartupError } from '../errors.js'

export type OwnerLock = { release(): void }

export function lockPathFor(databasePath: string): string {
  return `${databasePath}-lock`
}

export function acquireOwnerLock(databasePath: string): OwnerLock {
  const lockPath = lockPathFor(databasePath)
  let lockDb: Database.Database

  try {
    lockDb = new Database(lockPath, { timeout: 0 })
    lockDb.pragma('locking_mode = EXCLUSIVE')
    // In exclusive locking mode the lock taken by this write is kept until close.
    lockDb.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS owner (pid INTEGER); COMMIT')
  } catch (error) {
    const code = (error as { code?: string }).code ?? ''
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
      throw new StartupError(`${databasePath} is in use by another parkd process`, { cause: error })
    }
    throw new StartupError(`cannot lock ${lockPath}: ${(error as Error).message}`, {
      cause: error,
    })
  }

  return {
    release: () => {
      if (lockDb.open) lockDb.close()
    },
  }
}
