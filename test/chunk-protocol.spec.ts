import { expect } from 'chai'
import { randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { cidForChunk } from '@ionnet/chunk-store'
import { lpStream } from '@libp2p/utils'
import { decode, encode } from 'cborg'
import * as varint from 'uint8-varint'
import { CHUNK_PROTOCOL, createPeer } from '@ionnet/peer'
import { tempDir, waitFor } from './helpers/network.ts'
import type { IonNetPeer } from '@ionnet/peer'

const MiB = 1024 * 1024

/** A chunk as a put makes it: random bytes under the CID of their hash. */
function chunk (size: number): { cid: ReturnType<typeof cidForChunk>, bytes: Uint8Array } {
  const bytes = randomBytes(size)
  return { cid: cidForChunk(bytes), bytes }
}

// a put sends the chunk's bytes with its request, so every answer (stored, already held, refused) comes after them
describe('chunk protocol: storing a chunk on another peer', function () {
  this.timeout(60_000)
  let dir: string
  let sender: IonNetPeer
  let holder: IonNetPeer

  before(async () => {
    dir = await tempDir()
    sender = await createPeer({ repo: join(dir, 'sender'), listen: ['/ip4/127.0.0.1/tcp/0'], heartbeat: 300 })
    // room for a few small chunks, not for a chunk of the largest size
    holder = await createPeer({ repo: join(dir, 'holder'), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [sender.node.getMultiaddrs()[0].toString()], heartbeat: 300, capacity: 3 * MiB })
    await waitFor(() => sender.membership.live().length === 1, { message: 'the peers to see each other' })
  })

  after(async () => {
    await holder?.stop()
    await sender?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('stores a chunk, and answers "had" when it already holds it, raising its replica count', async () => {
    const { cid, bytes } = chunk(256 * 1024)
    expect(await sender.protocol.store(holder.node.peerId, cid, bytes, 2)).to.deep.equal({ had: false, copies: 1, forwarded: true })
    expect(await holder.store.has(cid)).to.equal(true)
    expect(await holder.store.replicas(cid)).to.equal(2)
    expect(await sender.protocol.store(holder.node.peerId, cid, bytes, 3)).to.deep.equal({ had: true, copies: 1, forwarded: true })
    expect(await holder.store.replicas(cid)).to.equal(3)
    // and the copy is the chunk
    expect(Buffer.from(await sender.fetcher.fetch(cid, { remoteOnly: true })).equals(bytes)).to.equal(true)
  })

  it('refuses a chunk it has no room for, after taking its bytes, and the next store still lands', async () => {
    // the largest chunk a peer takes (4 MiB): the answer comes at once, well within the chunk timeout of 20 s
    const big = chunk(4 * MiB)
    const started = Date.now()
    const err = await sender.protocol.store(holder.node.peerId, big.cid, big.bytes, 1).catch(e => e)
    expect(err.remoteCode ?? err.name, err.message).to.equal('ERR_CAPACITY_EXCEEDED')
    expect(Date.now() - started).to.be.below(10_000)
    expect(await holder.store.has(big.cid)).to.equal(false)
    const small = chunk(64 * 1024)
    expect(await sender.protocol.store(holder.node.peerId, small.cid, small.bytes, 1)).to.include({ had: false, copies: 1 })
  })

  it('rejects bytes that do not match the CID they were sent under, and keeps nothing of them', async () => {
    const { cid } = chunk(128 * 1024)
    const other = randomBytes(128 * 1024)
    const err = await sender.protocol.store(holder.node.peerId, cid, other, 1).catch(e => e)
    expect(err).to.be.an('error')
    expect(await holder.store.has(cid)).to.equal(false)
  })

  it('reports a put\'s bytes as they arrive, so a sender on a slow link can tell it from a stalled peer', async () => {
    // the chunk's frame leaves in four pieces 700 ms apart, as through a link of about 1 Mbit/s
    const { cid, bytes } = chunk(256 * 1024)
    const stream = await sender.node.dialProtocol(holder.node.peerId, CHUNK_PROTOCOL)
    const lp = lpStream(stream, { maxDataLength: MiB })
    await lp.write(encode({ op: 'put', cid: cid.bytes, size: bytes.length, replicas: 1 }))
    // its length prefix as lpStream writes it, then the bytes
    stream.send(varint.encode(bytes.length))
    const quarter = bytes.length / 4
    for (let i = 0; i < 4; i++) {
      if (i > 0) await new Promise(resolve => setTimeout(resolve, 700))
      stream.send(bytes.subarray(i * quarter, (i + 1) * quarter))
    }
    const answers: Array<Record<string, unknown>> = []
    do answers.push(decode((await lp.read()).subarray())); while (answers.at(-1)?.progress !== undefined)
    await stream.close()
    expect(answers.at(-1)).to.deep.equal({ ok: true, copies: 1 })
    const reports = answers.slice(0, -1).map(a => a.progress as number)
    // one report a second until the answer: at about 1 and 2 s
    expect(reports.length, JSON.stringify(reports)).to.be.within(1, 3)
    expect(reports, 'counts that only grow').to.deep.equal([...reports].sort((a, b) => a - b))
    expect(reports.every(n => n >= quarter && n <= bytes.length + 4), JSON.stringify(reports)).to.equal(true)
    expect(await holder.store.has(cid)).to.equal(true)
  })

  it('keeps a sender that waits 1.5 s for word waiting while the receiver\'s disk takes 3 s, and the chunk lands', async () => {
    const impatient = await createPeer({ repo: join(dir, 'impatient'), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [sender.node.getMultiaddrs()[0].toString()], heartbeat: 300, chunkTimeout: 1500 })
    const putStream = holder.store.putStream.bind(holder.store)
    try {
      await waitFor(() => impatient.membership.live().some(p => p.id.equals(holder.node.peerId)), { message: 'the new sender to see the holder' })
      holder.store.putStream = async (...args) => {
        await new Promise(resolve => setTimeout(resolve, 3000))
        return putStream(...args)
      }
      const { cid, bytes } = chunk(64 * 1024)
      expect(await impatient.protocol.store(holder.node.peerId, cid, bytes, 1)).to.include({ had: false, copies: 1 })
      expect(await holder.store.has(cid)).to.equal(true)
    } finally {
      holder.store.putStream = putStream
      await impatient.stop()
    }
  })

  it('answers a put whose bytes arrive at once with its answer alone', async () => {
    const { cid, bytes } = chunk(256 * 1024)
    const stream = await sender.node.dialProtocol(holder.node.peerId, CHUNK_PROTOCOL)
    const lp = lpStream(stream, { maxDataLength: MiB })
    await lp.writeV([encode({ op: 'put', cid: cid.bytes, size: bytes.length, replicas: 1 }), bytes])
    expect(decode((await lp.read()).subarray())).to.deep.equal({ ok: true, copies: 1 })
    await stream.close()
    expect(await holder.store.has(cid)).to.equal(true)
  })
})

// a put with several copies sends each chunk once: the first holder passes it on to the next, and so on
describe('chunk protocol: passing a chunk on along a chain of peers', function () {
  this.timeout(60_000)
  let dir: string
  let peers: IonNetPeer[]

  before(async () => {
    dir = await tempDir()
    const first = await createPeer({ repo: join(dir, 'p0'), listen: ['/ip4/127.0.0.1/tcp/0'], heartbeat: 300 })
    const bootstrap = [first.node.getMultiaddrs()[0].toString()]
    peers = [first]
    for (let i = 1; i < 5; i++) {
      // peer 4 has room for no chunk of 256 KiB
      peers.push(await createPeer({ repo: join(dir, `p${i}`), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap, heartbeat: 300, ...(i === 4 ? { capacity: 128 * 1024 } : {}) }))
    }
    await waitFor(() => peers.every(p => p.membership.live().length === peers.length - 1), { message: 'the peers to see each other' })
    // these cases count the bytes each peer sends and leave chunks short of their copies on purpose; a healer's
    // repair of one of them in between (CI saw a 256 KiB chunk of an earlier case counted) is not the chain's doing
    await Promise.all(peers.map(async p => p.healer.stop()))
  })

  after(async () => {
    await Promise.all(peers.map(async p => p.stop()))
    await rm(dir, { recursive: true, force: true })
  })

  const ids = (...i: number[]): Array<IonNetPeer['node']['peerId']> => i.map(n => peers[n].node.peerId)

  it('stores the chunk on every peer of the chain, each sending it once', async () => {
    const { cid, bytes } = chunk(256 * 1024)
    const before = peers.map(p => p.protocol.stats.bytesOut)
    expect(await peers[0].protocol.store(peers[1].node.peerId, cid, bytes, 3, { forward: ids(2, 3) })).to.deep.equal({ had: false, copies: 3, forwarded: true })
    for (const p of peers.slice(1, 4)) {
      expect(await p.store.has(cid)).to.equal(true)
      expect(await p.store.replicas(cid)).to.equal(3)
    }
    const sent = peers.map((p, i) => (p.protocol.stats.bytesOut - before[i]) / bytes.length)
    expect(sent, 'chunks each peer sent').to.deep.equal([1, 1, 1, 0, 0])
  })

  it('leaves out a peer of the chain that is full, and still reaches the peers after it', async () => {
    const { cid, bytes } = chunk(256 * 1024)
    expect(await peers[0].protocol.store(peers[1].node.peerId, cid, bytes, 3, { forward: ids(4, 2) })).to.include({ copies: 2, forwarded: true })
    expect(await peers[4].store.has(cid)).to.equal(false)
    expect(await peers[2].store.has(cid)).to.equal(true)
  })

  it('skips itself, the sender and repeated peers in the chain it is given', async () => {
    const { cid, bytes } = chunk(64 * 1024)
    const before = peers.map(p => p.protocol.stats.bytesOut)
    expect(await peers[0].protocol.store(peers[1].node.peerId, cid, bytes, 5, { forward: ids(1, 0, 2, 2) })).to.include({ copies: 2 })
    expect(await peers[2].store.has(cid)).to.equal(true)
    expect(await peers[0].store.has(cid)).to.equal(false)
    expect(peers[1].protocol.stats.bytesOut - before[1]).to.equal(bytes.length)
  })

  it('passes on a chunk it already held, so the peers after it still get theirs', async () => {
    const { cid, bytes } = chunk(64 * 1024)
    await peers[0].protocol.store(peers[1].node.peerId, cid, bytes, 1)
    expect(await peers[0].protocol.store(peers[1].node.peerId, cid, bytes, 2, { forward: ids(3) })).to.deep.equal({ had: true, copies: 2, forwarded: true })
    expect(await peers[3].store.has(cid)).to.equal(true)
  })

  it('counts the copies of the peers that did store it when the next peer of the chain is gone', async () => {
    const { cid, bytes } = chunk(64 * 1024)
    const gone = peers.pop()!
    await gone.stop()
    await waitFor(async () => (await peers[1].node.dial(gone.node.peerId).then(() => false, () => true)), { message: 'the stopped peer to be unreachable' })
    expect(await peers[0].protocol.store(peers[1].node.peerId, cid, bytes, 3, { forward: [gone.node.peerId, ...ids(2)] })).to.include({ copies: 2, forwarded: true })
    expect(await peers[2].store.has(cid)).to.equal(true)
  })
})
