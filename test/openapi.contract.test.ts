/**
 * openapi.yaml against the server, both ways: every route is an operation of the
 * document and every operation a route; every error code of the registry is in the
 * document and no other; and a table of real requests gives every status each operation
 * lists, each answer checked against the document (status, media type, required headers,
 * JSON bodies through ajv). A status no request can provoke here is named, with why, in
 * UNPROVOKED, so the document cannot list a status that nobody checked.
 */
import fs from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ERRORS } from '../src/errors.js'
import { call, type Answer } from './helpers/http.js'
import {
  answerProblems,
  deref,
  DOCUMENT_FILE,
  holdRequest,
  loadDocument,
  operationsOf,
  referencesIn,
  registeredRoutes,
  resolveResponse,
  responseOf,
  routePattern,
  schemaValidator,
  type Operation,
  type Response,
} from './helpers/openapi.js'
import { del, frames, ndjson, put } from './helpers/records.js'
import { startServer, type TestServer } from './helpers/server.js'

const TOKEN = 'contract-token'
const AUTH = { authorization: `Bearer ${TOKEN}` }
const MAX_VALUE_BYTES = 1024
/** The size-capped database that the 507 cases write to fills up after a few of these. */
const BIG_VALUE = 'x'.repeat(64 * 1024)

const document = loadDocument()
const operations = operationsOf(document)
const validator = schemaValidator(document)

/** Answers that no operation owns: a path that is no route, a method a path lacks. */
const OUTSIDE_OPERATIONS = {
  noSuchRoute: '#/components/responses/NoSuchRoute',
  methodNotAllowed: '#/components/responses/MethodNotAllowed',
}

/** Documented statuses that no request in this file provokes, each with the reason. */
const UNPROVOKED = [
  {
    op: 'DELETE /kv/{key}',
    status: 507,
    reason: 'a delete frees pages: only a full file system, not a capped database, fails it',
  },
  {
    op: 'DELETE /keys',
    status: 507,
    reason: 'a delete frees pages: only a full file system, not a capped database, fails it',
  },
  {
    op: 'GET /backup',
    status: 507,
    reason: 'the copy goes to the temporary directory, which a test cannot fill safely',
  },
]

type Case = {
  op: string
  status: number
  what: string
  path: string
  headers?: Record<string, string>
  body?: string | Buffer
  /** Sent without the token. */
  anonymous?: true
  /** Sent to the server whose database is full. */
  full?: true
}

type More = Pick<Case, 'headers' | 'body' | 'anonymous' | 'full'>

function ask(op: string, status: number, what: string, path: string, more: More = {}): Case {
  return { op, status, what, path, ...more }
}

const ANONYMOUS: More = { anonymous: true }
const NDJSON = { 'content-type': 'application/x-ndjson' }
const FRAMES = { 'content-type': 'application/octet-stream' }

function kvCases(): Case[] {
  const reads = ['GET /kv/{key}', 'HEAD /kv/{key}'].flatMap((op) => [
    ask(op, 200, 'a stored key', '/kv/pet/cat'),
    ask(op, 304, 'If-None-Match: *', '/kv/pet/cat', { headers: { 'if-none-match': '*' } }),
    ask(op, 400, 'a malformed escape', '/kv/bad%G1'),
    ask(op, 401, 'no token', '/kv/pet/cat', ANONYMOUS),
    ask(op, 404, 'a missing key', '/kv/never'),
  ])
  const [PUT, DELETE] = ['PUT /kv/{key}', 'DELETE /kv/{key}']
  const tooLarge = 'x'.repeat(MAX_VALUE_BYTES + 1)
  const createOnly = { 'if-none-match': '*' }
  return [
    ...reads,
    ask(PUT, 201, 'a new key', '/kv/new/key', { body: 'v' }),
    ask(PUT, 204, 'a stored key', '/kv/pet/dog', { body: 'dog' }),
    ask(PUT, 400, 'an empty key', '/kv/', { body: 'v' }),
    ask(PUT, 400, 'a key over the limit', `/kv/${'k'.repeat(65)}`),
    ask(PUT, 401, 'no token', '/kv/a', ANONYMOUS),
    ask(PUT, 412, 'If-None-Match: * on a stored key', '/kv/pet/cat', { headers: createOnly }),
    ask(PUT, 413, 'a value over the limit', '/kv/big', { body: tooLarge }),
    ask(PUT, 507, 'a full database', '/kv/more', { body: BIG_VALUE, full: true }),
    ask(DELETE, 204, 'a stored key', '/kv/doomed'),
    ask(DELETE, 400, 'a trailing %', '/kv/%'),
    ask(DELETE, 401, 'no token', '/kv/pet/cat', ANONYMOUS),
    ask(DELETE, 404, 'a missing key', '/kv/never'),
    ask(DELETE, 412, 'a stale If-Match', '/kv/pet/cat', { headers: { 'if-match': '"0"' } }),
  ]
}

