/**
 * GET /keys, GET /items, GET /count and DELETE /keys over HTTP, row by row of the
 * Listing section of the contract: selections, strip, limit, reverse, paging, keys that
 * are not text, every format and its negotiation, flags, and every refusal with its code.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { call } from './helpers/http.js'
import {
  ACCEPT,
  CONTENT_TYPES,
  decode,
  keyTexts,
  list,
  listed,
  load,
  queryValue,
  reset,
  type Format,
} from './helpers/listing.js'
import { put } from './helpers/records.js'
import { startServer, type TestServer } from './helpers/server.js'

let server: TestServer
let url: string

beforeAll(async () => {
  server = await startServer({ maxKeyBytes: 64 })
  url = server.url
})
afterAll(async () => {
  await server.close()
})

const bytes = (...values: number[]) => Buffer.from(values)

/** The error body of a refused request, checked for its status and Fastify's shape. */
async function refused(method: string, path: string, status = 400, headers = {}) {
  const answer = await call(url, method, path, { headers })
  const body = answer.json() as Record<string, unknown>
  expect(answer.status).toBe(status)
  expect(body).toMatchObject({ statusCode: status, code: expect.any(String) })
  expect(typeof body.error).toBe('string')
  expect(typeof body.message).toBe('string')
  return body.code
}

describe('the listing examples', () => {
  beforeAll(async () => {
    await reset(url)
    await load(
      url,
      ['1', '2', '3', '11', '12'].map((key) => put(key, `v${key}`)),
    )
  })

  it('lists every key byte-wise, so that 11 and 12 come before 2', async () => {
    expect(await keyTexts(url)).toEqual(['1', '11', '12', '2', '3'])
  })

  it('starts at from, inclusive, and ends at to, inclusive', async () => {
    expect(await keyTexts(url, 'from=12')).toEqual(['12', '2', '3'])
    expect(await keyTexts(url, 'from=12&to=2')).toEqual(['12', '2'])
  })

  it('lists the items from 12 as the three key and value pairs', async () => {
    const items = await listed(url, 'items', 'from=12')
    expect(items.map(({ key, value }) => [String(key), String(value)])).toEqual([
      ['12', 'v12'],
      ['2', 'v2'],
      ['3', 'v3'],
    ])
  })

  it('excludes after and before, and combines every bound with AND', async () => {
    expect(await keyTexts(url, 'after=11&before=3')).toEqual(['12', '2'])
    expect(await keyTexts(url, 'after=3')).toEqual([])
    expect(await keyTexts(url, 'after=1&to=12')).toEqual(['11', '12'])
    expect(await keyTexts(url, 'from=11&before=3&prefix=1')).toEqual(['11', '12'])
  })

  it('answers an empty 200 when from is greater than to, in every format', async () => {
    expect(await keyTexts(url, 'from=3&to=1')).toEqual([])
    for (const format of ['ndjson', 'json', 'frames'] as const) {
      const answer = await list(url, 'items', 'from=3&to=1', { format })
      expect(answer.status).toBe(200)
      expect(answer.body.toString()).toBe(format === 'json' ? '[]' : '')
    }
  })

  it('lists in descending order with reverse, within the same bounds', async () => {
    expect(await keyTexts(url, 'reverse')).toEqual(['3', '2', '12', '11', '1'])
    expect(await keyTexts(url, 'reverse&from=11&to=2')).toEqual(['2', '12', '11'])
    expect(await keyTexts(url, 'reverse&limit=2')).toEqual(['3', '2'])
  })

  it('stops after limit records, and lists nothing for limit=0', async () => {
    expect(await keyTexts(url, 'limit=2')).toEqual(['1', '11'])
    expect(await keyTexts(url, 'limit=0')).toEqual([])
    expect(await keyTexts(url, 'limit=99999999999999999999999')).toHaveLength(5)
  })

  it('counts a selection, and everything with no selection', async () => {
    const count = async (query: string) => (await call(url, 'GET', `/count${query}`)).json()
    expect(await count('')).toEqual({ count: 5 })
    expect(await count('?from=12&to=2')).toEqual({ count: 2 })
    expect(await count('?after=1&before=2')).toEqual({ count: 2 })
    expect(await count('?prefix=1')).toEqual({ count: 3 })
    expect(await count('?from=3&to=1')).toEqual({ count: 0 })
  })
})

