/**
 * Content negotiation for listings (RFC 9110 section 12.5.1): each offered format gets
 * the q of the most specific media range that matches it, the highest q above zero
 * wins, and a tie goes to the earlier offer, so NDJSON wins every tie.
 */

export type ListingFormat = 'ndjson' | 'json' | 'frames'

type Offer = { format: ListingFormat; type: string; subtype: string }

/** In order of preference for ties. */
const OFFERS: readonly Offer[] = [
  { format: 'ndjson', type: 'application', subtype: 'x-ndjson' },
  { format: 'json', type: 'application', subtype: 'json' },
  { format: 'frames', type: 'application', subtype: 'octet-stream' },
]

type MediaRange = { type: string; subtype: string; q: number }

const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/

/** RFC 9110 section 12.4.2: at most three decimals, never above 1. */
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/

function parseRange(member: string): MediaRange | undefined {
  const [mediaType = '', ...params] = member.split(';').map((part) => part.trim().toLowerCase())
  const [type = '', subtype = '', extra] = mediaType.split('/')
  if (extra !== undefined || !TOKEN.test(type) || !TOKEN.test(subtype)) return undefined
  if (type === '*' && subtype !== '*') return undefined

  let q = 1
  for (const param of params) {
    const [name, value = ''] = param.split('=').map((part) => part.trim())
    if (name !== 'q') continue
    if (!QVALUE.test(value)) return undefined
    q = Number(value)
  }
  return { type, subtype, q }
}

/**
 * The members of an Accept header that parse. A malformed member can match nothing, so
 * it is dropped rather than failing the whole header.
 */
export function parseAccept(header: string): MediaRange[] {
  const ranges: MediaRange[] = []
  for (const member of header.split(',')) {
    if (member.trim() === '') continue
    const range = parseRange(member)
    if (range) ranges.push(range)
  }
  return ranges
}

/** 2 for type/subtype, 1 for type/*, 0 for any type, -1 when the range does not match. */
function specificity(range: MediaRange, offer: Offer): number {
  if (range.type === '*') return 0
  if (range.type !== offer.type) return -1
  if (range.subtype === '*') return 1
  return range.subtype === offer.subtype ? 2 : -1
}

function qualityOf(offer: Offer, ranges: readonly MediaRange[]): number {
  let best = -1
  let q = 0
  for (const range of ranges) {
    const level = specificity(range, offer)
    if (level > best) {
      best = level
      q = range.q
    }
  }
  return q
}

/**
 * The listing format for an Accept header, or undefined when no format is acceptable
 * (a 406). No header, or an empty one, accepts anything.
 */
export function negotiateFormat(accept: string | undefined): ListingFormat | undefined {
  if (accept === undefined || accept.trim() === '') return 'ndjson'

  const ranges = parseAccept(accept)
  let chosen: ListingFormat | undefined
  let chosenQ = 0
  for (const offer of OFFERS) {
    const q = qualityOf(offer, ranges)
    if (q > chosenQ) {
      chosen = offer.format
      chosenQ = q
    }
  }
  return chosen
}
