/**
 * The store contract: what parkd needs from a storage engine, in terms of bytes and
 * ordered keys only. It knows nothing of HTTP. Every method is asynchronous so that an
 * engine reached over a network can implement the same contract; the SQLite engine
 * finishes most of them synchronously inside.
 */

/** An opaque token that changes whenever a key's value changes (rendered as the ETag). */
export type Version = string

export type Item = { key: Buffer; value: Buffer }

export type StoredValue = { value: Buffer; version: Version }

export type ValueInfo = { size: number; version: Version }

/**
 * A value to send: in one piece when small, or as pieces read one at a time when large.
 * Pieces must be iterated to the end or released: until then the engine keeps them.
 */
export type ValueRead = ValueInfo & {
  body: Buffer | (AsyncIterable<Buffer> & { release(): void })
}

/**
 * Which keys an operation covers; every bound is a whole key and all of them combine
 * with AND. `from`/`to` are inclusive, `after`/`before` exclusive.
 */
export type Selection = {
  from?: Buffer
  to?: Buffer
  after?: Buffer
  before?: Buffer
  prefix?: Buffer
}

export type ScanOptions = Selection & {
  /** Descending byte-wise order instead of ascending. */
  reverse?: boolean
  /** At most this many records in all. */
  limit?: number
}

/**
 * A condition on the current version of a key, checked in the same transaction as the
 * write it guards. `'*'` means "any version", that is, the key exists.
 */
export type Precondition = {
  ifMatch?: '*' | Version[]
  ifNoneMatch?: '*' | Version[]
}

export type PutResult = { created: boolean; version: Version }

/** One record of a batch: a put, or a delete when `value` is null. */
export type BatchOp = { key: Buffer; value: Buffer | null }

export type BatchOptions = {
  /** All records apply or none; otherwise chunks are committed as they are written. */
  atomic?: boolean
}

/**
 * A batch being written. `write` applies records in order; without `atomic` each call
 * is committed before it resolves. `commit` finishes the batch, `abort` drops whatever
 * is not committed yet. Exactly one of the two must be called.
 */
export type BatchWriter = {
  write(ops: readonly BatchOp[]): Promise<void>
  commit(): Promise<void>
  abort(): Promise<void>
}

export type StoreStats = {
  /** Size of the main database file in bytes. */
  fileBytes: number
  /** Size of the write-ahead log in bytes (0 for engines without one). */
  walBytes: number
}

export type Store = {
  get(key: Buffer): Promise<StoredValue | undefined>
  /** A value for sending, which a large one never is in memory in one piece. */
  read(key: Buffer): Promise<ValueRead | undefined>
  /** The size and version of a value, without reading it. */
  stat(key: Buffer): Promise<ValueInfo | undefined>
  /** Stores a value; fails with PRECONDITION_FAILED when `precondition` does not hold. */
  put(key: Buffer, value: Buffer, precondition?: Precondition): Promise<PutResult>
  /**
   * Stores a value that arrives in pieces, holding at most a piece or two in memory. The
   * value replaces the old one only once it has arrived whole; if the pieces fail, the
   * old value stays and the error is passed on.
   */
  putStream(
    key: Buffer,
    pieces: AsyncIterable<Buffer>,
    precondition?: Precondition,
  ): Promise<PutResult>
  /** Removes a key; false when it did not exist (and no precondition failed). */
  delete(key: Buffer, precondition?: Precondition): Promise<boolean>

  /** Keys in order, in pages; each page is handed out before the next one is read. */
  scanKeys(options: ScanOptions): AsyncIterable<Buffer[]>
  /** Items in order, in pages bounded in rows and in bytes. */
  scanItems(options: ScanOptions): AsyncIterable<Item[]>
  count(selection: Selection): Promise<number>
  /** Deletes every key of the selection in bounded chunks; answers how many went. */
  deleteRange(selection: Selection): Promise<number>

  batch(options?: BatchOptions): Promise<BatchWriter>

  /** Writes a consistent copy of the whole database to `destination`. */
  backup(destination: string): Promise<void>
  /** Resolves when the engine answers a trivial query. */
  ping(): Promise<void>
  stats(): StoreStats
  close(): Promise<void>
}