describe('prefixes', () => {
  beforeAll(async () => {
    await reset(url)
    const keys = ['pe', 'pet', 'pet/cat', 'pet/dog', 'pet/wolf', 'pets', 'peu', 'Pet/cat']
    await load(
      url,
      keys.map((key) => put(key, key.toUpperCase())),
    )
  })

  it('lists only the keys that start with the prefix', async () => {
    expect(await keyTexts(url, 'prefix=pet/')).toEqual(['pet/cat', 'pet/dog', 'pet/wolf'])
    expect(await keyTexts(url, 'prefix=pet')).toEqual([
      'pet',
      'pet/cat',
      'pet/dog',
      'pet/wolf',
      'pets',
    ])
  })

  it('strips the prefix with strip, and a key equal to the prefix becomes ""', async () => {
    expect(await keyTexts(url, 'prefix=pet/&strip')).toEqual(['cat', 'dog', 'wolf'])
    expect(await keyTexts(url, 'prefix=pet&strip&limit=2')).toEqual(['', '/cat'])
    const frame = await list(url, 'keys', 'prefix=pet&strip&limit=1', { format: 'frames' })
    expect(frame.body).toEqual(bytes(0, 0, 0, 0))
    const items = await listed(url, 'items', 'prefix=pet/&strip&reverse', { format: 'json' })
    expect(items.map(({ key, value }) => `${key}=${value}`)).toEqual([
      'wolf=PET/WOLF',
      'dog=PET/DOG',
      'cat=PET/CAT',
    ])
  })

  it('reads from, to, after and before as whole keys beside prefix and strip', async () => {
    expect(await keyTexts(url, 'prefix=pet/&strip&from=pet/d')).toEqual(['dog', 'wolf'])
    expect(await keyTexts(url, 'prefix=pet/&strip&after=pet/dog')).toEqual(['wolf'])
    expect(await keyTexts(url, 'prefix=pet/&to=pet/dog')).toEqual(['pet/cat', 'pet/dog'])
    expect(await keyTexts(url, 'prefix=pet/&from=wolf')).toEqual([])
    expect(await keyTexts(url, 'prefix=pet/&before=pet/cat')).toEqual([])
  })

  it('takes a prefix as bytes: case matters and an empty prefix selects everything', async () => {
    expect(await keyTexts(url, 'prefix=Pet')).toEqual(['Pet/cat'])
    expect(await keyTexts(url, 'prefix=PET')).toEqual([])
    expect(await keyTexts(url, 'prefix=')).toHaveLength(8)
    expect(await keyTexts(url, 'prefix=&strip')).toHaveLength(8)
  })

  it('counts and deletes under a prefix', async () => {
    expect((await call(url, 'GET', '/count?prefix=pet/')).json()).toEqual({ count: 3 })
    const deleted = await call(url, 'DELETE', '/keys?prefix=pet/')
    expect(deleted.status).toBe(200)
    expect(deleted.json()).toEqual({ deleted: 3 })
    expect(await keyTexts(url)).toEqual(['Pet/cat', 'pe', 'pet', 'pets', 'peu'])
  })
})

