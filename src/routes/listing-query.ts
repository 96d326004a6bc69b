/**
 * The query parameters of GET /keys, GET /items, GET /count and DELETE /keys: the route
 * schemas that refuse unknown or repeated names, and the parsing of the still
 * percent-encoded values (see wire/query.ts) into a selection and listing options.
 * Every refusal is a 400 whose message names the parameter.
 */
import type { FastifySchemaValidationError } from 'fastify'
import { ParkdError, type ErrorCode } from '../errors.js'
import type { ScanOptions, Selection } from '../store/types.js'
import { MalformedEscapeError, percentDecodeBytes } from '../wire/percent.js'
import type { RawQuery } from '../wire/query.js'
import type { JsonEncoding } from '../wire/records.js'

const SELECTION = ['from', 'to', 'after', 'before', 'prefix'] as const
export const LISTING_PARAMETERS = [...SELECTION, 'strip', 'limit', 'reverse', 'encoding'] as const
export const COUNT_PARAMETERS = SELECTION
export const DELETE_PARAMETERS = [...SELECTION, 'all'] as const

type Parameter = (typeof LISTING_PARAMETERS)[number] | (typeof DELETE_PARAMETERS)[number]

export type QueryLimits = { maxKeyBytes: number }

type ErrorFormatter = (errors: FastifySchemaValidationError[], dataVar: string) => Error

export type ListingQuery = {
  scan: ScanOptions
  /** Bytes to cut from the front of every key (the prefix, with strip). */
  stripBytes: number
  encoding: JsonEncoding
}

/**
 * Values stay strings here because they are still percent-encoded. `propertyNames`
 * refuses unknown names whatever the validator's removeAdditional setting (Fastify's
 * default would otherwise drop them silently); `additionalProperties` says the same for
 * readers of the schema.
 */
export function querySchema(names: readonly Parameter[]) {
  return {
    type: 'object',
    properties: Object.fromEntries(names.map((name) => [name, { type: 'string' }])),
    propertyNames: { enum: [...names] },
    additionalProperties: false,
  } as const
}

function nameOf(error: FastifySchemaValidationError): string | undefined {
  const named = (error as { propertyName?: unknown }).propertyName ?? error.params.propertyName
  return typeof named === 'string' ? named : undefined
}

/** Turns the schema's refusals into INVALID_QUERY errors that name the parameter. */
export function queryErrorFormatter(route: string): ErrorFormatter {
  return (errors, dataVar) => {
    const error = errors[0]
    const unknown = error && nameOf(error)
    if (unknown !== undefined) {
      return new ParkdError('INVALID_QUERY', `${route} takes no query parameter '${unknown}'`)
    }
    if (error?.keyword === 'type') return repeated(error.instancePath.slice(1))
    return new ParkdError('INVALID_QUERY', `${dataVar}${error?.instancePath} ${error?.message}`)
  }
}

function repeated(name: string): ParkdError {
  return new ParkdError('INVALID_QUERY', `query parameter '${name}' is given more than once`)
}

function quoted(raw: string): string {
  return JSON.stringify(raw.length > 40 ? `${raw.slice(0, 40)}...` : raw)
}

/** The raw value of a parameter, refusing repeats even where no schema ran. */
function single(query: RawQuery, name: Parameter): string | undefined {
  const value = query[name]
  if (Array.isArray(value)) throw repeated(name)
  return value
}

/** A malformed escape in a bound or prefix is a bad key, as it is in a path (API.md). */
function decode(name: Parameter, raw: string, code: ErrorCode = 'INVALID_QUERY'): Buffer {
  try {
    return percentDecodeBytes(raw, true)
  } catch (error) {
    if (!(error instanceof MalformedEscapeError)) throw error
    throw new ParkdError(code, `query parameter '${name}' has a ${error.message}`)
  }
}

/** Flags and words are decoded too: `reverse=%74rue` is `reverse=true`. */
function text(query: RawQuery, name: Parameter): string | undefined {
  const raw = single(query, name)
  return raw === undefined ? undefined : decode(name, raw).toString('utf8')
}

/**
 * A bound or a prefix, as bytes. Bounds are whole keys, so an empty one is INVALID_KEY
 * rather than read as "below every key" (which would make `to=` silently select
 * nothing). A bound or prefix over the key limit is KEY_TOO_LARGE, as a key over the
 * limit is in a path: no stored key can reach it, so it can only be a client's mistake.
 */
