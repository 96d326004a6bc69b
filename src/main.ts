#!/usr/bin/env node
/**
 * The parkd command: flags and environment -> config, open the store, listen, and stop
 * gracefully on SIGTERM or SIGINT.
 */
import type { FastifyInstance } from 'fastify'
import fs from 'node:fs'
import type { AddressInfo } from 'node:net'
import { buildApp } from './app.js'
import { ConfigError, helpText, isLoopbackHost, parseCommandLine, type Config } from './config.js'
import { StartupError } from './errors.js'
import { createLogger } from './logger.js'
import { SqliteStore } from './store/sqlite.js'

/** How long in-flight requests may run on after a stop signal before they are cut. */
const SHUTDOWN_GRACE_MS = 10_000

function packageVersion(): string {
  const text = fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')
  return (JSON.parse(text) as { version: string }).version
}

async function serve(config: Config): Promise<void> {
  const logger = createLogger(config)
  const store = SqliteStore.open({ path: config.db, sync: config.sync })
  const app = await buildApp({ store, config, logger })

  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'stopping')

    const cut = setTimeout(() => {
      logger.warn({ graceMs: SHUTDOWN_GRACE_MS }, 'cutting requests still running')
      app.server.closeAllConnections()
    }, SHUTDOWN_GRACE_MS)
    cut.unref()

    await app.close()
    clearTimeout(cut)
    await store.close()
    logger.info('stopped')
    process.exit(0)
  }
  process.on('SIGTERM', () => void stop('SIGTERM'))
  process.on('SIGINT', () => void stop('SIGINT'))

  const url = await listen(app, config)
  logger.info({ url, db: config.db, sync: config.sync }, 'parkd listening')
  if (!config.token && !isLoopbackHost(config.host)) {
    logger.warn({ host: config.host }, 'listening beyond loopback without --token')
  }
}

/** Listens on the server directly, so that the only line logged is parkd's own. */
async function listen(app: FastifyInstance, config: Config): Promise<string> {
  await app.ready()
  await new Promise<void>((resolve, reject) => {
    app.server.once('error', reject)
    app.server.listen({ host: config.host, port: config.port }, () => {
      app.server.off('error', reject)
      resolve()
    })
  })
  const address = app.server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return `http://${host}:${address.port}`
}

async function main(argv: string[]): Promise<number | undefined> {
  let command
  try {
    command = parseCommandLine(argv, process.env)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    process.stderr.write(`parkd: ${error.message}\nTry 'parkd --help'.\n`)
    return 2
  }

  if (command.action === 'help') process.stdout.write(helpText())
  if (command.action === 'version') process.stdout.write(`${packageVersion()}\n`)
  if (command.action !== 'serve') return 0

  try {
    await serve(command.config)
    return undefined
  } catch (error) {
    if (!(error instanceof StartupError) && !isListenError(error)) throw error
    process.stderr.write(`parkd: ${(error as Error).message}\n`)
    return 1
  }
}

function isListenError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code
  return code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL'
}

const exitCode = await main(process.argv.slice(2))
if (exitCode !== undefined) process.exit(exitCode)