describe('prefixes and bounds that are not text', () => {
  const keys = [
    Buffer.from('a%b'),
    Buffer.from('a%c'),
    Buffer.from('a_b'),
    Buffer.from('aXb'),
    Buffer.from('a*b'),
    Buffer.from('a b'),
    Buffer.from('a+b'),
    bytes(0x00),
    bytes(0x00, 0x00),
    bytes(0x00, 0x01),
    bytes(0x7f),
    bytes(0xff),
    bytes(0xff, 0x00),
    bytes(0xff, 0xff),
    bytes(0xff, 0xff, 0x01),
    bytes(0xfe, 0xff),
  ]
  const hex = (records: Array<{ key: Buffer }>) => records.map(({ key }) => key.toString('hex'))
  const keysOf = async (query: string) => hex(await listed(url, 'keys', query))

  beforeAll(async () => {
    await reset(url)
    await load(
      url,
      keys.map((key) => ({ key, value: key })),
    )
  })

  it('takes %, _ and * in a prefix literally, never as wildcards', async () => {
    expect(await keyTexts(url, 'prefix=a%25')).toEqual(['a%b', 'a%c'])
    expect(await keyTexts(url, 'prefix=a_')).toEqual(['a_b'])
    expect(await keyTexts(url, 'prefix=a*')).toEqual(['a*b'])
    expect(await keyTexts(url, 'prefix=a%25b')).toEqual(['a%b'])
  })

  it('decodes + in a query as a space, and %2B as a plus', async () => {
    expect(await keyTexts(url, 'prefix=a+')).toEqual(['a b'])
    expect(await keyTexts(url, 'prefix=a%20')).toEqual(['a b'])
    expect(await keyTexts(url, 'prefix=a%2B')).toEqual(['a+b'])
    expect(await keyTexts(url, 'from=a+b&to=a%2Bb')).toEqual(['a b', 'a%b', 'a%c', 'a*b', 'a+b'])
  })

  it('takes %00 and %FF in bounds and prefixes as the bytes 0x00 and 0xFF', async () => {
    expect(await keysOf('prefix=%00')).toEqual(['00', '0000', '0001'])
    expect(await keysOf('after=%00&to=%00%01')).toEqual(['0000', '0001'])
    expect(await keysOf('from=%FE&before=%FF%00')).toEqual(['feff', 'ff'])
    expect(await keysOf('prefix=%FE%FF')).toEqual(['feff'])
  })

  it('lists every key above a prefix made only of 0xFF bytes', async () => {
    expect(await keysOf('prefix=%FF')).toEqual(['ff', 'ff00', 'ffff', 'ffff01'])
    expect(await keysOf('prefix=%FF%FF')).toEqual(['ffff', 'ffff01'])
    expect(await keysOf('prefix=%FF%FF&reverse&strip')).toEqual(['01', ''])
    expect((await call(url, 'GET', '/count?prefix=%FF')).json()).toEqual({ count: 4 })
  })

  it('writes keys that are not UTF-8 as key_b64, and every field as _b64 with base64', async () => {
    const utf8 = await list(url, 'items', 'prefix=%FF%FF')
    expect(utf8.body.toString()).toBe(
      '{"key_b64":"//8=","value_b64":"//8="}\n{"key_b64":"//8B","value_b64":"//8B"}\n',
    )
    const text = await list(url, 'items', 'prefix=a_', { format: 'json' })
    expect(text.json()).toEqual([{ key: 'a_b', value: 'a_b' }])
    const base64 = await list(url, 'keys', 'prefix=a_&encoding=base64', { format: 'json' })
    expect(base64.json()).toEqual([{ key_b64: Buffer.from('a_b').toString('base64') }])
    const explicit = await list(url, 'keys', 'prefix=a_&encoding=utf8')
    expect(explicit.body.toString()).toBe('{"key":"a_b"}\n')
  })

  it('round-trips every stored key through a percent-encoded from and to', async () => {
    for (const key of keys) {
      const query = `from=${queryValue(key)}&to=${queryValue(key)}`
      expect(await keysOf(query)).toEqual([key.toString('hex')])
    }
  })
})

