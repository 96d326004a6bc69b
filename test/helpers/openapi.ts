/**
 * openapi.yaml as data for the contract test: its operations, the routes Fastify has
 * registered in the same spelling, and checks of real answers against the document's
 * responses (media type, required headers, JSON bodies through ajv).
 */
import fs from 'node:fs'
import net from 'node:net'
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import type { FastifyInstance } from 'fastify'
import { parse } from 'yaml'
import type { Answer } from './http.js'

export const DOCUMENT_FILE = new URL('../../openapi.yaml', import.meta.url)

type Schema = Record<string, unknown>
type Media = { schema?: Schema }
type Header = { required?: boolean; schema?: Schema }
export type Response = { headers?: Record<string, Header>; content?: Record<string, Media> }

export type Document = {
  info: { version: string }
  paths: Record<string, Record<string, unknown>>
  components: Record<string, Record<string, unknown>>
}

/** An operation as `METHOD /path`, the path spelled as in the document. */
export type Operation = { name: string; method: string; path: string; statuses: string[] }

const METHODS = ['get', 'head', 'put', 'post', 'delete', 'options', 'patch', 'trace']

export function loadDocument(): Document {
  return parse(fs.readFileSync(DOCUMENT_FILE, 'utf8')) as Document
}

/** Follows local `$ref`s (`#/components/...`) until a node that is not one. */
export function deref<T>(document: Document, node: unknown): T {
  let current = node as { $ref?: string }
  while (typeof current.$ref === 'string') {
    const names = current.$ref.replace(/^#\//, '').split('/')
    current = names.reduce<unknown>(
      (at, name) =>
        (at as Record<string, unknown>)[name.replaceAll('~1', '/').replaceAll('~0', '~')],
      document,
    ) as { $ref?: string }
    if (current === undefined) throw new Error(`unresolved reference ${JSON.stringify(node)}`)
  }
  return current as T
}

export function operationsOf(document: Document): Operation[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method] !== undefined).map((method) => {
      const { responses } = item[method] as { responses: Record<string, unknown> }
      const name = `${method.toUpperCase()} ${path}`
      return { name, method: method.toUpperCase(), path, statuses: Object.keys(responses) }
    }),
  )
}

/** A response of the document with it and its headers dereferenced. */
export function resolveResponse(document: Document, node: unknown): Response {
  const response = deref<Response>(document, node)
  const headers = Object.entries(response.headers ?? {}).map(([name, header]) => [
    name,
    deref<Header>(document, header),
  ])
  return { ...response, headers: Object.fromEntries(headers) as Record<string, Header> }
}

export function responseOf(document: Document, operation: Operation, status: number): Response {
  const item = document.paths[operation.path] as Record<string, { responses: object }>
  const responses = item[operation.method.toLowerCase()]?.responses as Record<string, unknown>
  return resolveResponse(document, responses[String(status)])
}

/** `/kv/{key}` as Fastify spells it: a parameter that ends the path takes the rest of it. */
export function routePattern(path: string): string {
  return path.replace(/\{[^}]+\}$/, '*')
}

/**
 * `METHOD /pattern` for every route of `app`, read from printRoutes' tree, where each
 * line is a piece of path below its parent and route lines end in `(METHOD, ...)`.
 */
export function registeredRoutes(app: FastifyInstance): string[] {
  const pieces: string[] = []
  const routes: string[] = []
  for (const line of app.printRoutes().split('\n')) {
    const node = /^((?:│ {3}| {4})*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line)
    if (!node) continue

    pieces.length = (node[1] ?? '').length / 4
    pieces.push(node[2] ?? '')
    for (const method of node[3]?.split(', ') ?? []) routes.push(`${method} ${pieces.join('')}`)
  }
  return routes
}

/** Every `$ref` string in the document. */
export function referencesIn(node: unknown, found = new Set<string>()): Set<string> {
  if (typeof node !== 'object' || node === null) return found
  for (const [name, value] of Object.entries(node)) {
    if (name === '$ref' && typeof value === 'string') found.add(value)
    else referencesIn(value, found)
  }
  return found
}

const SCHEMAS_ID = 'openapi.yaml'
const COMPONENT_SCHEMA = '#/components/schemas/'

/** The schema with its component references pointed into the schema of id SCHEMAS_ID. */
function rebased(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rebased)
  if (typeof node !== 'object' || node === null) return node
  return Object.fromEntries(
    Object.entries(node).map(([name, value]) => {
      if (name !== '$ref') return [name, rebased(value)]
      return [name, String(value).replace(COMPONENT_SCHEMA, `${SCHEMAS_ID}#/$defs/`)]
    }),
  )
}

export type Validator = (schema: Schema) => ValidateFunction

