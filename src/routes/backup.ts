/**
 * GET /backup: a consistent copy of the whole database as one SQLite file.
 *
 * SQLite's online backup writes the copy into a private temporary directory a few pages
 * at a time, so the server keeps serving reads and writes meanwhile. The copy is then
 * opened and unlinked before the first byte is sent: the open descriptor keeps it
 * readable, and the disk space comes back as soon as the stream closes, however the
 * response ends (finished, client gone, process killed).
 */
import type { FastifyInstance } from 'fastify'
import fs, { type FileHandle } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Store } from '../store/types.js'

export type BackupRouteOptions = { store: Store }

const ROUTE = '/backup'

type Snapshot = { handle: FileHandle; size: number }

/**
 * Takes the copy in a directory of its own under os.tmpdir() (TMPDIR), created for the
 * owner only, since the copy holds every value of the database.
 */
async function takeSnapshot(store: Store): Promise<Snapshot> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'parkd-backup-'))
  try {
    const file = path.join(dir, 'park.db')
    await store.backup(file)
    const handle = await fs.open(file, 'r')
    try {
      return { handle, size: (await handle.stat()).size }
    } catch (error) {
      await handle.close()
      throw error
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
}

/** `parkd-20250131T120000Z.db`: sorts by time and says what it is. */
function fileName(now: Date): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
  return `parkd-${stamp}.db`
}

export async function backupRoutes(
  app: FastifyInstance,
  options: BackupRouteOptions,
): Promise<void> {
  const { store } = options

  // A HEAD would take a whole backup only to drop it, so HEAD is not offered (405).
  app.get(ROUTE, { exposeHeadRoute: false }, async (request, reply) => {
    const started = new Date()
    const { handle, size } = await takeSnapshot(store)
    request.log.info({ op: 'backup', bytes: size }, 'backup taken')
    // Fastify destroys the stream when the connection closes early, even a connection
    // that closed while the copy was being taken; that closes the descriptor.
    const body = handle.createReadStream()
    body.once('end', () => app.metrics.bytesOut(ROUTE, size))
    return reply
      .type('application/vnd.sqlite3')
      .header('content-length', size)
      .header('content-disposition', `attachment; filename="${fileName(started)}"`)
      .send(body)
  })
}