describe('paging', () => {
  const all = Array.from({ length: 23 }, (_, i) => `page/${String(i).padStart(3, '0')}`)

  beforeAll(async () => {
    await reset(url)
    await load(
      url,
      all.map((key) => put(key, key)),
    )
  })

  async function pages(first: string, next: (last: string) => string, limit: number) {
    const seen: string[][] = []
    let query = first
    for (;;) {
      const page = await keyTexts(url, `${query}&limit=${limit}`)
      seen.push(page)
      if (page.length < limit) return seen
      query = next(page[page.length - 1] as string)
    }
  }

  for (const limit of [1, 5, 23]) {
    it(`pages forwards with limit=${limit} and after until a short page`, async () => {
      const seen = await pages('prefix=page/', (last) => `prefix=page/&after=${last}`, limit)
      expect(seen.flat()).toEqual(all)
      expect(seen.length).toBe(Math.floor(all.length / limit) + 1)
    })

    it(`pages backwards with limit=${limit}, reverse and before`, async () => {
      const seen = await pages('reverse', (last) => `reverse&before=${last}`, limit)
      expect(seen.flat()).toEqual([...all].reverse())
    })
  }
})

describe('a limit when a large value goes during the scan', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('lists limit items when a large value is deleted between its page and its read', async () => {
    await reset(url)
    const large = 'x'.repeat(20_000)
    await load(url, [put('r/a', '1'), put('r/b', large), put('r/c', '3'), put('r/d', '4')])
    const read = server.store.get.bind(server.store)
    vi.spyOn(server.store, 'get').mockImplementation(async (key) => {
      if (String(key) === 'r/b') await server.store.delete(key)
      return read(key)
    })

    const items = await listed(url, 'items', 'prefix=r/&limit=3')
    expect(items.map(({ key }) => String(key))).toEqual(['r/a', 'r/c', 'r/d'])
  })
})

describe('selections larger than a page of the scan or a chunk of a count', () => {
  const KEYS = 120_500
  const key = (i: number) => `n/${String(i).padStart(6, '0')}`

  beforeAll(async () => {
    await reset(url)
    await load(
      url,
      Array.from({ length: KEYS }, (_, i) => put(key(i), '')),
    )
  })

  it('counts across chunks exactly', async () => {
    const count = async (query: string) => (await call(url, 'GET', `/count?${query}`)).json()
    expect(await count('prefix=n/')).toEqual({ count: KEYS })
    expect(await count(`from=${key(50_000)}&before=${key(100_001)}`)).toEqual({ count: 50_001 })
    expect(await count(`after=${key(0)}`)).toEqual({ count: KEYS - 1 })
  })

  it('lists across pages with no key lost or repeated', async () => {
    const keys = await keyTexts(url, `after=${key(999)}&limit=2001`)
    expect(keys).toEqual(Array.from({ length: 2001 }, (_, i) => key(1000 + i)))
    const backwards = await keyTexts(url, `reverse&to=${key(3000)}&limit=2500`)
    expect(backwards).toEqual(Array.from({ length: 2500 }, (_, i) => key(3000 - i)))
  })

  it('deletes across chunks exactly the selection', async () => {
    const answer = await call(url, 'DELETE', `/keys?from=${key(10_000)}&to=${key(14_999)}`)
    expect(answer.json()).toEqual({ deleted: 5000 })
    expect((await call(url, 'GET', '/count')).json()).toEqual({ count: KEYS - 5000 })
    expect(await keyTexts(url, `after=${key(9_998)}&limit=2`)).toEqual([key(9_999), key(15_000)])
  })
})

