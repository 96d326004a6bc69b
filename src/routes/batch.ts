/**
 * POST /batch: a stream of records, NDJSON or binary frames by Content-Type, applied in
 * order as it arrives (see batch-ingest.ts), or all-or-nothing with `?atomic`.
 */
import type { FastifyInstance } from 'fastify'
import type { IncomingMessage } from 'node:http'
import { ParkdError } from '../errors.js'
import type { Store } from '../store/types.js'
import { FrameDecoder } from '../wire/decode-frames.js'
import { NdjsonDecoder } from '../wire/decode-ndjson.js'
import type { RecordDecoder, RecordLimits } from '../wire/decode-record.js'
import { MalformedEscapeError, percentDecodeBytes } from '../wire/percent.js'
import type { RawQuery } from '../wire/query.js'
import { BodyBrokeOff, ingest, type BatchCounts, type Chunking } from './batch-ingest.js'

export type BatchRouteOptions = {
  store: Store
  limits: RecordLimits
  /** When chunks of a non-atomic batch are committed; DEFAULT_CHUNKING if not given. */
  chunking?: Chunking
}

const countsSchema = {
  type: 'object',
  properties: { put: { type: 'integer' }, deleted: { type: 'integer' } },
  required: ['put', 'deleted'],
  additionalProperties: false,
} as const

function invalidQuery(message: string): ParkdError {
  return new ParkdError('INVALID_QUERY', message)
}

/**
 * `atomic`, the one parameter: absent is false, `atomic`, `=1`, `=true` true, `=0`,
 * `=false` false.
 */
function atomicFlag(query: RawQuery): boolean {
  const unknown = Object.keys(query).find((name) => name !== 'atomic')
  if (unknown !== undefined)
    throw invalidQuery(`unknown query parameter ${JSON.stringify(unknown)}`)

  const raw = query.atomic
  if (raw === undefined) return false
  if (Array.isArray(raw)) throw invalidQuery('atomic is given more than once')

  let text: string
  try {
    text = percentDecodeBytes(raw, true).toString('utf8')
  } catch (error) {
    if (!(error instanceof MalformedEscapeError)) throw error
    throw invalidQuery(`atomic has a ${error.message}`)
  }
  if (text === '' || text === '1' || text === 'true') return true
  if (text === '0' || text === 'false') return false
  throw invalidQuery(`atomic must be true or false, not ${JSON.stringify(text.slice(0, 64))}`)
}

function decoderFor(contentType: string | undefined, limits: RecordLimits): RecordDecoder {
  const type = contentType?.split(';', 1)[0]?.trim().toLowerCase()
  if (type === 'application/x-ndjson') return new NdjsonDecoder(limits)
  if (type === 'application/octet-stream') return new FrameDecoder(limits)
  throw new ParkdError(
    'UNSUPPORTED_MEDIA_TYPE',
    'a batch is application/x-ndjson or application/octet-stream',
  )
}

/**
 * The body, read without destroying the request when reading stops early (the error
 * answer still has to go out), and refused if it ends before its declared end.
 */
async function* bodyOf(request: IncomingMessage): AsyncGenerator<Buffer> {
  yield* request.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>
  if (!request.complete) throw new Error('the body ended before its end')
}

export async function batchRoutes(app: FastifyInstance, options: BatchRouteOptions) {
  const { store, chunking } = options
  const limits = {
    maxKeyBytes: options.limits.maxKeyBytes,
    maxValueBytes: options.limits.maxValueBytes,
  }

  app.post('/batch', { schema: { response: { 200: countsSchema } } }, async (request) => {
    const atomic = atomicFlag(request.query as RawQuery)
    const decoder = decoderFor(request.bodyType, limits)

    const writer = await store.batch({ atomic })
    let counts: BatchCounts
    try {
      counts = await ingest(bodyOf(request.raw), { decoder, writer, atomic, chunking })
      await writer.commit()
    } catch (error) {
      await writer.abort()
      if (!(error instanceof BodyBrokeOff)) throw error
      request.log.info({ op: 'batch', records: error.committed, atomic }, 'batch upload broke off')
      throw new ParkdError('BAD_REQUEST', error.message, {
        details: { committed: error.committed },
      })
    }

    request.log.debug({ op: 'batch', records: counts.put + counts.deleted, atomic }, 'batch')
    return counts
  })
}
