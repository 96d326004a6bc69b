/**
 * The container image without a Docker engine: docker/Dockerfile is parsed, checked for
 * what it promises, then replayed on the host (build stage, runtime stage, the image's
 * command, health check and stop signal), and docker/compose.yaml is checked for the
 * sidecar wiring. The replay runs a real `npm ci`, so it has minutes, not seconds.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import YAML from 'yaml'
import { commandOf, parseDockerfile } from './helpers/dockerfile.js'
import {
  buildContext,
  hostPath,
  replayStage,
  runCommand,
  startCommand,
  type Started,
} from './helpers/docker-replay.js'
import { call } from './helpers/http.js'
import { freePort } from './helpers/ports.js'
import { tempDir } from './helpers/server.js'

const REPO = path.resolve('.')
const DOCKER = path.join(REPO, 'docker')
const REPLAY_TIMEOUT_MS = 5 * 60_000
/** The runtime stage's only RUN: the volume's directory, owned by the image's user. */
const DATA_DIR_RUN = /^install -d -o (\S+) -g (\S+) -m 0?700 (\/\S+)$/

type Service = {
  build?: { context: string; dockerfile: string }
  env_file?: string | string[]
  environment?: Record<string, string>
  volumes?: string[]
  network_mode?: string
  ports?: unknown
  depends_on?: Record<string, { condition: string }>
  command?: string[]
  stop_grace_period?: string
}
type Compose = { services: Record<string, Service>; volumes?: Record<string, unknown> }

const read = (file: string) => fs.readFileSync(path.join(REPO, file), 'utf8')
const stages = parseDockerfile(read('docker/Dockerfile'))
const build = stages.find((stage) => stage.name === 'build')!
const runtime = stages.at(-1)!
const compose = YAML.parse(read('docker/compose.yaml')) as Compose
const parkd = compose.services.parkd!
const app = compose.services.app!

/** KEY=value lines, as compose reads an env_file written this plainly. */
function envFile(file: string): Record<string, string> {
  const lines = read(file).split('\n')
  const pairs = lines.filter((line) => /^[A-Za-z_]\w*=/.test(line))
  return Object.fromEntries(pairs.map((line) => line.split(/=(.*)/s).slice(0, 2)))
}

const asList = (value: string | string[] | undefined) => [value ?? []].flat()

describe('docker/Dockerfile', () => {
  it('builds on node:20-bookworm and runs on a slim Node 20 image', () => {
    expect(stages.map((stage) => stage.name)).toEqual(['build', 'runtime'])
    expect(build.base).toBe('node:20-bookworm')
    expect(runtime.base).toMatch(/^node:20(\.\d+){0,2}-(bookworm-)?slim(@sha256:[0-9a-f]{64})?$/)
  })

  it('runs as a non-root user that owns the /data volume it keeps the database on', () => {
    const [uid, gid = uid] = (runtime.user ?? 'root').split(':')
    expect(['root', '0']).not.toContain(uid)
    expect(runtime.volumes).toEqual(['/data'])
    expect(runtime.env.PARKD_DB).toMatch(/^\/data\/[^/]+$/)

    const runs = runtime.steps.filter((step) => step.kind === 'run')
    expect(runs).toHaveLength(1)
    expect(runs[0]?.script).toMatch(DATA_DIR_RUN)
    expect(DATA_DIR_RUN.exec(runs[0]!.script)?.slice(1)).toEqual([uid, gid, '/data'])
  })

  it('listens on all interfaces on port 8080, the port it exposes', () => {
    expect(runtime.env.PARKD_HOST).toBe('0.0.0.0')
    expect(runtime.env.PARKD_PORT).toBe('8080')
    expect(runtime.expose).toEqual(['8080'])
  })

  it('starts node on dist/main.js in exec form, never through npm or a shell', () => {
    expect(commandOf(runtime)).toEqual(['node', 'dist/main.js'])
    expect(runtime.workdir).toBe('/app')
  })

  it('checks health with node on /healthz, since slim images have no curl', () => {
    const command = runtime.healthcheck?.command ?? []
    expect(command.slice(0, 2)).toEqual(['node', '-e'])
    expect(command[2]).toContain('/healthz')
    expect(runtime.healthcheck?.options.timeout).toBeDefined()
  })
})

