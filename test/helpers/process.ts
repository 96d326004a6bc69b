/**
 * The built parkd (dist/main.js) as a child process, for tests that need a real
 * process: exit codes, signals, kill -9. npm test builds dist/ first.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'

export const MAIN = path.resolve('dist/main.js')

export type RunningServer = {
  child: ChildProcess
  url: string
  /** The JSON log lines printed so far. */
  lines: () => Array<Record<string, unknown>>
  /** Everything printed so far, stdout and stderr. */
  output: () => string
  exited: Promise<number | null>
}

const running = new Set<ChildProcess>()

/** Kills every server this module started that is still running. */
export function killAll(): void {
  for (const child of running) child.kill('SIGKILL')
  running.clear()
}

/** Starts parkd on port 0 and resolves once it logs that it listens. */
export function startProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunningServer> {
  const child = spawn(process.execPath, [MAIN, '--port', '0', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  running.add(child)
  let text = ''
  const lines = () =>
    text
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      running.delete(child)
      resolve(code)
    }),
  )

  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (data: Buffer) => {
      text += data.toString()
      const listening = lines().find((line) => line.msg === 'parkd listening')
      if (listening) {
        resolve({ child, url: listening.url as string, lines, output: () => text, exited })
      }
    })
    child.stderr?.on('data', (data: Buffer) => (text += data.toString()))
    void exited.then((code) => reject(new Error(`parkd exited with ${code}: ${text}`)))
  })
}
