/**
 * Conditional writes (RFC 9110 section 13.1): the If-Match and If-None-Match headers of
 * a PUT or DELETE, from the ETags the client handed out.
 */

/**
 * An ETag as the client returns it (`"3"`; an unquoted `3` is quoted for you), a list
 * of them, or `'*'` for "any value".
 *
 * @example
 * await client.delete('pet/cat', { ifMatch: ['"3"', '"4"'] })
 */
export type Condition = '*' | string | readonly string[]

/**
 * The conditions of a `put` or `delete`; when one does not hold the write does not
 * happen and the call throws `PRECONDITION_FAILED`.
 *
 * @example
 * await client.put('lock', 'me', { ifNoneMatch: '*' }) // only if nobody holds it
 */
export type WriteConditions = {
  /** Write only if the current value has one of these ETags; `'*'`: only if the key exists. */
  ifMatch?: Condition
  /** `'*'`: only if the key does not exist (create only); ETags: only if none matches. */
  ifNoneMatch?: Condition
}

function quoted(tag: string): string {
  return /^(W\/)?"/.test(tag) ? tag : `"${tag}"`
}

function headerValue(condition: Condition, name: string): string {
  if (condition === '*') return '*'
  const tags = typeof condition === 'string' ? [condition] : condition
  if (!Array.isArray(tags) || tags.length === 0 || tags.some((tag) => typeof tag !== 'string')) {
    throw new TypeError(`option '${name}' must be '*', an ETag or a non-empty list of ETags`)
  }
  return tags.map(quoted).join(', ')
}

export function conditionHeaders(conditions: WriteConditions): Record<string, string> {
  const headers: Record<string, string> = {}
  if (conditions.ifMatch !== undefined) {
    headers['if-match'] = headerValue(conditions.ifMatch, 'ifMatch')
  }
  if (conditions.ifNoneMatch !== undefined) {
    headers['if-none-match'] = headerValue(conditions.ifNoneMatch, 'ifNoneMatch')
  }
  return headers
}