describe('the Dockerfile parser', () => {
  it.each([
    ['an instruction it does not replay', 'FROM node:20\nADD . /app'],
    ['a build argument', 'FROM node:20\nARG VERSION=20'],
    ['a shell-form CMD, which keeps SIGTERM from node', 'FROM node:20\nCMD node dist/main.js'],
    ['the legacy ENV form', 'FROM node:20\nENV PARKD_PORT 8080'],
    ['a COPY flag it does not replay', 'FROM node:20\nCOPY --chown=node src ./src'],
    ['variable substitution', 'FROM node:20\nWORKDIR $HOME'],
    ['an instruction before FROM', 'RUN true'],
  ])('refuses %s', (_what, text) => {
    expect(() => parseDockerfile(text)).toThrow(/^Dockerfile line \d+: /)
  })

  it('joins continued lines and skips comments within them', () => {
    const [stage] = parseDockerfile('FROM node:20\nRUN echo a \\\n  # note\n  && echo b\n')
    expect(stage?.steps).toEqual([{ kind: 'run', script: 'echo a && echo b' }])
  })
})

describe('docker/compose.yaml', () => {
  it('builds parkd from docker/Dockerfile with the repository root as context', () => {
    expect(path.resolve(DOCKER, parkd.build?.context ?? '')).toBe(REPO)
    expect(parkd.build?.dockerfile).toBe('docker/Dockerfile')
  })

  it("runs the app in parkd's network namespace once parkd is healthy", () => {
    expect(app.network_mode).toBe('service:parkd')
    expect(app.ports).toBeUndefined()
    expect(app.depends_on?.parkd?.condition).toBe('service_healthy')
    expect(runtime.healthcheck).toBeDefined()

    const port = parkd.environment?.PARKD_PORT ?? runtime.env.PARKD_PORT
    expect(app.environment?.PARKD_URL).toBe(`http://127.0.0.1:${port}`)
  })

  it('gives both the token from an env file that git and the build context leave out', () => {
    expect(asList(parkd.env_file)).toEqual(['parkd.env'])
    expect(asList(app.env_file)).toEqual(['parkd.env'])
    expect(envFile('docker/parkd.env.example').PARKD_TOKEN).toMatch(/.{16}/)

    const ignored = (file: string) =>
      spawnSync('git', ['check-ignore', '-q', file], { cwd: REPO }).status === 0
    expect(ignored('docker/parkd.env')).toBe(true)
    expect(ignored('docker/parkd.env.example')).toBe(false)
    expect(read('.dockerignore').split('\n')).toContain('docker/parkd.env')
  })

  it('keeps /data on a named volume and gives the graceful stop its 10 seconds', () => {
    const named = asList(parkd.volumes).map((volume) => volume.split(':'))
    const data = named.find(([, target]) => target === '/data')
    expect(Object.keys(compose.volumes ?? {})).toContain(data?.[0])
    expect(Number.parseInt(parkd.stop_grace_period ?? '0')).toBeGreaterThan(10)
  })
})

/** The example app's command with its bind mount's container paths made host paths. */
function appCommand(): string[] {
  const [source, target] = asList(app.volumes)[0]?.split(':') ?? []
  const host = path.resolve(DOCKER, source!)
  return (app.command ?? []).map((arg) => arg.replace(new RegExp(`^${target}/`), `${host}/`))
}

/** Stands for the runtime stage's RUN, which names /data: the same directory, under root. */
function makeDataDir(script: string, root: string): void {
  const match = DATA_DIR_RUN.exec(script)
  if (!match) throw new Error(`the runtime stage's RUN is not replayed: ${script}`)
  fs.mkdirSync(hostPath(root, match[3]!), { mode: 0o700 })
}

