/**
 * The query-string parser given to Fastify. It splits the string into names and values
 * but leaves every value percent-encoded, because bounds and prefixes are bytes and
 * must be decoded byte-wise by the route that knows what they mean (see percent.ts).
 * A name given twice collects its values in an array, which validation then refuses.
 */
import { percentDecodeBytes } from './percent.js'

export type RawQuery = Record<string, string | string[]>

function decodeName(name: string): string {
  try {
    return percentDecodeBytes(name, true).toString('utf8')
  } catch {
    // A name with a broken escape cannot be any known parameter; keep it as sent so
    // that validation names it in its answer.
    return name
  }
}

export function parseRawQuery(query: string): RawQuery {
  const result: RawQuery = Object.create(null) as RawQuery
  if (query === '') return result

  for (const part of query.split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    const name = decodeName(eq < 0 ? part : part.slice(0, eq))
    const value = eq < 0 ? '' : part.slice(eq + 1)

    const previous = result[name]
    if (previous === undefined) result[name] = value
    else if (Array.isArray(previous)) previous.push(value)
    else result[name] = [previous, value]
  }
  return result
}