/** JSON Schema 2020-12 (the dialect of OpenAPI 3.1) over the document's schemas. */
export function schemaValidator(document: Document): Validator {
  // Strict about keywords, so that a misspelt one in the document fails here. Not about
  // `type: object` beside `properties` or `required` naming a property of a sibling
  // schema: JSON Schema needs neither, and the document's oneOf and allOf leave them out.
  const ajv = new Ajv2020({
    strict: true,
    strictTypes: false,
    strictRequired: false,
    allErrors: true,
  })
  ajv.addSchema({ $id: SCHEMAS_ID, $defs: rebased(document.components.schemas) as Schema })

  const compiled = new Map<Schema, ValidateFunction>()
  return (schema) => {
    const validate = compiled.get(schema) ?? ajv.compile(rebased(schema) as Schema)
    compiled.set(schema, validate)
    return validate
  }
}

function essence(mediaType: string): string {
  return (mediaType.split(';', 1)[0] ?? '').trim().toLowerCase()
}

/** The JSON values a body holds: one per NDJSON line, one for JSON, none otherwise. */
function jsonValues(type: string, body: Buffer): unknown[] {
  const text = body.toString('utf8')
  if (type === 'application/json') return [JSON.parse(text)]
  if (type !== 'application/x-ndjson' || text === '') return []
  if (!text.endsWith('\n')) throw new Error('an NDJSON body must end with a newline')
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => JSON.parse(line) as unknown)
}

export type AnswerCheck = {
  answer: Answer
  response: Response
  validator: Validator
  /** A HEAD answer has the headers of its GET and no body. */
  head: boolean
}

/** What is wrong with `answer` as the documented `response`; empty when nothing is. */
export function answerProblems(check: AnswerCheck): string[] {
  const { answer, response, validator, head } = check
  const problems = headerProblems(answer, response, validator)

  const content = response.content ?? {}
  const listed = Object.keys(content)
  if (listed.length === 0 || head) {
    if (answer.body.length > 0) problems.push(`a body of ${answer.body.length} bytes`)
    if (listed.length === 0) return problems
  }
  const sent = String(answer.headers['content-type'] ?? '')
  const media = listed.find((type) => essence(type) === essence(sent))
  if (media === undefined) return [...problems, `Content-Type ${sent} is not one of ${listed}`]

  const schema = content[media]?.schema
  if (schema === undefined || head) return problems
  const validate = validator(schema)
  for (const value of jsonValues(essence(media), answer.body)) {
    if (validate(value)) continue
    problems.push(`${JSON.stringify(value)}: ${JSON.stringify(validate.errors)}`)
  }
  return problems
}

function headerProblems(answer: Answer, response: Response, validator: Validator): string[] {
  const problems: string[] = []
  for (const [name, header] of Object.entries(response.headers ?? {})) {
    const value = answer.headers[name.toLowerCase()]
    if (value === undefined) {
      if (header.required) problems.push(`no ${name} header`)
      continue
    }
    if (!header.schema) continue
    const typed = header.schema.type === 'integer' ? Number(value) : value
    if (!validator(header.schema)(typed)) problems.push(`${name}: ${String(value)} does not fit`)
  }
  return problems
}

/** One HTTP/1.1 answer read off raw bytes (the whole of a `Connection: close` stream). */
function parseAnswer(raw: Buffer): Answer {
  const end = raw.indexOf('\r\n\r\n')
  const [statusLine = '', ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n')
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  const body = raw.subarray(end + 4)
  return {
    status: Number(statusLine.split(' ')[1]),
    headers,
    body,
    json: () => JSON.parse(body.toString('utf8')),
  }
}

export type HeldRequest = {
  /** Sends the rest of the request's headers; resolves with its answer. */
  finish(headers: string): Promise<Answer>
}

/**
 * A request begun but not finished on a keep-alive connection: `GET /healthz` is sent
 * and answered first, with the start of `requestLine` behind it in the same write, so
 * once that answer is back the server has begun reading the held request and counts the
 * connection as busy (a stop then does not close it as idle).
 */
export async function holdRequest(url: string, requestLine: string): Promise<HeldRequest> {
  const { hostname, port } = new URL(url)
  const socket = net.connect(Number(port), hostname)
  const chunks: Buffer[] = []
  let failure: Error | undefined
  socket.on('error', (error) => (failure = error))
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()))
  const firstAnswered = new Promise<void>((resolve) => socket.once('data', () => resolve()))
  socket.on('data', (chunk: Buffer) => chunks.push(chunk))
  socket.write(`GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n${requestLine} HTTP/1.1\r\nHost: x\r\n`)
  await firstAnswered

  return {
    finish: async (headers) => {
      socket.write(`${headers}\r\n`)
      await closed
      if (failure) throw failure
      const all = Buffer.concat(chunks)
      return parseAnswer(all.subarray(all.indexOf('HTTP/1.1 ', 1)))
    },
  }
}
