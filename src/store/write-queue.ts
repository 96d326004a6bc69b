/**
 * Group commit for one SQLite connection. Writes that arrive in the same turn of the
 * event loop are run in one transaction, so concurrent requests share one commit (and,
 * with synchronous=FULL, one fsync) instead of paying one each. A write that throws (a
 * failed precondition) fails alone and the others still commit: a write of many
 * statements runs in its own savepoint, which is rolled back; a write of a single
 * statement needs none, since SQLite undoes a failed statement by itself.
 *
 * The queue can be held (see `hold`) while another connection owns the database's write
 * lock; writes queued meanwhile wait and run when it is released.
 */
import type { Database } from 'better-sqlite3'

type Job = {
  run: () => unknown
  savepoint: boolean
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
}

export type WriteQueueOptions = {
  /** Turns an engine error into the error the caller should see. */
  translate: (error: unknown) => unknown
  /** Runs last inside every group's transaction, for bookkeeping the group shares. */
  beforeCommit?: () => void
}

export type EnqueueOptions = {
  /**
   * False for a write that runs at most one writing statement, and only after every
   * check that may throw: it then needs no savepoint of its own (two statements fewer).
   */
  savepoint?: boolean
}

export class WriteQueue {
  readonly #db: Database
  readonly #translate: (error: unknown) => unknown
  readonly #beforeCommit: () => void
  #jobs: Job[] = []
  #scheduled = false
  #held: Promise<void> = Promise.resolve()
  #holders = 0

  constructor(db: Database, options: WriteQueueOptions) {
    this.#db = db
    this.#translate = options.translate
    this.#beforeCommit = options.beforeCommit ?? (() => {})
  }

  /** Runs `run` inside a write transaction shared with the other writes of this tick. */
  enqueue<T>(run: () => T, options: EnqueueOptions = {}): Promise<T> {
    const savepoint = options.savepoint ?? true
    return new Promise<T>((resolve, reject) => {
      this.#jobs.push({ run, savepoint, resolve: resolve as (value: unknown) => void, reject })
      this.#schedule()
    })
  }

  /**
   * Takes the queue for another connection that owns the database's write lock: writes
   * queued meanwhile wait until the returned function releases it. Holders take turns in
   * the order they asked, and writes queued before a turn begins run before it, so a
   * steady stream of holders cannot starve them. Releasing twice is harmless.
   */
  async hold(): Promise<() => void> {
    const previous = this.#held
    let handOver!: () => void
    this.#held = new Promise<void>((resolve) => (handOver = resolve))
    this.#holders++

    await previous
    this.#flush()

    let released = false
    return () => {
      if (released) return
      released = true
      this.#holders--
      handOver()
      this.#schedule()
    }
  }

  /** Resolves once every write queued before the call has run. */
  async drain(): Promise<void> {
    await this.enqueue(() => undefined)
  }

  #schedule(): void {
    if (this.#scheduled || this.#holders > 0 || this.#jobs.length === 0) return
    this.#scheduled = true
    setImmediate(() => {
      this.#scheduled = false
      if (this.#holders === 0) this.#flush()
    })
  }

  #flush(): void {
    if (this.#jobs.length === 0) return
    const jobs = this.#jobs
    this.#jobs = []
    const outcomes: Array<{ ok: boolean; value: unknown }> = []

    try {
      this.#db.transaction(() => {
        for (const job of jobs) {
          try {
            const value = job.savepoint ? this.#db.transaction(job.run)() : job.run()
            outcomes.push({ ok: true, value })
          } catch (error) {
            // SQLite rolls the whole transaction back by itself after some errors (a
            // full disk, an I/O error): the writes before this one are gone too, so
            // the whole group must fail rather than report them as committed.
            if (!this.#db.inTransaction) throw error
            outcomes.push({ ok: false, value: this.#translate(error) })
          }
        }
        this.#beforeCommit()
      })()
    } catch (error) {
      const failure = this.#translate(error)
      for (const job of jobs) job.reject(failure)
      return
    }

    jobs.forEach((job, i) => {
      const outcome = outcomes[i] as { ok: boolean; value: unknown }
      if (outcome.ok) job.resolve(outcome.value)
      else job.reject(outcome.value)
    })
  }
}
