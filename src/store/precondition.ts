/**
 * Checks a write's precondition against the key's current version, with the semantics
 * of RFC 9110 sections 13.1.1 and 13.1.2 (strong comparison): If-Match fails on a
 * missing key or a version outside the list; If-None-Match fails on an existing key
 * (`*`) or a version inside the list.
 */
import { ParkdError } from '../errors.js'
import type { Precondition, Version } from './types.js'

export function preconditionHolds(
  current: Version | undefined,
  precondition: Precondition | undefined,
): boolean {
  if (!precondition) return true
  const { ifMatch, ifNoneMatch } = precondition

  if (ifMatch !== undefined) {
    if (current === undefined) return false
    if (ifMatch !== '*' && !ifMatch.includes(current)) return false
  }

  if (ifNoneMatch !== undefined && current !== undefined) {
    if (ifNoneMatch === '*' || ifNoneMatch.includes(current)) return false
  }

  return true
}

export function assertPrecondition(
  current: Version | undefined,
  precondition: Precondition | undefined,
): void {
  if (!preconditionHolds(current, precondition)) throw new ParkdError('PRECONDITION_FAILED')
}
