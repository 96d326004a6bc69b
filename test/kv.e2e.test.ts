import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { startServer, type TestServer } from './helpers/server.js'

let server: TestServer

beforeAll(async () => {
  server = await startServer()
})
afterAll(async () => {
  await server.close()
})

async function call(method: string, path: string, body?: Buffer | string, headers = {}) {
  const response = await request(server.url + path, {
    method: method as 'GET',
    body,
    headers,
  })
  const bytes = Buffer.from(await response.body.arrayBuffer())
  return { status: response.statusCode, headers: response.headers, body: bytes }
}

describe('single keys', () => {
  it('creates with 201, replaces with 204, and reads back the exact bytes', async () => {
    const created = await call('PUT', '/kv/pet/dog', 'woof')
    expect(created.status).toBe(201)
    const replaced = await call('PUT', '/kv/pet/dog', 'bark')
    expect(replaced.status).toBe(204)
    expect(replaced.headers.etag).not.toBe(created.headers.etag)

    const read = await call('GET', '/kv/pet%2Fdog')
    expect(read.status).toBe(200)
    expect(read.body.toString()).toBe('bark')
    expect(read.headers['content-type']).toBe('application/octet-stream')
    expect(read.headers.etag).toBe(replaced.headers.etag)
  })
})
