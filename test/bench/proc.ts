/**
 * Child processes of the benchmark: each one pinned to a core of its own when the
 * machine has two or more and `taskset` exists, so that the server under test and the
 * load generator do not steal each other's time. Memory is read from /proc.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/** The core the servers run on, and the one the load generators and clients run on. */
export const SERVER_CORE = 0
export const CLIENT_CORE = 1

const canPin = os.availableParallelism() >= 2 && hasCommand('taskset')

/** Whether `name` is a command on this machine's PATH. */
export function hasCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

export function pinningNote(): string {
  return canPin
    ? `servers on core ${SERVER_CORE}, load generators and clients on core ${CLIENT_CORE}`
    : 'not pinned (one core, or no taskset)'
}

/** Moves this process (every thread of it) to the client core. */
export function pinSelf(): void {
  if (!canPin) return
  execFileSync('taskset', ['-a', '-p', '-c', String(CLIENT_CORE), String(process.pid)], {
    stdio: 'ignore',
  })
}

/**
 * Spawns `command args` on `core`, with stdout piped; stderr is shown unless `quiet`
 * (peers that chatter there).
 */
export function spawnPinned(
  core: number,
  command: string,
  args: string[],
  quiet = false,
): ChildProcess {
  const [file, argv] = canPin
    ? ['taskset', ['-c', String(core), command, ...args]]
    : [command, args]
  return spawn(file, argv, { stdio: ['ignore', 'pipe', quiet ? 'ignore' : 'inherit'] })
}

/** Resolves with the first stdout line that `match` accepts; rejects if the child exits. */
export function waitForLine(
  child: ChildProcess,
  match: (line: string) => boolean,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = ''
    const onData = (data: Buffer) => {
      text += data.toString()
      const line = text.split('\n').find(match)
      if (line === undefined) return
      child.stdout?.off('data', onData)
      resolve(line)
    }
    child.stdout?.on('data', onData)
    child.once('exit', (code) => reject(new Error(`child exited with ${code} before: ${text}`)))
  })
}

/** Runs a child to its end and answers its whole stdout. */
export async function runToEnd(child: ChildProcess): Promise<string> {
  let text = ''
  child.stdout?.on('data', (data: Buffer) => (text += data.toString()))
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  if (code !== 0) throw new Error(`child exited with ${code}: ${text}`)
  return text
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  await exited
}

function statusField(pid: number, field: string): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  const line = status.split('\n').find((l) => l.startsWith(`${field}:`))
  return line === undefined ? 0 : Number(line.split(/\s+/)[1]) * 1024
}

/**
 * The peak resident memory of a process over a phase. Linux keeps the peak (VmHWM)
 * and lets its owner reset it, which catches spikes a sampler would miss; a sampler
 * every 20 ms backs it up where the reset is refused.
 */
export class PeakRss {
  readonly #pid: number
  #sampled = 0
  #timer: NodeJS.Timeout | undefined
  #resettable = true

  constructor(pid: number) {
    this.#pid = pid
  }

  start(): void {
    try {
      fs.writeFileSync(`/proc/${this.#pid}/clear_refs`, '5')
    } catch {
      this.#resettable = false
    }
    this.#sampled = statusField(this.#pid, 'VmRSS')
    this.#timer = setInterval(() => {
      this.#sampled = Math.max(this.#sampled, statusField(this.#pid, 'VmRSS'))
    }, 20)
  }

  /** Stops sampling and answers the peak in bytes. */
  stop(): number {
    clearInterval(this.#timer)
    const sampled = Math.max(this.#sampled, statusField(this.#pid, 'VmRSS'))
    return this.#resettable ? Math.max(sampled, statusField(this.#pid, 'VmHWM')) : sampled
  }
}

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'parkd-bench-'))
}
