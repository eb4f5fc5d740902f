import assert from 'node:assert/strict'
import { BufferPool } from '../src/buffer-pool.ts'

describe('BufferPool', () => {
  it('hands a buffer given back out again, and a new one while none waits', () => {
    const pool = new BufferPool(16, 2)
    const a = pool.take(16)
    const b = pool.take(16)
    assert.notEqual(a, b)
    assert.equal(a.byteLength, 16)
    pool.give(a)
    assert.equal(pool.take(16), a)
    assert.notEqual(pool.take(16), b)
  })

  it('gives other sizes new buffers and keeps none of them', () => {
    const pool = new BufferPool(16, 2)
    const odd = pool.take(7)
    assert.equal(odd.byteLength, 7)
    pool.give(odd)
    assert.notEqual(pool.take(7), odd)
    const full = pool.take(16)
    pool.give(full)
    assert.equal(pool.take(16), full)
  })

  it('keeps at most `keep` buffers between uses', () => {
    const pool = new BufferPool(16, 2)
    const taken = [pool.take(16), pool.take(16), pool.take(16)]
    for (const buffer of taken) pool.give(buffer)
    const again = [pool.take(16), pool.take(16), pool.take(16)]
    assert.equal(again.filter(b => taken.includes(b)).length, 2)
  })
})
