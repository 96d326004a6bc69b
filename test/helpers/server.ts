/**
 * Starts a real parkd (buildApp over a SqliteStore) on 127.0.0.1, port 0, with a
 * temporary database, and removes everything again on close.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import type { DestinationStream } from 'pino'
import { buildApp } from '../../src/app.js'
import { DEFAULTS, type Config, type ServerLimits } from '../../src/config.js'
import { createLogger } from '../../src/logger.js'
import { SqliteStore, type SqliteStoreOptions } from '../../src/store/sqlite.js'

export type TestServer = {
  url: string
  app: FastifyInstance
  store: SqliteStore
  dir: string
  dbPath: string
  /** Stops the server and the store; the database file stays until `close`. */
  stop(): Promise<void>
  /** Stops (if still running) and deletes the temporary directory. */
  close(): Promise<void>
}

export function tempDir(prefix = 'parkd-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix))
}

export type StartOptions = {
  /** A directory to reuse (to restart on the same file); a new one by default. */
  dir?: string
  storeOptions?: Partial<SqliteStoreOptions>
  limits?: Partial<ServerLimits>
  /** Receives the log lines (set `logLevel` in the overrides to see any). */
  logTo?: DestinationStream
}

export async function startServer(
  overrides: Partial<Config> = {},
  options: StartOptions = {},
): Promise<TestServer> {
  const dir = options.dir ?? tempDir()
  const config: Config = { ...DEFAULTS, logLevel: 'silent', ...overrides }
  const dbPath = overrides.db ?? path.join(dir, 'park.db')
  const store = SqliteStore.open({ path: dbPath, sync: config.sync, ...options.storeOptions })
  const logger = createLogger(config, options.logTo)
  const app = await buildApp({ store, config, logger, limits: options.limits })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo

  let running = true
  const stop = async () => {
    if (!running) return
    running = false
    await app.close()
    await store.close()
  }
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    store,
    dir,
    dbPath,
    stop,
    close: async () => {
      await stop()
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}
