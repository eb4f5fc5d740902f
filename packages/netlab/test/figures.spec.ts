import { expect } from 'chai'
import { isolatingGroup, percentile, seededRandom } from '../src/index.ts'

describe('netlab: figures', () => {
  it('picks the smallest group holding a copy of every chunk but never every copy', () => {
    const placement = new Map([['a', [1, 2, 3]], ['b', [2, 4, 5]], ['c', [1, 3, 5]]])
    expect(isolatingGroup(placement, [1, 2, 3, 4, 5])).to.deep.equal([1, 4])
    // no host holds both chunks, and two hosts of four would be half the network
    expect(isolatingGroup(new Map([['a', [1, 2]], ['b', [3, 4]]]), [1, 2, 3, 4])).to.equal(undefined)
    // host 1 would hold every copy of a: the rest could no longer serve it
    expect(isolatingGroup(new Map([['a', [1]], ['b', [1, 2]]]), [1, 2, 3])).to.equal(undefined)
    expect(isolatingGroup(new Map([['a', [1, 2, 3]], ['b', [1, 3, 4]]]), [1, 2, 3, 4, 5])).to.deep.equal([1])
  })

  it('prefers groups that hold each chunk once, and honours a required size', () => {
    const placement = new Map([['a', [1, 2, 3]], ['b', [1, 2, 4]], ['c', [3, 4, 5]]])
    expect(isolatingGroup(placement, [1, 2, 3, 4, 5], { size: 2 })).to.deep.equal([1, 5])
  })

  it('computes nearest-rank percentiles', () => {
    expect(percentile([], 0.5)).to.equal(null)
    expect(percentile([5, 1, 3], 0.5)).to.equal(3)
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95)).to.equal(10)
  })

  it('replays the same schedule from the same seed', () => {
    const a = seededRandom(42)
    const b = seededRandom(42)
    expect([a(), a(), a()]).to.deep.equal([b(), b(), b()])
  })
})
