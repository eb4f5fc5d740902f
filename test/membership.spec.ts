import { expect } from 'chai'
import { randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { cidForChunk } from '@ionnet/chunk-store'
import { peerIdFromString } from '@libp2p/peer-id'
import { createPeer } from '@ionnet/peer'
import { cleanup, startPeer, tempDir, waitFor } from './helpers/network.ts'
import type { IonNetPeer } from '@ionnet/peer'
import type { TestPeer } from './helpers/network.ts'
import type { Stream } from '@libp2p/interface'

describe('membership: heartbeats that stop over a connection that stays open', function () {
  this.timeout(60_000)
  const procs: TestPeer[] = []
  let dir: string
  let p1: TestPeer
  let q: IonNetPeer

  before(async () => {
    dir = await tempDir()
    p1 = await startPeer()
    procs.push(p1)
    // the monitor pings every 2 minutes by default; every 5 s here, so its pings overlap the DHT's within the test
    q = await createPeer({ repo: join(dir, 'q'), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [p1.addr], heartbeat: 300, pingInterval: 5000 })
    await waitFor(() => q.membership.isAlive(p1.peerId), { message: 'q to see p1 alive' })
    await waitFor(async () => (await p1.json(['peers'])).peers.some((p: any) => p.peerId === q.peerId && p.alive), { message: 'p1 to see q alive' })
  })

  after(async () => {
    await q?.stop()
    await cleanup(procs)
    await rm(dir, { recursive: true, force: true })
  })

  it('keeps a healthy connection through the connection monitor\'s pings, which the DHT\'s pings overlap', async () => {
    const remote = peerIdFromString(p1.peerId)
    const [conn] = q.node.getConnections(remote)
    expect(conn, 'a connection from q to p1').to.not.equal(undefined)
    // the monitor sets a connection's round-trip time once a ping of it succeeded
    await waitFor(() => conn.rtt != null || conn.status !== 'open', { timeout: 30_000, message: 'the connection monitor to ping the connection' })
    expect(conn.status, 'the connection after its first ping').to.equal('open')
    expect(conn.rtt).to.be.a('number')
  })

  /** q's gossipsub streams to p1, which carry the heartbeats both ways. */
  const gossip = (): Stream[] => q.node.getConnections(peerIdFromString(p1.peerId)).flatMap(c => c.streams.filter(s => s.protocol?.startsWith('/meshsub/') === true))

  it('keeps a peer alive, over the same connection, while its chunks keep coming though its heartbeats stopped', async () => {
    const remote = peerIdFromString(p1.peerId)
    const bytes = randomBytes(64 * 1024)
    const cid = cidForChunk(bytes)
    expect(await q.protocol.store(remote, cid, bytes, 1)).to.include({ had: false, copies: 1 })
    const [conn] = q.node.getConnections(remote)
    const window = q.membership.get(p1.peerId)!.interval * q.membership.deadAfter
    // heartbeats stop, as when they queue behind the chunks of a link those chunks fill
    for (const s of gossip()) s.abort(new Error('heartbeats held up'))
    const stoppedAt = Date.now()
    let fetched = 0
    while (Date.now() - stoppedAt < 3 * window) {
      expect(Buffer.from(await q.protocol.fetch(remote, cid, b => b)).equals(bytes)).to.equal(true)
      fetched++
      expect(q.membership.isAlive(p1.peerId), `p1 alive ${Date.now() - stoppedAt} ms after its last heartbeat, its chunks still coming`).to.equal(true)
      expect(conn.status, 'the connection carrying its chunks').to.equal('open')
    }
    expect(fetched).to.be.above(0)
    // once its chunks stop too, it counts as silent: q hangs up, dials again and hears it over new gossip streams
    await waitFor(() => gossip().length > 0 && (q.membership.get(p1.peerId)?.lastSeen ?? 0) > stoppedAt && q.membership.isAlive(p1.peerId),
      { timeout: 20_000, message: 'q to hear p1 again over a new gossip stream' })
  })

  it('hangs up, dials again, and both peers hear each other again', async () => {
    const remote = peerIdFromString(p1.peerId)
    // what a connection closing under gossipsub leaves behind when a second connection to the same peer stays open:
    // no gossip stream either way, and nothing that would open a new one
    const lost = gossip()
    expect(lost, 'gossipsub streams between q and p1').to.not.have.length(0)
    for (const s of lost) s.abort(new Error('gossip stream lost'))
    expect(gossip(), 'gossipsub streams left').to.have.length(0)
    expect(q.node.getConnections(remote), 'connections left open').to.not.have.length(0)
    const brokenAt = Date.now()

    await waitFor(() => gossip().length > 0 && (q.membership.get(p1.peerId)?.lastSeen ?? 0) > brokenAt && q.membership.isAlive(p1.peerId),
      { timeout: 20_000, message: 'q to hear p1 again over a new gossip stream' })
    await waitFor(async () => (await p1.json(['peers'])).peers.some((p: any) => p.peerId === q.peerId && p.alive && p.lastSeenMs < 1000),
      { timeout: 20_000, message: 'p1 to hear q again' })
  })
})
