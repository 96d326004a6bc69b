/**
 * Replays parkd's Dockerfile on a host without a Docker engine. Each stage gets a
 * temporary directory standing for its root filesystem (`/app` in the image is
 * `<root>/app` here); COPY takes from the build context or from an earlier stage's
 * root, RUN runs with `sh -c` in the stage's WORKDIR and environment.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import type { CopyStep, Stage } from './dockerfile.js'

export type BuildContext = { dir: string; files: string[] }

export type ReplayOptions = {
  context: BuildContext
  /** Roots of the stages replayed so far, by stage name, for COPY --from. */
  roots: Map<string, string>
  /** Added to every RUN's environment, after the stage's own ENV. */
  runEnv?: NodeJS.ProcessEnv
  /** Replaces RUN for stages whose commands cannot run on the host as they are. */
  onRun?: (script: string, root: string) => void
}

/**
 * The files `docker build` would see in a work tree: tracked and new files, without
 * what git ignores (node_modules, dist, databases) and without deleted ones.
 */
export function buildContext(dir: string): BuildContext {
  const args = ['ls-files', '-z', '--cached', '--others', '--exclude-standard']
  const listed = execFileSync('git', args, { cwd: dir, encoding: 'utf8' })
  const files = [...new Set(listed.split('\0'))].filter(
    (file) => file !== '' && fs.existsSync(path.join(dir, file)),
  )
  return { dir, files }
}

/** The host path that stands for `containerPath` in a stage replayed under `root`. */
export function hostPath(root: string, containerPath: string): string {
  return path.join(root, path.posix.resolve('/', containerPath))
}

/** Replays one stage's WORKDIR, ENV, COPY and RUN steps in order under `root`. */
export async function replayStage(
  stage: Stage,
  root: string,
  options: ReplayOptions,
): Promise<void> {
  let workdir = '/'
  let env: Record<string, string> = {}
  for (const step of stage.steps) {
    switch (step.kind) {
      case 'workdir':
        workdir = step.path
        fs.mkdirSync(hostPath(root, workdir), { recursive: true })
        break
      case 'env':
        env = { ...env, ...step.vars }
        break
      case 'copy':
        copy(step, path.posix.resolve(workdir, step.dest), root, options)
        break
      case 'run':
        if (options.onRun) options.onRun(step.script, root)
        else await run(step.script, hostPath(root, workdir), { ...env, ...options.runEnv })
    }
  }
  if (stage.name) options.roots.set(stage.name, root)
}

function copy(step: CopyStep, dest: string, root: string, options: ReplayOptions): void {
  const intoDirectory = step.dest.endsWith('/') || step.dest === '.' || step.sources.length > 1
  for (const source of step.sources) {
    const pairs = step.from
      ? fromStage(step.from, source, options.roots)
      : fromContext(source, options.context)
    for (const { from, relative } of pairs) {
      // A file copied into a directory keeps its name; a directory gives its contents.
      const named = relative === '' && intoDirectory && fs.statSync(from).isFile()
      const target = named ? path.posix.join(dest, path.basename(from)) : dest
      const to = hostPath(root, path.posix.join(target, relative))
      fs.mkdirSync(path.dirname(to), { recursive: true })
      fs.cpSync(from, to, { recursive: true, verbatimSymlinks: true })
    }
  }
}

type CopyPair = { from: string; relative: string }

/** A context source is a file or a directory; a directory is copied file by file. */
function fromContext(source: string, context: BuildContext): CopyPair[] {
  const name = path.posix.normalize(source).replace(/\/$/, '')
  if (context.files.includes(name)) return [{ from: path.join(context.dir, name), relative: '' }]

  const prefix = name === '.' ? '' : `${name}/`
  const inside = context.files.filter((file) => file.startsWith(prefix))
  if (inside.length === 0) throw new Error(`COPY ${source}: not in the build context`)
  return inside.map((file) => ({
    from: path.join(context.dir, file),
    relative: file.slice(prefix.length),
  }))
}

function fromStage(name: string, source: string, roots: Map<string, string>): CopyPair[] {
  const stageRoot = roots.get(name)
  if (!stageRoot) throw new Error(`COPY --from=${name}: no such stage replayed before`)
  const from = hostPath(stageRoot, source)
  if (!fs.existsSync(from)) throw new Error(`COPY --from=${name} ${source}: not in that stage`)
  return [{ from, relative: '' }]
}

/**
 * The host's environment without what describes the test run itself: NODE_ENV=test
 * or npm's lifecycle variables would change what `npm ci` installs or where it looks.
 */
function hostEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) {
    const run = /^(NODE_ENV|INIT_CWD|VITEST.*|npm_(package|lifecycle|command|execpath).*)$/
    if (!run.test(name) && name !== 'npm_config_local_prefix') env[name] = value
  }
  return env
}

/** Runs a shell script as RUN does, failing with the tail of its output. */
async function run(script: string, cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  const { code, output } = await runCommand(['sh', '-c', script], cwd, { ...hostEnv(), ...env })
  if (code !== 0) throw new Error(`RUN ${script} failed with ${code}:\n${output.slice(-4000)}`)
}

export type Started = {
  child: ChildProcess
  /** The URL of the server's "parkd listening" log line. */
  url: string
  /** Its whole JSON log lines so far. */
  lines: () => Array<Record<string, unknown>>
  /** The exit code, once the process has exited and its output is read. */
  exited: Promise<number | null>
}

/** Starts an image's command (`node` is this process's node) and waits for it to listen. */
export function startCommand(
  command: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<Started> {
  const [file, ...args] = command
  const child = spawn(executable(file!), args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  // The last piece may be a line still arriving: only whole lines are parsed.
  const lines = () =>
    output
      .split('\n')
      .slice(0, -1)
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve))

  return new Promise((resolve, reject) => {
    child.stdout.on('data', (data: Buffer) => {
      output += data.toString()
      const listening = lines().find((line) => line.msg === 'parkd listening')
      if (listening) resolve({ child, url: listening.url as string, lines, exited })
    })
    child.stderr.on('data', (data: Buffer) => (output += data.toString()))
    void exited.then((code) =>
      reject(new Error(`${command.join(' ')} exited with ${code}: ${output}`)),
    )
  })
}

/** Runs a command such as the HEALTHCHECK to its end: its exit code and output. */
export function runCommand(
  command: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; output: string }> {
  const [file, ...args] = command
  const child = spawn(executable(file!), args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (data: Buffer) => (output += data.toString()))
  child.stderr.on('data', (data: Buffer) => (output += data.toString()))
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, output }))
  })
}

function executable(file: string): string {
  return file === 'node' ? process.execPath : file
}
