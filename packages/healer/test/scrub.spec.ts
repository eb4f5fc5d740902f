import { expect } from 'chai'
import { cidForChunk, createMemoryChunkStore } from '@ionnet/chunk-store'
import { Healer } from '../src/index.ts'
import type { HealerComponents } from '../src/index.ts'
import type { ChunkStore } from '@ionnet/chunk-store'
import type { CID } from 'multiformats/cid'

/** A real in-memory store that counts the scrub's reads and its timer's visits. */
function countingStore (): { store: ChunkStore, verified: string[], times: number[], ticks: () => number } {
  const inner = createMemoryChunkStore()
  const verified: string[] = []
  const times: number[] = []
  let ticks = 0
  const store = new Proxy(inner, {
    get (target, key) {
      if (key === 'count') { ticks++; return target.count }
      if (key === 'verify') return async (cid: CID) => { verified.push(cid.toString()); times.push(Date.now()); return target.verify(cid) }
      const value = Reflect.get(target, key)
      return typeof value === 'function' ? value.bind(target) : value
    }
  })
  return { store, verified, times, ticks: () => ticks }
}

function components (store: ChunkStore): HealerComponents {
  const none = (): never => { throw new Error('not used by scrub') }
  return {
    peerId: { toString: () => 'self', equals: () => true } as any,
    store,
    livePeers: () => [],
    onMembershipChange: () => () => {},
    has: none,
    findProviders: none,
    send: none,
    fetchRemote: none,
    announce: () => {},
    withdraw: () => {},
    rank: (_cid, peers) => peers,
    log: Object.assign(() => {}, { error: () => {}, trace: () => {}, enabled: false, newScope: () => { throw new Error('unused') } }) as any
  }
}

async function until (condition: () => boolean, what: string, timeout = 5000): Promise<void> {
  const deadline = Date.now() + timeout
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}

describe('healer scrub', () => {
  it('verifies every stored chunk once per pass, and starts the next pass only after the scrub interval', async () => {
    const { store, verified, times, ticks } = countingStore()
    await store.open()
    const cids: string[] = []
    for (const text of ['one', 'two', 'three']) {
      const bytes = Buffer.from(`chunk ${text}`)
      const cid = cidForChunk(bytes)
      await store.put(cid, bytes)
      cids.push(cid.toString())
    }
    const scrubInterval = 600
    const healer = new Healer(components(store), { interval: 3_600_000, scrubRate: 1000, scrubInterval })
    healer.start()
    try {
      await until(() => verified.length >= 3, 'the first pass')
      expect([...verified].sort()).to.deep.equal([...cids].sort())
      // the timer comes round every ms with nothing to do: a peer holding few chunks used to re-read them each time
      const seen = ticks()
      await until(() => ticks() >= seen + 50, 'the scrub timer to come round 50 more times')
      await until(() => verified.length >= 6, 'the second pass')
      expect([...verified.slice(3, 6)].sort()).to.deep.equal([...cids].sort())
      // Date.now() may tick a millisecond early on one side
      expect(times[3] - times[0]).to.be.at.least(scrubInterval - 2)
      expect(healer.stats.corrupt).to.equal(0)
    } finally {
      await healer.stop()
    }
  })
})
