import { expect } from 'chai'
import { cleanup, startPeer, waitFor } from './helpers/network.ts'
import type { TestPeer } from './helpers/network.ts'

// more peers on one address than gossipsub tolerates by default (10): the case of a devnet, a test or a benchmark
const PEERS = 16
const HEARTBEAT = 500
// past this many live peers heartbeats slow down in proportion (the default is 20; lowered so 16 peers show it)
const HEARTBEAT_PEERS = 8
const ARGS = ['--heartbeat-peers', String(HEARTBEAT_PEERS)]

describe(`scale: ${PEERS} peers on one machine`, function () {
  this.timeout(180_000)
  const peers: TestPeer[] = []

  before(async () => {
    peers.push(await startPeer({ heartbeat: HEARTBEAT, args: ARGS }))
    while (peers.length < PEERS) {
      peers.push(...await Promise.all(Array.from({ length: Math.min(5, PEERS - peers.length) }, async () => startPeer({ heartbeat: HEARTBEAT, bootstrap: [peers[0]], args: ARGS }))))
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

  it('beats less often as the network grows past --heartbeat-peers, and peers still see each other alive', async () => {
    const stretched = HEARTBEAT * PEERS / HEARTBEAT_PEERS
    const observer = peers[PEERS >> 1]
    await waitFor(async () => {
      const { peers: seen } = await observer.json<{ peers: Array<{ alive: boolean, heartbeatMs: number }> }>(['peers'])
      return seen.length === PEERS - 1 && seen.every(s => s.alive && s.heartbeatMs === stretched)
    }, { timeout: 30_000, message: `every peer to beat every ${stretched} ms and look alive` })
    expect((await observer.json<{ heartbeatMs: number }>(['id'])).heartbeatMs).to.equal(stretched)
  })

  it('still sees a killed peer dead within --dead-after of its stretched interval', async () => {
    const victim = peers[PEERS - 1]
    const observer = peers[1]
    const { heartbeatMs } = await victim.json<{ heartbeatMs: number }>(['id'])
    await victim.kill()
    const killed = Date.now()
    await waitFor(async () => {
      const { peers: seen } = await observer.json<{ peers: Array<{ peerId: string, alive: boolean }> }>(['peers'])
      return seen.find(s => s.peerId === victim.peerId)?.alive === false
    }, { timeout: 30_000, message: `peer ${observer.peerId} to see the killed peer dead` })
    // three missed beats of the stretched interval, plus the sweeper's half interval and a CLI call or two
    expect(Date.now() - killed).to.be.below(3 * heartbeatMs + 3000)
  })
})
