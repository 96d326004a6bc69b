/**
 * The HTTP side of the client: one undici Pool of keep-alive connections to the server,
 * the bearer token on every request, and paths sent exactly as built. (undici's
 * top-level request() would parse the path as a URL and fold `/../` or `%2e`, changing
 * a key; a Pool's request takes the path as it is.)
 */
import type { Readable } from 'node:stream'
import { Pool, type Dispatcher } from 'undici'

/**
 * How to reach the server.
 *
 * @example
 * new ParkdClient({ url: 'https://kv.example.com/parkd', token: 'secret', connections: 16 })
 */
export type ClientOptions = {
  /**
   * The server's base URL, e.g. `http://127.0.0.1:8080`. A path is kept as a prefix of
   * every request (for a server behind a proxy at `https://host/parkd`).
   */
  url: string | URL
  /** Sent as `Authorization: Bearer <token>` when the server requires one. */
  token?: string
  /** Keep-alive connections the client opens at most (default 8). */
  connections?: number
  /**
   * Milliseconds to wait for the headers of an answer; 0 waits forever, undici's
   * default (300 s) applies when not given. A batch is answered once its upload ends,
   * but the wait starts again with every piece of the upload that leaves.
   */
  headersTimeout?: number
  /** Milliseconds without a byte of an answer's body before giving up; 0 waits forever. */
  bodyTimeout?: number
}

export type Method = 'GET' | 'HEAD' | 'PUT' | 'DELETE' | 'POST'

export type CallOptions = {
  headers?: Record<string, string>
  body?: Buffer | Readable
  signal?: AbortSignal
}

function baseUrl(url: unknown): URL {
  let parsed: URL
  try {
    parsed = new URL(url as string)
  } catch {
    throw new TypeError(`option 'url' must be an absolute http or https URL; got ${String(url)}`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError(`option 'url' must use http or https; got ${parsed.protocol}`)
  }
  if (parsed.search !== '' || parsed.hash !== '') {
    throw new TypeError("option 'url' must have no query or fragment")
  }
  return parsed
}

function integer(value: unknown, name: string, least: number): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < least) {
    throw new TypeError(`option '${name}' must be an integer >= ${least}; got ${String(value)}`)
  }
  return value
}

function authorization(token: unknown): Record<string, string> {
  if (token === undefined) return {}
  if (typeof token !== 'string' || token === '') {
    throw new TypeError("option 'token' must be a non-empty string")
  }
  return { authorization: `Bearer ${token}` }
}

export class Transport {
  readonly #pool: Pool
  /** The URL's path without its trailing slash, put before every request path. */
  readonly #basePath: string
  readonly #headers: Record<string, string>

  constructor(options: ClientOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('the client needs options with a url')
    }
    const url = baseUrl(options.url)
    this.#basePath = url.pathname.replace(/\/+$/, '')
    this.#headers = authorization(options.token)
    this.#pool = new Pool(url.origin, {
      connections: integer(options.connections, 'connections', 1) ?? 8,
      headersTimeout: integer(options.headersTimeout, 'headersTimeout', 0),
      bodyTimeout: integer(options.bodyTimeout, 'bodyTimeout', 0),
    })
  }

  /** Sends one request; the caller reads the answer's body to its end. */
  call(method: Method, path: string, options: CallOptions = {}): Promise<Dispatcher.ResponseData> {
    return this.#pool.request({
      method,
      path: this.#basePath + path,
      headers: { ...this.#headers, ...options.headers },
      body: options.body,
      signal: options.signal,
    })
  }

  /** Waits for requests in flight, then closes every connection. */
  close(): Promise<void> {
    return this.#pool.close()
  }
}
