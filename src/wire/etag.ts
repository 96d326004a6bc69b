/**
 * Entity tags (RFC 9110 section 8.8.3) for stored versions, and the parsing of the
 * If-Match / If-None-Match lists that carry them.
 */
import type { Version } from '../store/types.js'

export type EntityTag = { opaque: string; weak: boolean }

export function formatETag(version: Version): string {
  return `"${version}"`
}

const TAG = /^\s*(W\/)?"([^"]*)"\s*$/

/**
 * Parses a conditional header: `*`, or a comma-separated list of entity tags. Malformed
 * members are ignored, as they can match nothing.
 */
export function parseETagList(header: string): '*' | EntityTag[] {
  if (header.trim() === '*') return '*'
  const tags: EntityTag[] = []
  for (const member of header.split(',')) {
    const match = TAG.exec(member)
    if (match) tags.push({ weak: match[1] !== undefined, opaque: match[2] as string })
  }
  return tags
}

/**
 * The versions a list can match. If-Match compares strongly, so weak tags drop out;
 * If-None-Match compares weakly, so they count (RFC 9110 sections 13.1.1, 13.1.2).
 */
export function matchableVersions(list: '*' | EntityTag[], strong: boolean): '*' | Version[] {
  if (list === '*') return '*'
  return list.filter((tag) => !(strong && tag.weak)).map((tag) => tag.opaque)
}
