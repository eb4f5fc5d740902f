import { expect } from 'chai'
import { cidForChunk } from '@ionnet/chunk-store'
import { logger } from '@libp2p/logger'
import { Announcer } from '../src/announcer.ts'
import { until } from './until.ts'
import type { IonNetNode } from '../src/node.ts'
import type { CID } from 'multiformats/cid'

/** An announcer whose DHT records when each CID was provided. */
function announcer (live: () => number, init: ConstructorParameters<typeof Announcer>[1] = {}): { announcer: Announcer, provided: Map<string, number> } {
  const provided = new Map<string, number>()
  const node = { contentRouting: { provide: async (cid: CID) => { provided.set(cid.toString(), Date.now()) } } } as unknown as IonNetNode
  const a = new Announcer({ node, log: logger('ionnet:announcer'), livePeers: live }, init)
  a.start()
  return { announcer: a, provided }
}

// a put spreads its chunks over every peer, so the more peers, the further apart each holder's chunks come; holders
// that announced in those gaps took the CPU a put on one machine needed
describe('announcing chunks once chunk traffic is quiet', () => {
  it('waits half a second in a small network, 200 ms per live peer in a larger one, and 10 s at most', () => {
    let live = 0
    const { announcer: a } = announcer(() => live)
    const quiet = (n: number): number => { live = n; return a.quiet }
    expect([0, 2, 4, 20, 50, 500].map(quiet)).to.deep.equal([500, 500, 800, 4000, 10_000, 10_000])
    a.stop()
  })

  it('announces a chunk only after that long without chunk traffic', async () => {
    const { announcer: a, provided } = announcer(() => 10, { quiet: 20, quietPerPeer: 15 })
    const cid = cidForChunk(Buffer.from('a chunk'))
    a.busy()
    const busy = Date.now()
    a.announce(cid)
    expect(await until(() => provided.has(cid.toString()), 5000), 'provided').to.equal(true)
    expect(provided.get(cid.toString())! - busy, 'ms after the last transfer').to.be.at.least(145)
    a.stop()
  })
})
