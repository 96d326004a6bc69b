/**
 * One key: GET, HEAD, PUT and DELETE on /kv/{key}. The key is taken from the raw URL
 * (see app.ts), values are raw bytes whatever their Content-Type, and versions travel
 * as strong ETags with RFC 9110 conditional requests.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Readable } from 'node:stream'
import { ParkdError } from '../errors.js'
import { bodyPieces, declaredLength, readBody } from '../http/body.js'
import type { Precondition, Store } from '../store/types.js'
import { formatETag, matchableVersions, parseETagList } from '../wire/etag.js'
import { keyFromPath } from '../wire/key.js'

export type KvRouteOptions = {
  store: Store
  maxKeyBytes: number
  maxValueBytes: number
}

const KEY_PATH = '/kv/'
/** The route pattern, as metrics label it. */
const ROUTE = '/kv/*'
/**
 * Bodies up to this size are read whole, the fastest way for the many small values;
 * larger ones, and bodies of unknown length, are handed to the store as they arrive.
 */
const WHOLE_BODY_BYTES = 1024 * 1024

function requestKey(request: FastifyRequest, maxKeyBytes: number): Buffer {
  const url = request.originalUrl
  const end = url.indexOf('?')
  const encoded = url.slice(KEY_PATH.length, end < 0 ? url.length : end)
  return keyFromPath(encoded, { maxKeyBytes })
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name]
  return Array.isArray(value) ? value.join(', ') : value
}

/** If-Match / If-None-Match of a write, as a store precondition. */
function writePrecondition(request: FastifyRequest): Precondition | undefined {
  const ifMatch = header(request, 'if-match')
  const ifNoneMatch = header(request, 'if-none-match')
  if (ifMatch === undefined && ifNoneMatch === undefined) return undefined

  return {
    ifMatch: ifMatch === undefined ? undefined : matchableVersions(parseETagList(ifMatch), true),
    ifNoneMatch:
      ifNoneMatch === undefined ? undefined : matchableVersions(parseETagList(ifNoneMatch), false),
  }
}

/** True when If-None-Match on a read names the current version (answer 304). */
function notModified(request: FastifyRequest, version: string): boolean {
  const ifNoneMatch = header(request, 'if-none-match')
  if (ifNoneMatch === undefined) return false
  const versions = matchableVersions(parseETagList(ifNoneMatch), false)
  return versions === '*' || versions.includes(version)
}

async function* countBytes(pieces: AsyncIterable<Buffer>, count: (n: number) => void) {
  for await (const piece of pieces) {
    count(piece.length)
    yield piece
  }
}

function notFound(): ParkdError {
  return new ParkdError('KEY_NOT_FOUND')
}

/**
 * A 304 carries the ETag but no Content-Type: it sends no representation, and RFC 9110
 * section 15.4.5 limits it to the headers a 200 would have had for caching.
 */
function notModifiedAnswer(reply: FastifyReply): FastifyReply {
  return reply.code(304).send()
}

export async function kvRoutes(app: FastifyInstance, options: KvRouteOptions): Promise<void> {
  const { store, maxKeyBytes, maxValueBytes } = options
  const keyOf = (request: FastifyRequest) => requestKey(request, maxKeyBytes)

  app.get('/kv/*', { exposeHeadRoute: false }, async (request, reply) => {
    const stored = await store.read(keyOf(request))
    if (!stored) throw notFound()

    const { body } = stored
    reply.header('etag', formatETag(stored.version))
    if (notModified(request, stored.version)) {
      if (!Buffer.isBuffer(body)) body.release()
      return notModifiedAnswer(reply)
    }
    reply.type('application/octet-stream')
    app.metrics.recordsOut(ROUTE, 1)
    app.metrics.bytesOut(ROUTE, stored.size)
    if (Buffer.isBuffer(body)) return reply.send(body)

    // A large value leaves piece by piece; a client that goes away lets it go.
    reply.raw.once('close', () => body.release())
    return reply.header('content-length', stored.size).send(Readable.from(body))
  })

  app.head('/kv/*', async (request, reply) => {
    const info = await store.stat(keyOf(request))
    if (!info) throw notFound()

    reply.header('etag', formatETag(info.version))
    if (notModified(request, info.version)) return notModifiedAnswer(reply)
    return reply.type('application/octet-stream').header('content-length', info.size).send()
  })

  const limit = { maxBytes: maxValueBytes, code: 'VALUE_TOO_LARGE' } as const

  /** Stores the request's body as the key's value; answers the result and its size. */
  async function storeBody(request: FastifyRequest, key: Buffer, precondition?: Precondition) {
    const declared = declaredLength(request.raw)
    request.log.debug({ op: 'put', bytes: declared }, 'put')
    if (declared !== undefined && declared <= WHOLE_BODY_BYTES) {
      const value = await readBody(request.raw, limit)
      return { result: await store.put(key, value, precondition), bytes: value.length }
    }

    let bytes = 0
    const counted = countBytes(bodyPieces(request.raw, limit), (n) => (bytes += n))
    return { result: await store.putStream(key, counted, precondition), bytes }
  }

  app.put('/kv/*', async (request, reply) => {
    const { result, bytes } = await storeBody(request, keyOf(request), writePrecondition(request))
    app.metrics.recordsIn(ROUTE, 1)
    app.metrics.bytesIn(ROUTE, bytes)

    reply.header('etag', formatETag(result.version))
    return reply.code(result.created ? 201 : 204).send()
  })

  app.delete('/kv/*', async (request, reply) => {
    const deleted = await store.delete(keyOf(request), writePrecondition(request))
    if (!deleted) throw notFound()
    // A delete is a record in, as a delete record of a batch is.
    app.metrics.recordsIn(ROUTE, 1)
    return reply.code(204).send()
  })
}
