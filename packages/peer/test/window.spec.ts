import { expect } from 'chai'
import { GET_WINDOW_BYTES, PUT_WINDOW_BYTES } from '../src/constants.ts'
import { putWindow } from '../src/put.ts'
import { asCompleted, chunksInWindow, inOrder } from '../src/window.ts'
import type { Task } from '../src/window.ts'

/** Tasks that resolve in `delays[i]` ms with `i`, counting how many have started. */
function tasks (delays: number[], started: { n: number }): Array<Task<number>> {
  return delays.map((ms, i) => async () => {
    started.n++
    await new Promise(resolve => setTimeout(resolve, ms))
    return i
  })
}

async function * slowly<T> (items: T[]): AsyncGenerator<T> {
  for (const item of items) {
    await new Promise(resolve => setImmediate(resolve))
    yield item
  }
}

describe('task windows', () => {
  it('hold as many chunks as fit their bytes, at least 2 and at most 32', () => {
    const MiB = 1024 * 1024
    // the default 2 MiB chunks: 3 fetched at a time
    expect(chunksInWindow(GET_WINDOW_BYTES, 2 * MiB)).to.equal(3)
    expect(chunksInWindow(GET_WINDOW_BYTES, 1 * MiB)).to.equal(6)
    expect(chunksInWindow(GET_WINDOW_BYTES, 16 * MiB)).to.equal(2)
    expect(chunksInWindow(GET_WINDOW_BYTES, 1)).to.equal(32)
  })

  it('put as many chunks at a time as fit the bytes of their copies', () => {
    const MiB = 1024 * 1024
    expect(PUT_WINDOW_BYTES).to.equal(12 * MiB)
    // 6 copies of 2 MiB chunks in flight, however many copies each chunk has
    expect(putWindow(2 * MiB, 1)).to.equal(6)
    expect(putWindow(2 * MiB, 2)).to.equal(3)
    expect(putWindow(2 * MiB, 3)).to.equal(2)
    // never fewer than 2 chunks, never more than 32
    expect(putWindow(2 * MiB, 10)).to.equal(2)
    expect(putWindow(64 * 1024, 1)).to.equal(32)
  })

  it('inOrder yields results in input order even when later tasks finish first', async () => {
    const out: number[] = []
    for await (const v of inOrder(tasks([30, 1, 10, 1, 5], { n: 0 }), 3)) out.push(v)
    expect(out).to.deep.equal([0, 1, 2, 3, 4])
  })

  it('inOrder never has more than the window started and not consumed, however slow the consumer', async () => {
    // the case it-parallel got wrong: an async source and a consumer slower than the tasks
    const started = { n: 0 }
    let consumed = 0
    let most = 0
    for await (const _ of inOrder(slowly(tasks(Array(40).fill(1), started)), 4)) {
      most = Math.max(most, started.n - consumed)
      await new Promise(resolve => setTimeout(resolve, 3))
      consumed++
    }
    expect(consumed).to.equal(40)
    expect(most).to.be.at.most(4)
    expect(most, 'tasks ran ahead of the consumer at all').to.equal(4)
  })

  it('asCompleted runs at most the window at once and yields every result', async () => {
    let running = 0
    let most = 0
    const list = Array.from({ length: 30 }, (_, i) => async () => {
      running++
      most = Math.max(most, running)
      await new Promise(resolve => setTimeout(resolve, (i * 7) % 5))
      running--
      return i
    })
    const out: number[] = []
    for await (const v of asCompleted(slowly(list), 6)) out.push(v)
    expect(out.sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 30 }, (_, i) => i))
    expect(most).to.equal(6)
  })

  it('throws the first failure and closes the source', async () => {
    let closed = false
    async function * source (): AsyncGenerator<Task<number>> {
      try {
        yield async () => 1
        yield async () => { throw new Error('boom') }
        for (let i = 0; i < 100; i++) yield async () => i
      } finally {
        closed = true
      }
    }
    const seen: number[] = []
    for (const run of [inOrder, asCompleted]) {
      closed = false
      let error: Error | undefined
      try {
        for await (const v of run(source(), 2)) seen.push(v)
      } catch (err: any) {
        error = err
      }
      expect(error?.message).to.equal('boom')
      expect(closed).to.equal(true)
    }
  })
})
