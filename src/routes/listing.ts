/**
 * Work on a selection of keys: GET /keys and GET /items stream it in the format the
 * client accepts, GET /count counts it and DELETE /keys deletes it. The query is checked
 * and the format chosen before the scan starts, so those errors are clean 4xx answers;
 * an error after the first byte cuts the connection (see the error handler).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ParkdError } from '../errors.js'
import type { Item, Store } from '../store/types.js'
import { negotiateFormat, type ListingFormat } from '../wire/accept.js'
import { itemsEncoder, keysEncoder, listingBody } from '../wire/listing-body.js'
import type { PageEncoder } from '../wire/page-encoder.js'
import type { RawQuery } from '../wire/query.js'
import {
  COUNT_PARAMETERS,
  DELETE_PARAMETERS,
  LISTING_PARAMETERS,
  parseDeleteQuery,
  parseListingQuery,
  parseSelection,
  queryErrorFormatter,
  querySchema,
  type ListingQuery,
  type QueryLimits,
} from './listing-query.js'

export type ListingRouteOptions = { store: Store; maxKeyBytes: number }

type Kind = 'keys' | 'items'

function answerSchema(name: string) {
  return {
    type: 'object',
    properties: { [name]: { type: 'integer', minimum: 0 } },
    required: [name],
    additionalProperties: false,
  } as const
}

function routeOptions(
  route: string,
  parameters: Parameters<typeof querySchema>[0],
  answer?: ReturnType<typeof answerSchema>,
) {
  return {
    // A HEAD made from GET would run the whole scan only to throw the body away.
    exposeHeadRoute: false,
    schema: {
      querystring: querySchema(parameters),
      ...(answer && { response: { 200: answer } }),
    },
    schemaErrorFormatter: queryErrorFormatter(route),
  }
}

function acceptedFormat(request: FastifyRequest): ListingFormat {
  const format = negotiateFormat(request.headers.accept)
  if (format) return format
  throw new ParkdError(
    'NOT_ACCEPTABLE',
    'listings come as application/x-ndjson, application/json or application/octet-stream',
  )
}

async function* stripKeys(pages: AsyncIterable<Buffer[]>, bytes: number) {
  for await (const keys of pages) yield keys.map((key) => key.subarray(bytes))
}

async function* stripItems(pages: AsyncIterable<Item[]>, bytes: number) {
  for await (const items of pages) {
    yield items.map((item) => ({ key: item.key.subarray(bytes), value: item.value }))
  }
}

/** The body of a listing: the store's pages, stripped if asked, encoded as negotiated. */
function body(store: Store, kind: Kind, query: ListingQuery, format: ListingFormat) {
  const { scan, stripBytes, encoding } = query
  if (kind === 'keys') {
    const pages = store.scanKeys(scan)
    const encoder = keysEncoder(format, encoding)
    return {
      encoder,
      stream: listingBody(stripBytes ? stripKeys(pages, stripBytes) : pages, encoder),
    }
  }

  const pages = store.scanItems(scan)
  const encoder = itemsEncoder(format, encoding)
  return {
    encoder,
    stream: listingBody(stripBytes ? stripItems(pages, stripBytes) : pages, encoder),
  }
}

function contentType(kind: Kind, format: ListingFormat): string {
  const encoder: PageEncoder<unknown> =
    kind === 'keys' ? keysEncoder(format, 'utf8') : itemsEncoder(format, 'utf8')
  return encoder.contentType
}

export async function listingRoutes(app: FastifyInstance, options: ListingRouteOptions) {
  const { store } = options
  const limits: QueryLimits = { maxKeyBytes: options.maxKeyBytes }

  const list = (kind: Kind) => async (request: FastifyRequest, reply: FastifyReply) => {
    const query = parseListingQuery(request.query as RawQuery, limits)
    const format = acceptedFormat(request)
    reply.log.debug({ op: `list-${kind}`, format }, 'listing')

    const { encoder, stream } = body(store, kind, query, format)
    return reply.type(encoder.contentType).send(stream)
  }

  /** The headers a listing would have, without scanning anything. */
  const head = (kind: Kind) => async (request: FastifyRequest, reply: FastifyReply) => {
    parseListingQuery(request.query as RawQuery, limits)
    return reply.type(contentType(kind, acceptedFormat(request))).send()
  }

  for (const kind of ['keys', 'items'] as const) {
    app.get(`/${kind}`, routeOptions(`GET /${kind}`, LISTING_PARAMETERS), list(kind))
    app.head(`/${kind}`, routeOptions(`HEAD /${kind}`, LISTING_PARAMETERS), head(kind))
  }

  const countOptions = routeOptions('GET /count', COUNT_PARAMETERS, answerSchema('count'))
  app.get('/count', countOptions, async (request) => {
    const count = await store.count(parseSelection(request.query as RawQuery, limits))
    return { count }
  })

  const deleteOptions = routeOptions('DELETE /keys', DELETE_PARAMETERS, answerSchema('deleted'))
  app.delete('/keys', deleteOptions, async (request) => {
    const selection = parseDeleteQuery(request.query as RawQuery, limits)
    request.log.debug({ op: 'delete-range' }, 'delete range')
    return { deleted: await store.deleteRange(selection) }
  })
}