describe('formats', () => {
  beforeAll(async () => {
    await reset(url)
    await load(url, [
      put('f/a', 'alpha'),
      put('f/b', ''),
      { key: bytes(0x66, 0x2f, 0xff), value: bytes(0x00, 0xc3) },
      put('f/é', 'é"\n\\'),
    ])
  })

  // Byte-wise, 'é' (0xC3 0xA9) sorts before 0xFF.
  const expected = [
    ['f/a', 'alpha'],
    ['f/b', ''],
    ['f/é', 'é"\n\\'],
    ['662fff', '00c3'],
  ]
  const shown = (records: Array<{ key: Buffer; value?: Buffer }>) =>
    records.map(({ key, value }) =>
      key[2] === 0xff
        ? [key.toString('hex'), value?.toString('hex')]
        : [key.toString(), value?.toString()],
    )

  const negotiated: Array<[string | undefined, Format]> = [
    [undefined, 'ndjson'],
    ['', 'ndjson'],
    ['*/*', 'ndjson'],
    ['application/*', 'ndjson'],
    ['application/x-ndjson', 'ndjson'],
    ['application/json', 'json'],
    ['application/octet-stream', 'frames'],
    ['Application/JSON; charset=utf-8', 'json'],
    ['text/html, application/json;q=0.5, application/octet-stream;q=0.4', 'json'],
    ['application/json;q=0.5, application/octet-stream;q=0.8', 'frames'],
    ['application/json;q=0.9, */*;q=0.1', 'json'],
    ['application/json;q=0.5, application/x-ndjson;q=0.5', 'ndjson'],
    ['application/x-ndjson;q=0, application/*', 'json'],
    ['application/x-ndjson;q=0, application/json;q=0, */*', 'frames'],
    ['application/json;q=0.7, */*;q=0.7', 'ndjson'],
  ]

  for (const [accept, format] of negotiated) {
    it(`answers ${format} for Accept ${JSON.stringify(accept ?? null)}`, async () => {
      const answer = await list(url, 'items', '', { accept })
      expect(answer.status).toBe(200)
      expect(answer.headers['content-type']).toMatch(CONTENT_TYPES[format])
      expect(shown(decode(answer.body, 'items', format))).toEqual(expected)
    })
  }

  for (const accept of [
    'text/html',
    'text/*',
    'application/xml',
    'application/json;q=0',
    '*/*;q=0',
    'image/png, text/plain;q=0.9',
    'nonsense',
  ]) {
    it(`answers 406 NOT_ACCEPTABLE for Accept ${accept}`, async () => {
      expect(await refused('GET', '/keys', 406, { accept })).toBe('NOT_ACCEPTABLE')
      expect(await refused('GET', '/items?prefix=f', 406, { accept })).toBe('NOT_ACCEPTABLE')
    })
  }

  it('writes NDJSON as one object per line, each line ending in a newline', async () => {
    const answer = await list(url, 'keys', 'to=f/b')
    expect(answer.body.toString()).toBe('{"key":"f/a"}\n{"key":"f/b"}\n')
  })

  it('writes one JSON array of the same objects with Accept: application/json', async () => {
    const answer = await list(url, 'items', 'to=f/b', { format: 'json' })
    expect(JSON.parse(answer.body.toString())).toEqual([
      { key: 'f/a', value: 'alpha' },
      { key: 'f/b', value: '' },
    ])
  })

  it('writes big-endian length frames: one per key, two per item', async () => {
    const keys = await list(url, 'keys', 'to=f/a', { format: 'frames' })
    expect(keys.body).toEqual(Buffer.concat([bytes(0, 0, 0, 3), Buffer.from('f/a')]))
    const items = await list(url, 'items', 'from=f/b&to=f/b', { format: 'frames' })
    expect(items.body).toEqual(
      Buffer.concat([bytes(0, 0, 0, 3), Buffer.from('f/b'), bytes(0, 0, 0, 0)]),
    )
  })

  it('uses key_b64 and value_b64 field by field under utf8, and both under base64', async () => {
    const utf8 = await list(url, 'items', 'from=f/%FF&to=f/%FF')
    expect(utf8.body.toString()).toBe('{"key_b64":"Zi//","value_b64":"AMM="}\n')
    const base64 = await list(url, 'items', 'to=f/a&encoding=base64')
    expect(base64.body.toString()).toBe('{"key_b64":"Zi9h","value_b64":"YWxwaGE="}\n')
    const mixed = await list(url, 'items', 'from=f/%C3%A9&to=f/%C3%A9')
    expect(mixed.json()).toEqual({ key: 'f/é', value: 'é"\n\\' })
  })

  it('ignores encoding in frames, which carry bytes as they are', async () => {
    const plain = await list(url, 'items', '', { format: 'frames' })
    const base64 = await list(url, 'items', 'encoding=base64', { format: 'frames' })
    expect(base64.body).toEqual(plain.body)
  })

  it('answers HEAD with the headers a listing would have and no body', async () => {
    const answer = await call(url, 'HEAD', '/items?prefix=f', { headers: { accept: ACCEPT.json } })
    expect(answer.status).toBe(200)
    expect(answer.headers['content-type']).toMatch(CONTENT_TYPES.json)
    expect(answer.body.length).toBe(0)
  })
})

