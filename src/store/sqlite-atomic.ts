/**
 * The all-or-nothing batch of the SQLite engine: one transaction, on a connection of its
 * own, open for as long as the upload lasts.
 *
 * How it stays atomic without blocking readers or filling memory:
 * - The engine first holds its write queue (WriteQueue.hold), so its own connection
 *   starts no write while the batch is open; writes queued meanwhile run after it.
 * - This connection then takes SQLite's write lock with BEGIN IMMEDIATE. In WAL mode
 *   that does not stop readers: the main connection keeps answering from the last
 *   committed state, and sees the batch only once it commits.
 * - Records are written as they arrive. Changed pages stay in this connection's page
 *   cache until it is full, then SQLite spills them into the WAL as frames that no
 *   reader sees until COMMIT (or that ROLLBACK discards), so memory stays at the cache
 *   size. The WAL file itself grows with the batch.
 */
import type Database from 'better-sqlite3'
import { ParkdError } from '../errors.js'
import { translateSqliteError } from './sqlite-errors.js'
import type { BatchOp, BatchWriter } from './types.js'

export type AtomicBatchParts = {
  /** A connection with its transaction begun (BEGIN IMMEDIATE); closed at the end. */
  connection: Database.Database
  /** Writes records on `connection`; throws on an engine error. */
  apply: (ops: readonly BatchOp[]) => void
  /** Gives the engine's write queue back. */
  release: () => void
}

function rolledBack(): ParkdError {
  return new ParkdError('STORAGE_IO_ERROR', 'the database rolled the batch back')
}

export function atomicBatchWriter(parts: AtomicBatchParts): BatchWriter {
  const { connection, apply, release } = parts
  let failure: unknown
  let ended = false

  const end = (sql: 'COMMIT' | 'ROLLBACK') => {
    if (ended) return
    ended = true
    try {
      if (connection.inTransaction) connection.exec(sql)
    } catch (error) {
      throw translateSqliteError(error)
    } finally {
      connection.close()
      release()
    }
  }

  // SQLite ends a transaction by itself after some errors (a full disk, an I/O error).
  // A write after that would commit on its own, so the batch is then over for good.
  const assertOpen = () => {
    if (ended) throw new Error('the batch has already ended')
    if (failure === undefined && !connection.inTransaction) failure = rolledBack()
    if (failure !== undefined) throw failure
  }

  return {
    write: async (ops) => {
      assertOpen()
      try {
        apply(ops)
      } catch (error) {
        failure = translateSqliteError(error)
        throw failure
      }
    },
    commit: async () => {
      try {
        assertOpen()
      } catch (error) {
        end('ROLLBACK')
        throw error
      }
      end('COMMIT')
    },
    abort: async () => end('ROLLBACK'),
  }
}