function listingCases(): Case[] {
  const ops = ['GET /keys', 'HEAD /keys', 'GET /items', 'HEAD /items']
  return ops.flatMap((op) => {
    const path = op.split(' ')[1] as string
    const accept = (type: string): More => ({ headers: { accept: type } })
    return [
      ask(op, 200, 'NDJSON by default', path),
      ask(op, 200, 'JSON', path, accept('application/json')),
      ask(op, 200, 'frames', path, accept('application/octet-stream')),
      ask(op, 200, 'encoding=base64', `${path}?encoding=base64`),
      ask(op, 200, 'strip', `${path}?prefix=pet/&strip`),
      ask(op, 400, 'strip without prefix', `${path}?strip`),
      ask(op, 400, 'a bound with a malformed escape', `${path}?from=%G1`),
      ask(op, 400, 'an unknown parameter', `${path}?bogus=1`),
      ask(op, 401, 'no token', path, ANONYMOUS),
      ask(op, 406, 'Accept: text/html', path, accept('text/html')),
    ]
  })
}

function selectionCases(): Case[] {
  return [
    ask('GET /count', 200, 'a prefix', '/count?prefix=pet/'),
    ask('GET /count', 400, 'limit', '/count?limit=1'),
    ask('GET /count', 401, 'no token', '/count', ANONYMOUS),
    ask('DELETE /keys', 200, 'a prefix', '/keys?prefix=tmp/'),
    ask('DELETE /keys', 400, 'no selection', '/keys'),
    ask('DELETE /keys', 401, 'no token', '/keys?all', ANONYMOUS),
  ]
}

function batchCases(): Case[] {
  const op = 'POST /batch'
  const records = [put('b/1', 'one'), del('b/2')]
  const nd = (body: Buffer | string, more: More = {}) => ({ headers: NDJSON, body, ...more })
  const tooLarge = ndjson([put('b/3', 'x'.repeat(MAX_VALUE_BYTES + 1))])
  const overflow = ndjson([put('b/4', BIG_VALUE), put('b/5', BIG_VALUE)])
  return [
    ask(op, 200, 'NDJSON', '/batch', nd(ndjson(records))),
    ask(op, 200, 'frames, atomic', '/batch?atomic', { headers: FRAMES, body: frames(records) }),
    ask(op, 400, 'a bad record', '/batch', nd('{"key":"a"}\n')),
    ask(op, 400, 'a bad flag', '/batch?atomic=maybe', nd('')),
    ask(op, 401, 'no token', '/batch', nd('', ANONYMOUS)),
    ask(op, 413, 'a value over the limit', '/batch', nd(tooLarge)),
    ask(op, 415, 'text/plain', '/batch', { headers: { 'content-type': 'text/plain' }, body: 'x' }),
    ask(op, 507, 'a full database', '/batch', nd(overflow, { full: true })),
  ]
}