describe('the image replayed on the host', () => {
  const token = envFile('docker/parkd.env.example').PARKD_TOKEN!
  let dir: string
  let workdir: string
  let env: NodeJS.ProcessEnv
  let server: Started

  beforeAll(async () => {
    dir = tempDir('parkd-docker-')
    const runtimeRoot = path.join(dir, 'runtime')
    workdir = hostPath(runtimeRoot, runtime.workdir)
    const context = buildContext(REPO)
    const roots = new Map<string, string>()
    const runEnv = { npm_config_prefer_offline: 'true' }
    await replayStage(build, path.join(dir, 'build'), { context, roots, runEnv })
    await replayStage(runtime, runtimeRoot, { context, roots, onRun: makeDataDir })

    // As in the container, plus the env file; loopback only, and a port of its own.
    env = { PATH: process.env.PATH, ...runtime.env, ...envFile('docker/parkd.env.example') }
    env.PARKD_DB = hostPath(runtimeRoot, runtime.env.PARKD_DB!)
    env.PARKD_HOST = '127.0.0.1'
    env.PARKD_PORT = String(await freePort())
    server = await startCommand(commandOf(runtime), workdir, env)
  }, REPLAY_TIMEOUT_MS)

  afterAll(() => {
    server?.child.kill('SIGKILL')
    if (dir) fs.rmSync(dir, { recursive: true, force: true })
  })

  const healthcheck = () => runCommand(runtime.healthcheck!.command, workdir, env)
  const auth = { authorization: `Bearer ${token}` }

  it('holds only package.json, node_modules, dist and openapi.yaml in the runtime stage', () => {
    expect(fs.readdirSync(workdir).sort()).toEqual([
      'dist',
      'node_modules',
      'openapi.yaml',
      'package.json',
    ])
    expect(fs.existsSync(path.join(workdir, 'dist/main.js'))).toBe(true)
  })

  it('leaves no dev dependency in the runtime node_modules', () => {
    const lock = JSON.parse(read('package-lock.json')) as {
      packages: Record<string, { dev?: boolean }>
    }
    const devOnly = Object.entries(lock.packages).filter(([, entry]) => entry.dev)
    expect(devOnly.map(([name]) => name)).toContain('node_modules/vitest')
    const left = devOnly.filter(([name]) => fs.existsSync(path.join(workdir, name)))
    expect(left.map(([name]) => name)).toEqual([])
    expect(fs.existsSync(path.join(workdir, 'node_modules/vitest'))).toBe(false)

    const { dependencies } = JSON.parse(read('package.json')) as { dependencies: object }
    for (const name of Object.keys(dependencies)) {
      expect(fs.existsSync(path.join(workdir, 'node_modules', name))).toBe(true)
    }
  })

  it("listens with the image's environment and database, and passes its health check", async () => {
    const listening = server.lines().find((line) => line.msg === 'parkd listening')
    expect(listening?.url).toBe(`http://127.0.0.1:${env.PARKD_PORT}`)
    expect(listening?.db).toBe(env.PARKD_DB)
    expect(fs.existsSync(env.PARKD_DB!)).toBe(true)

    const health = await healthcheck()
    expect(health).toEqual({ code: 0, output: '' })
  })

  it('stores a PUT and answers the GET with the token from the env file, 401 without', async () => {
    const put = await call(server.url, 'PUT', '/kv/pet/cat', { body: 'Felis catus', headers: auth })
    expect(put.status).toBe(201)

    const got = await call(server.url, 'GET', '/kv/pet/cat', { headers: auth })
    expect(got.status).toBe(200)
    expect(got.body.toString()).toBe('Felis catus')

    const refused = await call(server.url, 'GET', '/kv/pet/cat')
    expect(refused.status).toBe(401)
  })

  it("serves the image's copy of openapi.yaml", async () => {
    const answer = await call(server.url, 'GET', '/openapi.yaml', { headers: auth })
    expect(answer.status).toBe(200)
    const copy = fs.readFileSync(path.join(workdir, 'openapi.yaml'), 'utf8')
    expect(copy).toMatch(/^openapi: 3/)
    expect(answer.body.toString()).toBe(copy)
  })

  it('runs the example application of compose.yaml against it', async () => {
    const appEnv = { PATH: process.env.PATH, ...envFile('docker/parkd.env.example') }
    const result = await runCommand(appCommand(), DOCKER, { ...appEnv, PARKD_URL: server.url })
    expect(result.output).toMatch(/runs so far: 1\n$/)
    expect(result.code).toBe(0)
  })

  it('stops with exit code 0 on SIGTERM, after which the health check fails', async () => {
    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
    expect(server.lines().map((line) => line.msg)).toContain('stopped')

    const health = await healthcheck()
    expect(health.code).toBe(1)
  })
})
