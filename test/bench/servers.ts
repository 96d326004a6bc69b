/**
 * The servers a benchmark measures, each a child process on the server core: parkd as
 * users run it (the built dist/main.js, default configuration, default logging) and the
 * bare Fastify route of the HTTP ceiling.
 */
import type { ChildProcess } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { SERVER_CORE, spawnPinned, stopChild, waitForLine } from './proc.js'

export type BenchServer = { url: string; child: ChildProcess; stop: () => Promise<void> }

const MAIN = path.resolve('dist/main.js')
const TSX = path.resolve('node_modules/tsx/dist/cli.mjs')
const BARE = fileURLToPath(new URL('./bare-server.ts', import.meta.url))

async function started(child: ChildProcess, urlOf: (line: string) => string | undefined) {
  const line = await waitForLine(child, (text) => urlOf(text) !== undefined)
  return { url: urlOf(line) as string, child, stop: () => stopChild(child) }
}

export function startParkd(db: string, sync: 'normal' | 'full' = 'normal'): Promise<BenchServer> {
  const args = [MAIN, '--db', db, '--port', '0', '--sync', sync]
  const child = spawnPinned(SERVER_CORE, process.execPath, args)
  return started(child, (line) => {
    if (!line.includes('parkd listening')) return undefined
    return (JSON.parse(line) as { url: string }).url
  })
}

export function startBareServer(): Promise<BenchServer> {
  const child = spawnPinned(SERVER_CORE, process.execPath, [TSX, BARE])
  return started(child, (line) => /^listening (\S+)/.exec(line)?.[1])
}
