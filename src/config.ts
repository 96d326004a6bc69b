/**
 * Configuration: defaults in one object, each setting from a flag or an environment
 * variable (the flag wins), every value checked with a message that names it.
 */
import { parseArgs } from 'node:util'
import type { SyncMode } from './store/sqlite-schema.js'

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'

export type Config = {
  db: string
  host: string
  port: number
  token: string | undefined
  maxKeyBytes: number
  maxValueBytes: number
  sync: SyncMode
  logLevel: LogLevel
  /** Log one line per request (at info); off by default because it halves throughput. */
  accessLog: boolean
}

export const DEFAULTS: Config = {
  db: './park.db',
  host: '127.0.0.1',
  port: 8080,
  token: undefined,
  maxKeyBytes: 2048,
  maxValueBytes: 64 * 1024 * 1024,
  sync: 'normal',
  logLevel: 'info',
  accessLog: false,
}

/**
 * Limits of the HTTP server against slow or greedy clients. There is no limit on the
 * total time of a request: a batch upload or a listing may stream for hours. Instead a
 * connection must send its headers in time and must not sit idle, and the number of
 * open connections is capped, so a slowloris client cannot pin sockets or memory.
 */
export const SERVER_LIMITS: {
  headersTimeoutMs: number
  idleTimeoutMs: number
  keepAliveTimeoutMs: number
  maxHeaderBytes: number
  maxConnections: number
  checkIntervalMs: number
} = {
  /** Time for a request's headers to arrive (Node's headersTimeout). */
  headersTimeoutMs: 10_000,
  /** A connection with no bytes moving either way for this long is closed. */
  idleTimeoutMs: 60_000,
  /** How long an idle keep-alive connection is kept for the next request. */
  keepAliveTimeoutMs: 5_000,
  /** Size of all request headers together; larger ones get Node's 431. */
  maxHeaderBytes: 16 * 1024,
  /** Connections past this are refused at accept time. */
  maxConnections: 1024,
  /** How often Node looks for connections past their headers timeout. */
  checkIntervalMs: 1_000,
}

export type ServerLimits = typeof SERVER_LIMITS

const LOG_LEVELS: readonly LogLevel[] = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
]

type Setting = { flag: string; env: string; help: string; boolean?: true }

const SETTINGS: Record<keyof Config, Setting> = {
  db: { flag: 'db', env: 'PARKD_DB', help: 'path of the SQLite database file' },
  host: { flag: 'host', env: 'PARKD_HOST', help: 'address to listen on' },
  port: { flag: 'port', env: 'PARKD_PORT', help: 'port to listen on (0 picks a free one)' },
  token: { flag: 'token', env: 'PARKD_TOKEN', help: 'require Authorization: Bearer <token>' },
  maxKeyBytes: { flag: 'max-key-bytes', env: 'PARKD_MAX_KEY_BYTES', help: 'longest key' },
  maxValueBytes: {
    flag: 'max-value-bytes',
    env: 'PARKD_MAX_VALUE_BYTES',
    help: 'largest value',
  },
  sync: { flag: 'sync', env: 'PARKD_SYNC', help: 'normal (WAL) or full (fsync every commit)' },
  logLevel: {
    flag: 'log-level',
    env: 'PARKD_LOG_LEVEL',
    help: 'fatal, error, warn, info, debug, trace or silent',
  },
  accessLog: {
    flag: 'access-log',
    env: 'PARKD_ACCESS_LOG',
    help: 'log every request (flag, or env 1/true)',
    boolean: true,
  },
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

export type CommandLine =
  { action: 'serve'; config: Config } | { action: 'help' } | { action: 'version' }

function integer(name: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text)) throw new ConfigError(`${name} must be a whole number, got '${text}'`)
  const value = Number(text)
  if (value < min || value > max) {
    throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`)
  }
  return value
}

function oneOf<T extends string>(name: string, text: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(text)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got '${text}'`)
  }
  return text as T
}

function flagValue(name: string, text: string): boolean {
  if (['1', 'true', ''].includes(text)) return true
  if (['0', 'false'].includes(text)) return false
  throw new ConfigError(`${name} must be true or false, got '${text}'`)
}

/** Reads flags (`argv` without node and the script) and `env` into a command. */
export function parseCommandLine(argv: string[], env: NodeJS.ProcessEnv): CommandLine {
  const options = Object.fromEntries(
    Object.values(SETTINGS).map((s) => [s.flag, { type: s.boolean ? 'boolean' : 'string' }]),
  ) as Record<string, { type: 'string' | 'boolean' }>

  let values: Record<string, string | boolean | undefined>
  try {
    ;({ values } = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean' }, version: { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    }))
  } catch (error) {
    throw new ConfigError((error as Error).message)
  }
  if (values.help) return { action: 'help' }
  if (values.version) return { action: 'version' }

  const raw = (key: keyof Config): string | boolean | undefined => {
    const setting = SETTINGS[key]
    return values[setting.flag] ?? env[setting.env]
  }
  const text = (key: keyof Config): string | undefined => {
    const value = raw(key)
    return typeof value === 'boolean' ? String(value) : value
  }
  const label = (key: keyof Config) => `--${SETTINGS[key].flag}`

  const config: Config = { ...DEFAULTS }
  config.db = text('db') ?? DEFAULTS.db
  if (config.db === '') throw new ConfigError('--db must not be empty')
  config.host = text('host') ?? DEFAULTS.host
  config.token = text('token') || undefined

  const port = text('port')
  if (port !== undefined) config.port = integer(label('port'), port, 0, 65535)
  const maxKey = text('maxKeyBytes')
  if (maxKey !== undefined) config.maxKeyBytes = integer(label('maxKeyBytes'), maxKey, 1, 65536)
  const maxValue = text('maxValueBytes')
  if (maxValue !== undefined) {
    config.maxValueBytes = integer(label('maxValueBytes'), maxValue, 0, 1024 * 1024 * 1024)
  }
  const sync = text('sync')
  if (sync !== undefined) config.sync = oneOf(label('sync'), sync, ['normal', 'full'] as const)
  const level = text('logLevel')
  if (level !== undefined) config.logLevel = oneOf(label('logLevel'), level, LOG_LEVELS)
  const access = text('accessLog')
  if (access !== undefined) config.accessLog = flagValue(label('accessLog'), access)

  return { action: 'serve', config }
}

export function helpText(): string {
  const rows = (Object.keys(SETTINGS) as Array<keyof Config>).map((key) => {
    const setting = SETTINGS[key]
    const flag = setting.boolean ? `--${setting.flag}` : `--${setting.flag} <value>`
    const fallback = DEFAULTS[key] === undefined ? '' : ` (default: ${DEFAULTS[key]})`
    return `  ${flag.padEnd(26)} ${setting.env.padEnd(22)} ${setting.help}${fallback}`
  })
  return [
    'Usage: parkd [options]',
    '',
    'A persistent key-value store over HTTP with ordered traversal of keys.',
    '',
    `  ${'flag'.padEnd(26)} ${'environment'.padEnd(22)} meaning`,
    ...rows,
    `  ${'--help'.padEnd(26)} ${''.padEnd(22)} print this text`,
    `  ${'--version'.padEnd(26)} ${''.padEnd(22)} print the version`,
    '',
  ].join('\n')
}

/** True for addresses only this machine can reach; anything else wants a token. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.')
}
