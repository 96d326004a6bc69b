/**
 * Keys as they arrive on the wire: percent-decoded byte-wise, then checked against the
 * limits. A malformed key is refused, never repaired.
 */
import { ParkdError } from '../errors.js'
import { MalformedEscapeError, percentDecodeBytes } from './percent.js'

export type KeyLimits = { maxKeyBytes: number }

function decode(encoded: string, plusIsSpace: boolean, what: string): Buffer {
  try {
    return percentDecodeBytes(encoded, plusIsSpace)
  } catch (error) {
    if (error instanceof MalformedEscapeError) {
      throw new ParkdError('INVALID_KEY', `${what} has a ${error.message}`)
    }
    throw error
  }
}

function checkLength(key: Buffer, limits: KeyLimits, what: string): Buffer {
  if (key.length === 0) throw new ParkdError('INVALID_KEY', `${what} is empty`)
  if (key.length > limits.maxKeyBytes) {
    throw new ParkdError(
      'KEY_TOO_LARGE',
      `${what} is ${key.length} bytes; the limit is ${limits.maxKeyBytes}`,
    )
  }
  return key
}

/** The key of `/kv/{key}`, from the raw (still percent-encoded) path after `/kv/`. */
export function keyFromPath(encoded: string, limits: KeyLimits): Buffer {
  return checkLength(decode(encoded, false, 'the key'), limits, 'the key')
}
