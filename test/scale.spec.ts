import { cleanup, startPeer, waitFor } from './helpers/network.ts'
import type { TestPeer } from './helpers/network.ts'

// more peers on one address than gossipsub tolerates by default (10): the case of a devnet, a test or a benchmark
const PEERS = 16

describe(`scale: ${PEERS} peers on one machine`, function () {
  this.timeout(180_000)
  const peers: TestPeer[] = []

  before(async () => {
    peers.push(await startPeer({ heartbeat: 500 }))
    while (peers.length < PEERS) {
      peers.push(...await Promise.all(Array.from({ length: Math.min(5, PEERS - peers.length) }, async () => startPeer({ heartbeat: 500, bootstrap: [peers[0]] }))))
    }
  })

  after(async () => {
    await cleanup(peers)
  })

  it('every peer sees every other one alive, though all share the loopback address', async () => {
    for (const p of [peers[0], peers[PEERS >> 1], peers[PEERS - 1]]) {
      await waitFor(async () => {
        const { peers: seen } = await p.json<{ peers: Array<{ peerId: string, alive: boolean }> }>(['peers'])
        return seen.filter(s => s.alive).length === PEERS - 1
      }, { timeout: 60_000, message: `peer ${p.peerId} to see ${PEERS - 1} others alive` })
    }
  })
})
