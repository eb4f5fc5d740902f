import { waitFor } from '../src/index.ts'
import { startLabOrSkip } from './start-lab.ts'
import type { Lab } from '../src/index.ts'

describe('netlab: a cable pulled long enough for the others to drop their connections to it', function () {
  this.timeout(180_000)
  let lab: Lab | undefined

  before(async function () {
    lab = await startLabOrSkip(this, { hosts: 3, heartbeat: 500, deadAfter: 4 })
  })

  after(async () => {
    await lab?.destroy()
  })

  it('is dialed again once the cable is back, and every peer sees it alive again', async () => {
    const l = lab!
    await l.cut(3)
    // a ping that fails makes libp2p drop the connection; heartbeats then have no way to h3 until someone redials
    await waitFor(async () => !(await l.connectedTo(1)).includes(3) && !(await l.connectedTo(2)).includes(3),
      { timeout: 60_000, interval: 500, message: 'h1 and h2 to drop their connections to h3' })
    await waitFor(async () => (await l.peers(1)).some(p => p.peerId === l.host(3).peerId && !p.alive),
      { timeout: 30_000, interval: 500, message: 'h1 to see h3 dead' })
    await l.reconnect(3)
    // dead peers are dialed again at most a minute apart
    await l.waitForMesh(l.running(), 90_000)
  })
})
