import { expect } from 'chai'
import { readFile, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { peerIdFromString } from '@libp2p/peer-id'
import { decodeManifest, parseLink, walkChunks } from '@ionnet/manifest'
import type { CID } from 'multiformats/cid'
import { rankPeers } from '../packages/peer/src/placement.ts'
import { cleanup, randomFile, sha256File, startPeer, tempDir, waitFor } from './helpers/network.ts'
import type { TestPeer } from './helpers/network.ts'

const KiB = 1024
const HEARTBEAT = 500
const CHUNK = 256 * KiB
const CHUNKS = 20
/** Peers that hold nothing but count in placement: enough that a holder is often not among the nearest six. */
const EMPTY_PEERS = 8
/** The fetcher asks this many of the nearest live peers first (PLACEMENT_CANDIDATES in fetcher.ts). */
const ASKED_FIRST = 6
/** Room for one file of CHUNKS sealed chunks (16 bytes of tag each) and its manifest, and not for one chunk more. */
const ONE_FILE = CHUNKS * (CHUNK + 16) + 4 * KiB

describe('get when none of the nearest live peers holds a chunk', function () {
  this.timeout(180_000)
  const peers: TestPeer[] = []
  let full: TestPeer
  let reader: TestPeer
  let dir: string

  before(async () => {
    dir = await tempDir()
    // only one peer has room, and for one file only: the put leaves every chunk there and no peer can take it nearer,
    // so for the reader the nearest live peers of many chunks are peers that do not have them
    const empty = ['--capacity', '0']
    const uploader = await startPeer({ heartbeat: HEARTBEAT, args: empty })
    full = await startPeer({ heartbeat: HEARTBEAT, bootstrap: [uploader], args: ['--capacity', String(ONE_FILE)] })
    const others = await Promise.all(Array.from({ length: EMPTY_PEERS }, async () => startPeer({ heartbeat: HEARTBEAT, bootstrap: [uploader], args: empty })))
    reader = await startPeer({ heartbeat: HEARTBEAT, bootstrap: [uploader], args: empty })
    peers.push(uploader, full, ...others, reader)
    await allAlive([uploader, reader])
  })

  after(async () => {
    await cleanup(peers)
    await rm(dir, { recursive: true, force: true })
  })

  /** Waits until each of `observers` sees every other peer alive. */
  async function allAlive (observers: TestPeer[]): Promise<void> {
    for (const p of observers) {
      await waitFor(async () => {
        const { peers: seen } = await p.json<{ peers: Array<{ alive: boolean }> }>(['peers'])
        return seen.filter(s => s.alive).length === peers.length - 1
      }, { timeout: 60_000, message: `peer ${p.peerId} to see ${peers.length - 1} others alive` })
    }
  }

  /** The bytes of a block, from whichever peer's repo holds it. */
  async function readBlock (cid: CID): Promise<Uint8Array> {
    for (const p of peers) {
      const blocks = join(p.repo, 'chunks', 'blocks')
      for (const shard of await readdir(blocks)) {
        const bytes = await readFile(join(blocks, shard, cid.toString())).catch(() => undefined)
        if (bytes != null) return bytes
      }
    }
    throw new Error(`no peer holds ${cid.toString()}`)
  }

  /**
   * Puts a fresh file with one copy, checks that `holder` has every chunk of it, and returns the file, its link, and
   * how many of its chunks lie beyond the nearest six live peers as the reader ranks them (all but itself).
   */
  async function putOnto (holder: TestPeer, name: string): Promise<{ file: { path: string, sha256: string }, link: string, farOff: number }> {
    const file = await randomFile(dir, name, CHUNKS * CHUNK)
    const put = await peers[0].json(['put', file.path, '--replicas', '1', '--chunk-size', String(CHUNK)])
    expect(put.chunks).to.equal(CHUNKS)
    expect(put.minCopies, 'one copy of every block').to.equal(1)
    const link = parseLink(put.link)
    const manifest = decodeManifest(link, await readBlock(link.cid))
    const cids: CID[] = []
    for await (const ref of walkChunks(manifest, readBlock)) cids.push(ref.cid)
    const held = new Set<string>()
    const blocks = join(holder.repo, 'chunks', 'blocks')
    for (const shard of await readdir(blocks)) (await readdir(join(blocks, shard))).forEach(n => held.add(n))
    expect(cids.filter(cid => !held.has(cid.toString())), 'chunks not on the one peer with room').to.deep.equal([])
    const view = peers.filter(p => p !== reader && p.running).map(p => ({ id: peerIdFromString(p.peerId) }))
    const farOff = cids.filter(cid => !rankPeers(cid, view).slice(0, ASKED_FIRST).some(p => p.id.toString() === holder.peerId)).length
    return { file, link: put.link, farOff }
  }

  it('finds chunks on a full peer through DHT provider records', async () => {
    const { file, link, farOff } = await putOnto(full, 'full.bin')
    // with 10 peers in the reader's view, a chunk's holder is outside the nearest six 4 times in 10
    expect(farOff, 'chunks whose holder is not among the reader\'s nearest six').to.be.greaterThan(0)
    // until a heartbeat says it is full, the reader would still ask the holder as the nearest peer with room
    await waitFor(async () => {
      const { peers: seen } = await reader.json<{ peers: Array<{ peerId: string, free: number | null }> }>(['peers'])
      const free = seen.find(s => s.peerId === full.peerId)?.free
      return free != null && free < CHUNK
    }, { timeout: 10_000, message: 'the reader to hear that the holder is full' })
    // the holder has no room left, so nothing but a provider record leads to it; it announces its chunks in the
    // background once the put's traffic is quiet (a second or two here), and until then a get fails saying which
    const out = join(dir, 'full.out')
    let failure = ''
    await waitFor(async () => {
      const r = await reader.run(['get', link, '-o', out])
      failure = r.stderr.trim()
      return r.code === 0
    }, { timeout: 60_000, interval: 1000, message: 'the get to succeed' }).catch((err: Error) => { throw new Error(`${err.message}; last: ${failure}`) })
    expect(await sha256File(out)).to.equal(file.sha256)
  })

  it('gets a file and counts its copies right after its put, from the nearest peer with room, without waiting for the DHT', async () => {
    const roomy = await startPeer({ heartbeat: HEARTBEAT, bootstrap: [peers[0]] })
    peers.push(roomy)
    await allAlive([peers[0], reader])
    const { file, link, farOff } = await putOnto(roomy, 'roomy.bin')
    // with 11 peers in the reader's view, 5 times in 11
    expect(farOff, 'chunks whose holder is not among the reader\'s nearest six').to.be.greaterThan(0)
    // nor does a count of the copies need the DHT
    const health = await reader.json(['health', link])
    expect(health, 'copies counted right after the put').to.include({ min: 1, missing: 0 })
    const out = join(dir, 'roomy.out')
    const r = await reader.run(['get', link, '-o', out])
    expect(r.stderr.trim()).to.equal('')
    expect(r.code).to.equal(0)
    expect(await sha256File(out)).to.equal(file.sha256)
  })
})
