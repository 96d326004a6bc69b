/**
 * Maps SQLite's result codes to parkd's error registry, so that a full disk or a
 * read-only file reaches the client as a clear 507/503 instead of a 500.
 */
import { ParkdError } from '../errors.js'

function sqliteCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined
}

/** Returns a ParkdError for engine errors and the error itself for everything else. */
export function translateSqliteError(error: unknown): unknown {
  if (error instanceof ParkdError) return error

  const code = sqliteCode(error)
  if (!code) return error
  if (code.startsWith('SQLITE_FULL'))
    return new ParkdError('STORAGE_FULL', undefined, { cause: error })
  if (code.startsWith('SQLITE_READONLY')) {
    return new ParkdError('STORAGE_READ_ONLY', undefined, { cause: error })
  }
  if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN')) {
    return new ParkdError('STORAGE_IO_ERROR', undefined, { cause: error })
  }
  return error
}

/** Runs `work` and rethrows engine errors as registry errors. */
export function withTranslatedErrors<T>(work: () => T): T {
  try {
    return work()
  } catch (error) {
    throw translateSqliteError(error)
  }
}
