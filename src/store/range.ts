/**
 * Turns a Selection (from, to, after, before, prefix) into one byte-wise key range with
 * at most one lower and one upper bound, so that every engine scans an index range and
 * never matches patterns.
 */
import type { Selection } from './types.js'

export type Bound = { key: Buffer; inclusive: boolean }

export type KeyRange = {
  lower?: Bound
  upper?: Bound
  /** True when no key can satisfy the selection (for example from > to). */
  empty: boolean
}

/**
 * The smallest key greater than every key that starts with `prefix`: the prefix with its
 * last byte that is not 0xFF incremented and everything after it dropped. A prefix made
 * only of 0xFF bytes has no such key, so the range is open above.
 */
export function prefixEnd(prefix: Buffer): Buffer | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const byte = prefix[i] as number
    if (byte !== 0xff) {
      const end = Buffer.from(prefix.subarray(0, i + 1))
      end[i] = byte + 1
      return end
    }
  }
  return undefined
}

function tighterLower(a: Bound | undefined, b: Bound): Bound {
  if (!a) return b
  const order = Buffer.compare(a.key, b.key)
  if (order !== 0) return order > 0 ? a : b
  return a.inclusive ? b : a
}

function tighterUpper(a: Bound | undefined, b: Bound): Bound {
  if (!a) return b
  const order = Buffer.compare(a.key, b.key)
  if (order !== 0) return order < 0 ? a : b
  return a.inclusive ? b : a
}

export function selectionToRange(selection: Selection): KeyRange {
  let lower: Bound | undefined
  let upper: Bound | undefined

  if (selection.from) lower = tighterLower(lower, { key: selection.from, inclusive: true })
  if (selection.after) lower = tighterLower(lower, { key: selection.after, inclusive: false })
  if (selection.to) upper = tighterUpper(upper, { key: selection.to, inclusive: true })
  if (selection.before) upper = tighterUpper(upper, { key: selection.before, inclusive: false })

  if (selection.prefix && selection.prefix.length > 0) {
    lower = tighterLower(lower, { key: selection.prefix, inclusive: true })
    const end = prefixEnd(selection.prefix)
    if (end) upper = tighterUpper(upper, { key: end, inclusive: false })
  }

  return { lower, upper, empty: isEmpty(lower, upper) }
}

function isEmpty(lower: Bound | undefined, upper: Bound | undefined): boolean {
  if (!lower || !upper) return false
  const order = Buffer.compare(lower.key, upper.key)
  if (order !== 0) return order > 0
  return !(lower.inclusive && upper.inclusive)
}