function operationsCases(): Case[] {
  const guarded = ['/readyz', '/metrics', '/openapi.yaml'].flatMap((path) =>
    ['GET', 'HEAD'].flatMap((method) => [
      ask(`${method} ${path}`, 200, 'the token', path),
      ask(`${method} ${path}`, 401, 'no token', path, ANONYMOUS),
    ]),
  )
  return [
    ask('GET /healthz', 200, 'no token, none needed', '/healthz', ANONYMOUS),
    ask('HEAD /healthz', 200, 'no token, none needed', '/healthz', ANONYMOUS),
    ...guarded,
    ask('GET /backup', 200, 'the token', '/backup'),
    ask('GET /backup', 401, 'no token', '/backup', ANONYMOUS),
  ]
}

const CASES: Case[] = [
  ...kvCases(),
  ...listingCases(),
  ...selectionCases(),
  ...batchCases(),
  ...operationsCases(),
]

function operation(name: string): Operation {
  const found = operations.find((candidate) => candidate.name === name)
  if (!found) throw new Error(`${name} is not an operation of openapi.yaml`)
  return found
}

/** A path of the document with its parameter filled in. */
function concretePath(path: string): string {
  return path.replace('{key}', 'pet/cat')
}

function problems(answer: Answer, response: Response, method: string): string[] {
  return answerProblems({ answer, response, validator, head: method === 'HEAD' })
}

/** The answer is `status`, listed for `op`, and fits what the document says of it. */
function expectDocumented(op: Operation, answer: Answer, status: number): void {
  expect(answer.status, answer.body.toString('utf8', 0, 300)).toBe(status)
  expect(op.statuses).toContain(String(status))
  expect(problems(answer, responseOf(document, op, status), op.method)).toEqual([])
  if (status >= 400 && op.method !== 'HEAD') {
    expect(answer.json()).toMatchObject({ statusCode: status })
  }
}

let main: TestServer
let full: TestServer

/** Writes large values until the size-capped database refuses one. */
async function fill(server: TestServer): Promise<void> {
  for (let i = 0; i < 40; i++) {
    const answer = await call(server.url, 'PUT', `/kv/fill-${i}`, {
      body: BIG_VALUE,
      headers: AUTH,
    })
    if (answer.status === 507) return
  }
  throw new Error('the capped database never filled up')
}

beforeAll(async () => {
  ;[main, full] = await Promise.all([
    startServer({ token: TOKEN, maxKeyBytes: 64, maxValueBytes: MAX_VALUE_BYTES }),
    startServer({ token: TOKEN }, { storeOptions: { maxBytes: 512 * 1024 } }),
  ])
  const seeds = { 'pet/cat': 'Felis catus', 'pet/dog': 'Canis lupus', doomed: 'x', 'tmp/1': 'y' }
  for (const [key, value] of Object.entries(seeds)) {
    await call(main.url, 'PUT', `/kv/${key}`, { body: value, headers: AUTH })
  }
  await call(main.url, 'PUT', '/kv/bin%FF%00', { body: Buffer.from([0xff]), headers: AUTH })
  await fill(full)
})
afterAll(async () => {
  await Promise.all([main.close(), full.close()])
})

describe('openapi.yaml and the server', () => {
  it('lists exactly the routes the server registers, with their methods', () => {
    const registered = registeredRoutes(main.app).sort()
    const documented = operations.map((op) => `${op.method} ${routePattern(op.path)}`).sort()
    expect(registered).toEqual(documented)
  })

  it('lists exactly the error codes of the registry', () => {
    const codes = deref<{ enum: string[] }>(document, document.components.schemas?.ErrorCode)
    expect([...codes.enum].sort()).toEqual(Object.keys(ERRORS).sort())
  })

  it('carries the version of the package', () => {
    const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { version: string }
    expect(document.info.version).toBe(pkg.version)
  })

  it('references every component but the answers outside operations', () => {
    const references = referencesIn(document)
    const unreferenced = Object.entries(document.components)
      // Security schemes are named by security requirements, never referenced.
      .filter(([section]) => section !== 'securitySchemes')
      .flatMap(([section, entries]) =>
        Object.keys(entries).map((name) => `#/components/${section}/${name}`),
      )
      .filter((pointer) => !references.has(pointer))
    expect(unreferenced.sort()).toEqual(Object.values(OUTSIDE_OPERATIONS).sort())
  })

  it('is served byte for byte at GET /openapi.yaml', async () => {
    const answer = await call(main.url, 'GET', '/openapi.yaml', { headers: AUTH })
    expect(answer.headers['content-type']).toBe('application/yaml')
    expect(answer.body.equals(fs.readFileSync(DOCUMENT_FILE))).toBe(true)
  })
})

