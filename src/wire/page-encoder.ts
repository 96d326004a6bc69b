/**
 * The shape every listing format has: records arrive a page at a time and each page is
 * turned into a few large buffers at once, never one small write per record.
 */

export type PageEncoder<T> = {
  readonly contentType: string
  /** The body bytes for one page of records, in order. */
  page(records: readonly T[]): Buffer[]
  /** What closes the body after the last page (the `]` of a JSON array), if anything. */
  end(): Buffer | undefined
}
