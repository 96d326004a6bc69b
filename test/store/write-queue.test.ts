import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { WriteQueue } from '../../src/store/write-queue.js'

let db: Database.Database
let queue: WriteQueue

beforeEach(() => {
  db = new Database(':memory:')
  queue = new WriteQueue(db, { translate: (error) => error })
})
afterEach(() => db.close())

const tick = () => new Promise((resolve) => setImmediate(resolve))

describe('holding the write queue', () => {
  it('keeps writes queued during a hold waiting until it is released', async () => {
    const release = await queue.hold()
    const order: string[] = []
    const write = queue.enqueue(() => order.push('write'))

    await tick()
    await tick()
    expect(order).toEqual([])

    release()
    await write
    expect(order).toEqual(['write'])
  })

  it('runs writes queued before a waiting holder begins ahead of that holder', async () => {
    const releaseFirst = await queue.hold()
    const order: string[] = []
    const second = queue.hold().then((release) => {
      order.push('second holder')
      return release
    })
    const write = queue.enqueue(() => order.push('write'))

    releaseFirst()
    const releaseSecond = await second
    await write
    expect(order).toEqual(['write', 'second holder'])
    releaseSecond()
  })

  it('gives the queue back only once when released twice', async () => {
    const releaseFirst = await queue.hold()
    const second = queue.hold()
    releaseFirst()
    const releaseSecond = await second
    releaseFirst()

    let ran = false
    const write = queue.enqueue(() => (ran = true))
    await tick()
    await tick()
    expect(ran).toBe(false)

    releaseSecond()
    await write
    expect(ran).toBe(true)
  })
})

describe('writes of one turn', () => {
  beforeEach(() => {
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY)')
  })

  const insert = (k: string) => () => db.prepare('INSERT INTO t (k) VALUES (?)').run(k)
  const keys = () => db.prepare('SELECT k FROM t ORDER BY k').pluck().all()

  it('fails a one-statement write alone, with no savepoint, and commits the others', async () => {
    await queue.enqueue(insert('taken'))
    const outcomes = await Promise.allSettled([
      queue.enqueue(insert('a'), { savepoint: false }),
      queue.enqueue(insert('taken'), { savepoint: false }),
      queue.enqueue(insert('b'), { savepoint: false }),
    ])

    expect(outcomes.map((outcome) => outcome.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
    ])
    expect(keys()).toEqual(['a', 'b', 'taken'])
  })

  it('rolls back every statement of a failed write that has a savepoint', async () => {
    const both = () => {
      insert('first')()
      insert('first')()
    }
    await expect(queue.enqueue(both)).rejects.toThrow()
    expect(keys()).toEqual([])
  })

  it('runs beforeCommit once per group, inside its transaction', async () => {
    const seen: boolean[] = []
    queue = new WriteQueue(db, {
      translate: (error) => error,
      beforeCommit: () => seen.push(db.inTransaction),
    })
    await Promise.all([queue.enqueue(insert('a')), queue.enqueue(insert('b'))])
    await queue.enqueue(insert('c'))
    expect(seen).toEqual([true, true])
  })
})