function keyParameter(query: RawQuery, name: Parameter, limits: QueryLimits): Buffer | undefined {
  const raw = single(query, name)
  if (raw === undefined) return undefined

  const bytes = decode(name, raw, 'INVALID_KEY')
  if (bytes.length === 0 && name !== 'prefix') {
    throw new ParkdError('INVALID_KEY', `query parameter '${name}' is empty; a bound is a key`)
  }
  if (bytes.length > limits.maxKeyBytes) {
    throw new ParkdError(
      'KEY_TOO_LARGE',
      `query parameter '${name}' is ${bytes.length} bytes; the key limit is ${limits.maxKeyBytes}`,
    )
  }
  return bytes
}

/** Absent, `0` and `false` are false; no value, `1` and `true` are true. */
function flag(query: RawQuery, name: Parameter): boolean {
  const value = text(query, name)
  if (value === undefined || value === '0' || value === 'false') return false
  if (value === '' || value === '1' || value === 'true') return true
  throw new ParkdError(
    'INVALID_QUERY',
    `query parameter '${name}' must be true, false, 1, 0 or empty; got ${quoted(value)}`,
  )
}

function limit(query: RawQuery): number | undefined {
  const value = text(query, 'limit')
  if (value === undefined) return undefined
  if (!/^\d+$/.test(value)) {
    throw new ParkdError(
      'INVALID_QUERY',
      `query parameter 'limit' must be a whole number >= 0; got ${quoted(value)}`,
    )
  }
  // Digits beyond any safe integer still mean "more than there are": no cap needed.
  return Number(value)
}

function encoding(query: RawQuery): JsonEncoding {
  const value = text(query, 'encoding') ?? 'utf8'
  if (value === 'utf8' || value === 'base64') return value
  throw new ParkdError(
    'INVALID_QUERY',
    `query parameter 'encoding' must be utf8 or base64; got ${quoted(value)}`,
  )
}

function conflict(a: Parameter, b: Parameter): ParkdError {
  return new ParkdError('INVALID_QUERY', `query parameters '${a}' and '${b}' cannot be combined`)
}

/** from, to, after, before and prefix; `after` excludes `from`, `before` excludes `to`. */
export function parseSelection(query: RawQuery, limits: QueryLimits): Selection {
  const selection: Selection = {}
  for (const name of SELECTION) {
    const bytes = keyParameter(query, name, limits)
    if (bytes) selection[name] = bytes
  }

  if (selection.after && selection.from) throw conflict('after', 'from')
  if (selection.before && selection.to) throw conflict('before', 'to')
  return selection
}

/**
 * The options of GET /keys and GET /items. `strip` asks to cut the prefix, so it needs
 * one; `strip=false` asks for nothing and is accepted anywhere, like an absent flag.
 */
export function parseListingQuery(query: RawQuery, limits: QueryLimits): ListingQuery {
  const selection = parseSelection(query, limits)
  const strip = flag(query, 'strip')
  if (strip && !selection.prefix) {
    throw new ParkdError('INVALID_QUERY', "query parameter 'strip' needs 'prefix'")
  }

  return {
    scan: { ...selection, reverse: flag(query, 'reverse'), limit: limit(query) },
    stripBytes: strip ? (selection.prefix?.length ?? 0) : 0,
    encoding: encoding(query),
  }
}

/**
 * The selection of DELETE /keys. Deleting everything must be asked for with all=true,
 * which takes no selection beside it; an empty prefix selects everything, so it counts
 * as no selection rather than wiping the store by accident.
 */
export function parseDeleteQuery(query: RawQuery, limits: QueryLimits): Selection {
  const selection = parseSelection(query, limits)
  const all = flag(query, 'all')
  const narrowed = Object.values(selection).some((bytes) => bytes.length > 0)

  if (all && narrowed) {
    throw new ParkdError('INVALID_QUERY', "query parameter 'all' takes no selection beside it")
  }
  if (!all && !narrowed) {
    throw new ParkdError(
      'INVALID_QUERY',
      'DELETE /keys needs from, to, after, before or prefix, or all=true to delete every key',
    )
  }
  return all ? {} : selection
}
