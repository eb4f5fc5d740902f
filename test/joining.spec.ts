import { expect } from 'chai'
import { rm } from 'node:fs/promises'
import { cleanup, ionnet, startPeer, tempDir, waitFor } from './helpers/network.ts'
import type { TestPeer } from './helpers/network.ts'

describe('joining: a peer alone keeps dialing its bootstrap peer', function () {
  this.timeout(60_000)
  const peers: TestPeer[] = []

  after(async () => { await cleanup(peers) })

  it('joins a bootstrap peer that was down when it started, once that peer is back', async () => {
    const first = await startPeer()
    const { addr, repo } = first
    await first.stop()

    const late = await startPeer({ bootstrap: [first] })
    peers.push(late)
    // negative control: the bootstrap peer is down, so the new peer has nobody
    await waitFor(async () => (await late.json(['peers'])).peers.length === 0, { message: 'the new peer to know no peer yet' })

    const port = addr.split('/')[4]
    const back = await startPeer({ repo, args: ['--listen', `/ip4/127.0.0.1/tcp/${port}`] })
    peers.push(back)
    expect(back.addrs, 'the bootstrap peer back on its old address').to.include(addr)
    await waitFor(async () => (await late.json(['peers'])).peers.some((p: any) => p.peerId === back.peerId && p.alive && p.connected),
      { timeout: 30_000, message: 'the new peer to join the bootstrap peer once it is back' })
  })

  it('refuses a bootstrap address without a peer id, with one line and exit code 1', async () => {
    const dir = await tempDir()
    const r = await ionnet(['peer', 'start', '--repo', dir, '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--bootstrap', '/ip4/127.0.0.1/tcp/4001'])
    await rm(dir, { recursive: true, force: true })
    expect(r.code).to.equal(1)
    expect(r.stderr.trim().split('\n'), r.stderr).to.have.length(1)
    expect(r.stderr).to.match(/bootstrap address \/ip4\/127\.0\.0\.1\/tcp\/4001 lacks \/p2p\/<peer id>/)
  })
})
