import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { WriteQueue } from '../../src/store/write-queue.js'

let db: Database.Database
let queue: WriteQueue

beforeEach(() => {
  db = new Database(':memory:')
  queue = new WriteQueue(db, (error) => error)
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
