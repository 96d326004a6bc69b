/** A destination for a test server's pino logs that keeps every line, parsed. */
import { Writable } from 'node:stream'

export type LogLine = Record<string, unknown>

export function logCollector(): { logTo: Writable; lines: LogLine[] } {
  const lines: LogLine[] = []
  const logTo = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        lines.push(JSON.parse(line) as LogLine)
      }
      done()
    },
  })
  return { logTo, lines }
}
