import { describe, expect, it } from 'vitest'
import { ConfigError, DEFAULTS, helpText, isLoopbackHost, parseCommandLine } from '../src/config.js'

function serve(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const command = parseCommandLine(argv, env)
  if (command.action !== 'serve') throw new Error(`expected serve, got ${command.action}`)
  return command.config
}

describe('parseCommandLine', () => {
  it('uses the documented defaults when nothing is given', () => {
    expect(serve([])).toEqual(DEFAULTS)
    expect(DEFAULTS).toMatchObject({
      db: './park.db',
      host: '127.0.0.1',
      port: 8080,
      maxKeyBytes: 2048,
      maxValueBytes: 67108864,
      sync: 'normal',
      logLevel: 'info',
    })
  })

  it('reads every setting from flags', () => {
    const config = serve([
      '--db=/tmp/x.db',
      '--host',
      '0.0.0.0',
      '--port',
      '0',
      '--token',
      't',
      '--max-key-bytes',
      '10',
      '--max-value-bytes',
      '20',
      '--sync',
      'full',
      '--log-level',
      'warn',
      '--access-log',
    ])
    expect(config).toEqual({
      db: '/tmp/x.db',
      host: '0.0.0.0',
      port: 0,
      token: 't',
      maxKeyBytes: 10,
      maxValueBytes: 20,
      sync: 'full',
      logLevel: 'warn',
      accessLog: true,
    })
  })

  it('reads settings from the environment, and a flag wins over it', () => {
    const env = {
      PARKD_PORT: '9000',
      PARKD_DB: 'env.db',
      PARKD_SYNC: 'full',
      PARKD_ACCESS_LOG: '1',
    }
    expect(serve([], env)).toMatchObject({
      port: 9000,
      db: 'env.db',
      sync: 'full',
      accessLog: true,
    })
    expect(serve(['--port', '9001'], env)).toMatchObject({ port: 9001 })
  })

  it.each([
    [['--port', 'abc'], /--port must be a whole number/],
    [['--port', '70000'], /--port must be between/],
    [['--sync', 'sometimes'], /--sync must be one of normal, full/],
    [['--log-level', 'loud'], /--log-level must be one of/],
    [['--max-key-bytes', '0'], /--max-key-bytes must be between/],
    [['--db', ''], /--db must not be empty/],
    [['--bogus'], /bogus/],
    [['stray'], /stray/],
  ])('refuses %j with a message naming the setting', (argv, message) => {
    expect(() => parseCommandLine(argv, {})).toThrow(ConfigError)
    expect(() => parseCommandLine(argv, {})).toThrow(message)
  })

  it('refuses a bad value from the environment too', () => {
    expect(() => parseCommandLine([], { PARKD_ACCESS_LOG: 'maybe' })).toThrow(/--access-log/)
  })

  it('answers --help and --version without serving', () => {
    expect(parseCommandLine(['--help'], {})).toEqual({ action: 'help' })
    expect(parseCommandLine(['--version'], {})).toEqual({ action: 'version' })
    expect(helpText()).toMatch(/--max-value-bytes/)
    expect(helpText()).toMatch(/PARKD_TOKEN/)
  })
})

describe('isLoopbackHost', () => {
  it.each(['127.0.0.1', '127.1.2.3', 'localhost', '::1'])('calls %s loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(true)
  })
  it.each(['0.0.0.0', '::', '10.0.0.1', 'example.com'])(
    'calls %s reachable from outside',
    (host) => {
      expect(isLoopbackHost(host)).toBe(false)
    },
  )
})