describe('values of every size', () => {
  // Around the sizes where the store reads a value on its own (16 KiB) and where a
  // frame sends a value apart from its page (64 KiB).
  const sizes = [0, 1, 16 * 1024, 16 * 1024 + 1, 64 * 1024 - 1, 64 * 1024, 1024 * 1024 + 3]
  const records = sizes.map((size, i) => ({
    key: Buffer.from(`size/${i}`),
    value: Buffer.alloc(size, `${i}`),
  }))

  beforeAll(async () => {
    await reset(url)
    await load(url, records)
  })

  for (const format of ['ndjson', 'json', 'frames'] as const) {
    it(`lists every value whole in ${format}, forwards, backwards and limited`, async () => {
      const seen = async (query: string) =>
        (await listed(url, 'items', query, { format })).map(({ key, value }) => {
          const whole = query.includes('strip') ? Buffer.concat([Buffer.from('size/'), key]) : key
          const record = records.find((r) => r.key.equals(whole))
          return record?.value.equals(value as Buffer) ? String(key) : `${key} differs`
        })
      const names = records.map(({ key }) => String(key))

      expect(await seen('')).toEqual(names)
      expect(await seen('reverse')).toEqual([...names].reverse())
      expect(await seen('limit=3&after=size/1')).toEqual(names.slice(2, 5))
      expect(await seen('prefix=size/&strip&limit=2&reverse')).toEqual(['6', '5'])
    })
  }
})

describe('flags', () => {
  beforeAll(async () => {
    await reset(url)
    await load(url, [put('x/a', '1'), put('x/b', '2')])
  })

  for (const spelling of ['', '=1', '=true', '=tru%65']) {
    it(`takes strip${spelling} and reverse${spelling} as true`, async () => {
      expect(await keyTexts(url, `prefix=x/&strip${spelling}`)).toEqual(['a', 'b'])
      expect(await keyTexts(url, `prefix=x/&reverse${spelling}`)).toEqual(['x/b', 'x/a'])
    })
  }

  for (const spelling of ['=0', '=false']) {
    it(`takes strip${spelling} and reverse${spelling} as false, even with no prefix`, async () => {
      expect(await keyTexts(url, `prefix=x/&strip${spelling}&reverse${spelling}`)).toEqual([
        'x/a',
        'x/b',
      ])
      expect(await keyTexts(url, `strip${spelling}`)).toEqual(['x/a', 'x/b'])
    })
  }

  for (const value of ['yes', '2', 'TRUE', 'on', '%20', 'true%00']) {
    it(`answers 400 INVALID_QUERY for strip=${value} and reverse=${value}`, async () => {
      expect(await refused('GET', `/keys?prefix=x/&strip=${value}`)).toBe('INVALID_QUERY')
      expect(await refused('GET', `/items?reverse=${value}`)).toBe('INVALID_QUERY')
    })
  }
})