describe('real answers', () => {
  it.each(CASES)('$op answers $status for $what, as documented', async (c) => {
    const op = operation(c.op)
    const headers = { ...(c.anonymous ? {} : AUTH), ...c.headers }
    const answer = await call((c.full ? full : main).url, op.method, c.path, {
      body: c.body,
      headers,
    })
    expectDocumented(op, answer, c.status)
  })
})

describe('answers outside operations', () => {
  const outside = (pointer: string) => resolveResponse(document, { $ref: pointer })

  it('answers a path that is no route with 404 NOT_FOUND', async () => {
    const answer = await call(main.url, 'GET', '/no/such/route', { headers: AUTH })
    expect(answer.status).toBe(404)
    expect(problems(answer, outside(OUTSIDE_OPERATIONS.noSuchRoute), 'GET')).toEqual([])
  })

  it.each(Object.keys(document.paths))(
    'answers PATCH %s with 405 and Allow naming exactly the documented methods',
    async (path) => {
      const answer = await call(main.url, 'PATCH', concretePath(path), { headers: AUTH })
      expect(answer.status).toBe(405)
      expect(problems(answer, outside(OUTSIDE_OPERATIONS.methodNotAllowed), 'PATCH')).toEqual([])

      const offered = operations.filter((op) => op.path === path).map((op) => op.method)
      expect(String(answer.headers.allow).split(', ').sort()).toEqual(offered.sort())
    },
  )
})

describe('a server that stops', () => {
  let stopping: TestServer

  beforeAll(async () => {
    stopping = await startServer({ token: TOKEN })
  })
  afterAll(async () => {
    await stopping.close()
  })

  it('answers GET and HEAD /readyz with 503 NOT_READY once the database is closed', async () => {
    await stopping.store.close()
    for (const method of ['GET', 'HEAD']) {
      const answer = await call(stopping.url, method, '/readyz', { headers: AUTH })
      expectDocumented(operation(`${method} /readyz`), answer, 503)
    }
    const body = (await call(stopping.url, 'GET', '/readyz', { headers: AUTH })).json()
    expect(body).toMatchObject({ code: 'NOT_READY' })
  })

  it('answers every operation with 503 SHUTTING_DOWN once the stop has begun', async () => {
    const held = await Promise.all(
      operations.map((op) => holdRequest(stopping.url, `${op.method} ${concretePath(op.path)}`)),
    )
    const closing = stopping.app.close()
    while (stopping.app.server.listening) await new Promise((resolve) => setImmediate(resolve))

    const rest =
      `Authorization: Bearer ${TOKEN}\r\n` +
      'Content-Type: application/x-ndjson\r\nContent-Length: 0\r\n'
    const answers = await Promise.all(held.map((request) => request.finish(rest)))
    await closing
    for (const [i, op] of operations.entries()) {
      const answer = answers[i] as Answer
      expectDocumented(op, answer, 503)
      if (op.method !== 'HEAD') expect(answer.json()).toMatchObject({ code: 'SHUTTING_DOWN' })
    }
  })
})

describe('the table of requests', () => {
  it('covers every status the document lists, or names why in UNPROVOKED', () => {
    const pair = (op: string, status: number | string) => `${op} ${status}`
    const checked = new Set([
      ...CASES.map((c) => pair(c.op, c.status)),
      // The stopping server answers every operation with a 503.
      ...operations.map((op) => pair(op.name, 503)),
    ])
    const documented = operations.flatMap((op) =>
      op.statuses.map((status) => pair(op.name, status)),
    )
    const excused = UNPROVOKED.map((u) => pair(u.op, u.status))

    expect(documented.filter((p) => !checked.has(p)).sort()).toEqual(excused.sort())
    expect(excused.filter((p) => !documented.includes(p))).toEqual([])
  })
})
