/**
 * Small undici helpers for tests: every response body is read to the end. Requests go
 * through a Pool, which sends the path exactly as given (undici's top-level request()
 * parses it as a URL and so would fold `/../`, `%2e` and `\`, changing the key).
 */
import { Pool } from 'undici'

export type Answer = {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
  json: () => unknown
}

const pools = new Map<string, Pool>()

export function poolFor(base: string): Pool {
  let pool = pools.get(base)
  if (!pool) {
    pool = new Pool(base, { connections: 8 })
    pools.set(base, pool)
  }
  return pool
}

export async function call(
  base: string,
  method: string,
  path: string,
  options: { body?: Buffer | string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const response = await poolFor(base).request({
    path,
    method: method as 'GET',
    body: options.body,
    headers: options.headers,
  })
  const body = Buffer.from(await response.body.arrayBuffer())
  return {
    status: response.statusCode,
    headers: response.headers,
    body,
    json: () => JSON.parse(body.toString('utf8')),
  }
}