describe('what a listing refuses', () => {
  const invalid = [
    'color=red',
    'Limit=1',
    'prefix=x&strip&x',
    'from=a&after=b',
    'to=a&before=b',
    'strip',
    'strip=1&from=a',
    'limit=-1',
    'limit=1.5',
    'limit=ten',
    'limit=',
    'limit=1e3',
    'limit=%2B1',
    'limit=1&limit=2',
    'from=a&from=b',
    'encoding=hex',
    'encoding=UTF8',
    'encoding=',
    'limit=%G1',
  ]

  for (const query of invalid) {
    it(`answers 400 INVALID_QUERY for ?${query} on keys and items`, async () => {
      expect(await refused('GET', `/keys?${query}`)).toBe('INVALID_QUERY')
      expect(await refused('GET', `/items?${query}`)).toBe('INVALID_QUERY')
    })
  }

  for (const [query, code] of [
    ['from=%G1', 'INVALID_KEY'],
    ['to=abc%', 'INVALID_KEY'],
    ['prefix=%4', 'INVALID_KEY'],
    ['after=', 'INVALID_KEY'],
    ['to=', 'INVALID_KEY'],
    [`from=${'k'.repeat(65)}`, 'KEY_TOO_LARGE'],
    [`prefix=${'%FF'.repeat(65)}`, 'KEY_TOO_LARGE'],
  ]) {
    it(`answers 400 ${code} for the bound ?${query}`, async () => {
      expect(await refused('GET', `/keys?${query}`)).toBe(code)
      expect(await refused('GET', `/count?${query}`)).toBe(code)
    })
  }
})

describe('GET /count and DELETE /keys', () => {
  beforeEach(async () => {
    await reset(url)
    await load(
      url,
      ['d/1', 'd/2', 'd/3', 'e/1', 'e/2'].map((key) => put(key, key)),
    )
  })

  it('deletes a selection and answers how many keys went', async () => {
    const answer = await call(url, 'DELETE', '/keys?from=d/2&to=e/1')
    expect(answer.status).toBe(200)
    expect(answer.json()).toEqual({ deleted: 3 })
    expect(await keyTexts(url)).toEqual(['d/1', 'e/2'])
    expect((await call(url, 'DELETE', '/keys?from=d/2&to=e/1')).json()).toEqual({ deleted: 0 })
  })

  it('deletes with after and before, exclusive', async () => {
    expect((await call(url, 'DELETE', '/keys?after=d/1&before=e/2')).json()).toEqual({
      deleted: 3,
    })
    expect(await keyTexts(url)).toEqual(['d/1', 'e/2'])
  })

  it('deletes nothing when from is greater than to', async () => {
    expect((await call(url, 'DELETE', '/keys?from=e&to=d')).json()).toEqual({ deleted: 0 })
    expect((await call(url, 'GET', '/count')).json()).toEqual({ count: 5 })
  })

  it('deletes everything with all=true only', async () => {
    for (const query of ['', '?all=false', '?all=0', '?prefix=', '?all=no']) {
      expect(await refused('DELETE', `/keys${query}`)).toBe('INVALID_QUERY')
    }
    expect(await refused('DELETE', '/keys?all=true&prefix=d/')).toBe('INVALID_QUERY')
    expect((await call(url, 'GET', '/count')).json()).toEqual({ count: 5 })

    expect((await call(url, 'DELETE', '/keys?all=true')).json()).toEqual({ deleted: 5 })
    expect((await call(url, 'GET', '/count')).json()).toEqual({ count: 0 })
  })

  for (const spelling of ['all', 'all=1', 'all=tru%65']) {
    it(`deletes everything with ?${spelling}`, async () => {
      expect((await call(url, 'DELETE', `/keys?${spelling}`)).json()).toEqual({ deleted: 5 })
      expect(await keyTexts(url)).toEqual([])
    })
  }

  for (const query of ['limit=1', 'reverse', 'strip', 'encoding=utf8', 'color=red']) {
    it(`answers 400 INVALID_QUERY for ${query} on count and delete, deleting nothing`, async () => {
      expect(await refused('GET', `/count?prefix=d/&${query}`)).toBe('INVALID_QUERY')
      expect(await refused('DELETE', `/keys?prefix=d/&${query}`)).toBe('INVALID_QUERY')
      expect((await call(url, 'GET', '/count')).json()).toEqual({ count: 5 })
    })
  }

  for (const query of ['from=e&after=d', 'to=e&before=d', 'all=true']) {
    it(`answers 400 INVALID_QUERY for ${query} on count`, async () => {
      expect(await refused('GET', `/count?${query}`)).toBe('INVALID_QUERY')
    })
  }
})
