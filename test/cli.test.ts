/**
 * The built `parkd` command as an operator runs it: flags, exit codes, the listening log
 * line, ownership of the file, and a graceful stop. Runs dist/ (npm test builds first).
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { call } from './helpers/http.js'
import { killAll, MAIN, startProcess } from './helpers/process.js'
import { tempDir } from './helpers/server.js'

const dirs: string[] = []
const start = startProcess

afterEach(() => {
  killAll()
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

function workDir(): string {
  const dir = tempDir('parkd-cli-')
  dirs.push(dir)
  return dir
}

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [MAIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 20_000,
  })
}

describe('the parkd command', () => {
  it('prints help and its version with exit code 0', () => {
    const help = run(['--help'])
    expect(help.status).toBe(0)
    expect(help.stdout).toMatch(/Usage: parkd/)

    const version = run(['--version'])
    expect(version.status).toBe(0)
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/)
  })

  it.each([
    [['--port', 'abc'], {}],
    [['--sync', 'sometimes'], {}],
    [[], { PARKD_PORT: '-1' }],
    [['--no-such-flag'], {}],
  ])('exits 2 with a clear message for bad settings %j %j', (args, env) => {
    const result = run(args, env)
    expect(result.status).toBe(2)
    expect(result.stderr).toMatch(/^parkd: .+\nTry 'parkd --help'\.\n$/)
  })

  it('logs one line with the URL and database path when it listens, then serves', async () => {
    const db = path.join(workDir(), 'park.db')
    const server = await start(['--db', db])

    const listening = server.lines().filter((line) => line.msg === 'parkd listening')
    expect(listening).toHaveLength(1)
    expect(listening[0]).toMatchObject({ db })
    expect(server.lines()).toHaveLength(1)

    expect((await call(server.url, 'PUT', '/kv/a', { body: 'v' })).status).toBe(201)
  })

  it('refuses a second server on the same file with exit code 1 and one line', async () => {
    const db = path.join(workDir(), 'park.db')
    await start(['--db', db])

    const second = run(['--db', db, '--port', '0'])
    expect(second.status).toBe(1)
    expect(second.stderr).toBe(`parkd: ${db} is in use by another parkd process\n`)
  })

  it('refuses a foreign SQLite file with exit code 1, leaving it untouched', () => {
    const db = path.join(workDir(), 'other.db')
    const foreign = new Database(db)
    foreign.exec('CREATE TABLE t (x)')
    foreign.close()
    const before = fs.readFileSync(db)

    const result = run(['--db', db, '--port', '0'])
    expect(result.status).toBe(1)
    expect(result.stderr).toMatch(/^parkd: .* is a SQLite database, but not a parkd one\n$/)
    expect(result.stderr).not.toMatch(/\n\s+at /)
    expect(fs.readFileSync(db)).toEqual(before)
  })

  it('stops gracefully on SIGTERM and SIGINT: exit 0, data kept, WAL folded in', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const db = path.join(workDir(), 'park.db')
      const server = await start(['--db', db, '--sync', 'full'])
      await call(server.url, 'PUT', '/kv/kept', { body: signal })

      server.child.kill(signal)
      expect(await server.exited).toBe(0)
      expect(fs.existsSync(`${db}-wal`)).toBe(false)

      const check = new Database(db, { readonly: true })
      const row = check.prepare('SELECT value FROM kv WHERE key = ?').get(Buffer.from('kept'))
      check.close()
      expect((row as { value: Buffer }).value.toString()).toBe(signal)
    }
  })

  it('reads its settings from the environment', async () => {
    const db = path.join(workDir(), 'env.db')
    const server = await start([], { PARKD_DB: db, PARKD_TOKEN: 'tok' })
    expect((await call(server.url, 'GET', '/readyz')).status).toBe(401)
    expect(server.lines()[0]).toMatchObject({ db })
  })

  it('never writes the token to its logs, even with access logs on', async () => {
    const db = path.join(workDir(), 'park.db')
    const server = await start(['--db', db, '--token', 'tok-9f8e7d', '--access-log'])
    const auth = { authorization: 'Bearer tok-9f8e7d' }
    await call(server.url, 'PUT', '/kv/a', { body: 'v', headers: auth })
    await call(server.url, 'GET', '/kv/a', { headers: { authorization: 'Bearer wrong' } })
    await call(server.url, 'GET', '/kv/a?x=1', { headers: auth })

    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(server.lines().some((line) => line.msg === 'request completed')).toBe(true)
    expect(server.output()).not.toContain('tok-9f8e7d')
  })
})
