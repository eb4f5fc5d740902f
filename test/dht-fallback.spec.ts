import { expect } from 'chai'
import { readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { peerIdFromString } from '@libp2p/peer-id'
import { CID } from 'multiformats/cid'
import { rankPeers } from '../packages/peer/src/placement.ts'
import { cleanup, randomFile, sha256File, startPeer, tempDir, waitFor } from './helpers/network.ts'
import type { TestPeer } from './helpers/network.ts'

const KiB = 1024
const HEARTBEAT = 500
/** Peers that hold nothing but count in placement: enough that the one holder is often not among the nearest six. */
const EMPTY_PEERS = 8
/** The fetcher asks this many of the nearest live peers before the DHT (PLACEMENT_CANDIDATES in fetcher.ts). */
const ASKED_FIRST = 6

describe('get through DHT provider records, when none of the nearest live peers holds a chunk', function () {
  this.timeout(180_000)
  const peers: TestPeer[] = []
  let holder: TestPeer
  let reader: TestPeer
  let dir: string

  before(async () => {
    dir = await tempDir()
    // every peer but one has no room, so the put leaves every chunk on that one and no peer can move it nearer:
    // for the reader, the nearest live peers of many chunks are peers that do not have them
    const empty = ['--capacity', '0']
    const uploader = await startPeer({ heartbeat: HEARTBEAT, args: empty })
    holder = await startPeer({ heartbeat: HEARTBEAT, bootstrap: [uploader] })
    const others = await Promise.all(Array.from({ length: EMPTY_PEERS }, async () => startPeer({ heartbeat: HEARTBEAT, bootstrap: [uploader], args: empty })))
    reader = await startPeer({ heartbeat: HEARTBEAT, bootstrap: [uploader], args: empty })
    peers.push(uploader, holder, ...others, reader)
    for (const p of [uploader, reader]) {
      await waitFor(async () => {
        const { peers: seen } = await p.json<{ peers: Array<{ alive: boolean }> }>(['peers'])
        return seen.filter(s => s.alive).length === peers.length - 1
      }, { timeout: 60_000, message: `peer ${p.peerId} to see ${peers.length - 1} others alive` })
    }
  })

  after(async () => {
    await cleanup(peers)
    await rm(dir, { recursive: true, force: true })
  })

  it('gets the file byte-identical, though the reader\'s nearest peers lack some chunks', async () => {
    const file = await randomFile(dir, 'f.bin', 5 * 1024 * KiB)
    const put = await peers[0].json(['put', file.path, '--replicas', '1', '--chunk-size', String(256 * KiB)])
    expect(put.chunks).to.equal(20)

    // which chunks only a DHT lookup can find: the holder is not among the six live peers nearest to them, as the
    // reader ranks them (every peer but itself)
    const blocks = join(holder.repo, 'chunks', 'blocks')
    const cids: CID[] = []
    for (const shard of await readdir(blocks)) {
      for (const name of await readdir(join(blocks, shard))) {
        if (!name.includes('.')) cids.push(CID.parse(name))
      }
    }
    expect(cids, 'every chunk and the manifest on the one peer with room').to.have.length(21)
    const view = peers.filter(p => p !== reader).map(p => ({ id: peerIdFromString(p.peerId) }))
    const farOff = cids.filter(cid => !rankPeers(cid, view).slice(0, ASKED_FIRST).some(p => p.id.toString() === holder.peerId))
    // with 10 peers in the reader's view, each block's holder is outside the nearest six 4 times in 10
    expect(farOff.length, 'blocks whose holder is not among the reader\'s nearest six').to.be.greaterThan(0)

    // the holder announces its chunks on the DHT in the background, once the put's traffic is quiet (a second or two
    // here): until then nobody can find those chunks, and a get fails saying which one
    const out = join(dir, 'out.bin')
    let failure = ''
    await waitFor(async () => {
      const r = await reader.run(['get', put.link, '-o', out])
      failure = r.stderr.trim()
      return r.code === 0
    }, { timeout: 60_000, interval: 1000, message: 'the get to succeed' }).catch((err: Error) => { throw new Error(`${err.message}; last: ${failure}`) })
    expect(await sha256File(out)).to.equal(file.sha256)
  })
})
