import { expect } from 'chai'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { join } from 'node:path'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { createPeer, CHUNK_PROTOCOL, HEARTBEAT_TOPIC } from '@ionnet/peer'
import { encodeHeartbeat } from '../packages/peer/src/heartbeat.ts'
import { cleanup, ionnet, randomFile, sha256File, startPeer, tempDir, waitFor, waitForMesh } from './helpers/network.ts'
import type { IonNetPeer } from '@ionnet/peer'
import type { TestPeer } from './helpers/network.ts'

const MiB = 1024 * 1024

/** Every chunk file in a repo, checked against its name: the store must never hold a partial or wrong chunk. */
async function storedChunksAreWhole (repo: string): Promise<{ chunks: number, temp: number }> {
  const blocks = join(repo, 'chunks', 'blocks')
  let chunks = 0
  for (const shard of await readdir(blocks).catch(() => [])) {
    for (const name of await readdir(join(blocks, shard))) {
      if (name.includes('.')) continue
      const bytes = await readFile(join(blocks, shard, name))
      const { cidForChunk } = await import('@ionnet/chunk-store')
      expect(cidForChunk(bytes).toString(), `chunk file ${name}`).to.equal(name)
      chunks++
    }
  }
  const temp = (await readdir(join(repo, 'chunks', 'tmp')).catch(() => [])).length
  return { chunks, temp }
}

async function api (peer: TestPeer, path: string, headers: Record<string, string>): Promise<{ status: number, body: any }> {
  const info = JSON.parse(await readFile(join(peer.repo, 'api.json'), 'utf8'))
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, info.url), { headers }, (res) => {
      let text = ''
      res.on('data', (d) => { text += String(d) })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text) }) })
    })
    req.on('error', reject)
    req.end()
  })
}

describe('hardening: private swarms', function () {
  this.timeout(120_000)
  const peers: TestPeer[] = []
  let dir: string

  after(async () => {
    await cleanup(peers)
    await rm(dir, { recursive: true, force: true })
  })

  it('lets only peers holding the same swarm key connect, store or fetch', async () => {
    dir = await tempDir()
    const keyA = join(dir, 'a.key')
    const keyB = join(dir, 'b.key')
    expect((await ionnet(['swarm-key', 'new', '--out', keyA])).code).to.equal(0)
    expect((await ionnet(['swarm-key', 'new', '--out', keyB])).code).to.equal(0)
    expect((await ionnet(['swarm-key', 'new', '--out', keyB])).stderr).to.match(/already exists/)
    const a1 = await startPeer({ args: ['--swarm-key', keyA] })
    const a2 = await startPeer({ bootstrap: [a1], args: ['--swarm-key', keyA] })
    const otherKey = await startPeer({ bootstrap: [a1], args: ['--swarm-key', keyB] })
    const noKey = await startPeer({ bootstrap: [a1] })
    peers.push(a1, a2, otherKey, noKey)
    // a keyed peer that starts after the outsiders is the positive control: once it is seen, they had as long
    const a3 = await startPeer({ bootstrap: [a1], args: ['--swarm-key', keyA] })
    peers.push(a3)
    await waitForMesh([a1, a2, a3])
    expect((await a1.json(['id'])).private).to.equal(true)
    const file = await randomFile(dir, 'secret.bin', 2 * MiB)
    const put = await a1.json(['put', file.path, '--replicas', '3'])
    expect(put.minCopies).to.equal(3)

    for (const outsider of [otherKey, noKey]) {
      const seen = (await a1.json(['peers'])).peers.map((p: any) => p.peerId)
      expect(seen).to.not.include(outsider.peerId)
      expect((await outsider.json(['peers'])).peers).to.deep.equal([])
      const get = await outsider.run(['get', put.link, '-o', join(dir, 'stolen.bin')])
      expect(get.code).to.equal(1)
      expect(get.stderr).to.match(/^ionnet: no reachable peer has chunk/)
      const own = await outsider.json(['put', file.path, '--replicas', '3'])
      expect(own.minCopies).to.equal(1)
      expect(own.warning).to.match(/stored only 1 of 3 copies/)
    }
    const out = join(dir, 'inside.bin')
    expect((await a3.run(['get', put.link, '-o', out])).code).to.equal(0)
    expect(await sha256File(out)).to.equal(file.sha256)
  })
})

describe('hardening: the local API', function () {
  this.timeout(60_000)
  let peer: TestPeer

  before(async () => { peer = await startPeer() })
  after(async () => { await cleanup([peer]) })

  it('answers 401 and nothing else without the right token', async () => {
    const token = (await readFile(join(peer.repo, 'api-token'), 'utf8')).trim()
    expect((await api(peer, '/api/v1/id', { authorization: `Bearer ${token}` })).status).to.equal(200)
    const variants: Array<Record<string, string>> = [{}, { authorization: 'Bearer nope' }, { authorization: token }]
    for (const headers of variants) {
      const res = await api(peer, '/api/v1/id', headers)
      expect(res.status).to.equal(401)
      expect(res.body).to.deep.equal({ error: { code: 'ERR_UNAUTHORIZED', message: 'missing or wrong API token' } })
    }
  })

  it('refuses requests whose Host or Origin is not its own, even with the token', async () => {
    const token = (await readFile(join(peer.repo, 'api-token'), 'utf8')).trim()
    const auth = { authorization: `Bearer ${token}` }
    expect((await api(peer, '/api/v1/id', { ...auth, host: 'evil.example:80' })).status).to.equal(403)
    expect((await api(peer, '/api/v1/id', { ...auth, origin: 'http://evil.example' })).status).to.equal(403)
    expect((await api(peer, '/api/v1/get?link=x', { ...auth, origin: 'null' })).status).to.equal(403)
  })

  it('answers malformed requests with a 4xx error object, never a crash', async () => {
    const token = (await readFile(join(peer.repo, 'api-token'), 'utf8')).trim()
    const auth = { authorization: `Bearer ${token}` }
    const paths = ['/api/v1/get', '/api/v1/get?link=', '/api/v1/health?link=%ff%fe', '/api/v1/nope', '/api/v1/put?replicas=-1']
    for (let i = 0; i < 40; i++) paths.push(`/api/v1/get?link=${encodeURIComponent(randomBytes(i).toString('latin1'))}`)
    for (const path of paths) {
      const res = await api(peer, path, auth)
      expect(res.status, path).to.be.within(400, 499)
      expect(res.body.error.code, path).to.match(/^ERR_/)
    }
    expect((await peer.json(['id'])).peerId).to.equal(peer.peerId)
  })

  it('binds to a non-loopback address only with --api-public', async () => {
    const r = await ionnet(['peer', 'start', '--repo', join(peer.repo, 'other'), '--api', '0.0.0.0:0', '--listen', '/ip4/127.0.0.1/tcp/0'])
    expect(r.code).to.equal(1)
    expect(r.stderr).to.match(/^ionnet: --api 0\.0\.0\.0:0 is not a loopback address; add --api-public/)
  })
})

describe('hardening: lying, stalling and malformed peers', function () {
  this.timeout(180_000)
  const procs: TestPeer[] = []
  let liar: IonNetPeer
  let dir: string
  let file: { path: string, sha256: string }
  let link: string

  before(async () => {
    dir = await tempDir()
    const p1 = await startPeer()
    const p2 = await startPeer({ bootstrap: [p1] })
    procs.push(p1, p2)
    liar = await createPeer({ repo: join(dir, 'liar'), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [p1.addr], heartbeat: 300 })
    await waitFor(() => liar.membership.live().length === 2, { message: 'the liar to join' })
    await waitForMesh([p1, p2])
    file = await randomFile(dir, 'file.bin', 6 * MiB)
    link = (await p1.json(['put', file.path, '--replicas', '3', '--chunk-size', '256KiB'])).link
    expect(liar.store.count).to.equal(25)
    // one honest holder and the liar remain: each is the nearest holder of half the keyspace, so over 25 blocks
    // the reader is all but sure to ask the liar first for some (with three holders one of them can shadow it)
    await p2.stop()
  })

  after(async () => {
    await liar.stop()
    await cleanup(procs)
    await rm(dir, { recursive: true, force: true })
  })

  const behaviours: Record<string, (lp: ReturnType<typeof lpStream>, bytes: Uint8Array) => Promise<void>> = {
    'sends wrong bytes': async (lp, bytes) => {
      const bad = Uint8Array.from(bytes)
      bad[0] ^= 1
      await lp.writeV([encodeOk(bad.length), bad])
    },
    'sends truncated data': async (lp, bytes) => {
      await lp.write(encodeOk(bytes.length))
      await lp.unwrap().send(bytes.subarray(0, bytes.length >> 1))
    },
    'stalls': async () => { await new Promise(() => {}) }
  }

  it('ends a fetch at once, blaming no holder, when the fetched bytes are right but cannot be opened', async () => {
    // what a get sees when a manifest lists a chunk under the wrong key: asking other holders would not help
    const { value: chunk } = await liar.store.list()[Symbol.asyncIterator]().next()
    const wrongManifest = new Error('the manifest is wrong')
    let opened = 0
    const error = await liar.fetcher.fetchOpened(chunk.cid, () => { opened++; throw wrongManifest }, { remoteOnly: true }).catch(err => err)
    expect(error).to.equal(wrongManifest)
    // not retried: once on the holder's bytes, where blaming it would try it again and again and end as unavailable
    expect(opened).to.equal(1)
    expect(await liar.fetcher.fetch(chunk.cid, { remoteOnly: true })).to.have.length(chunk.size)
  })

  for (const [what, behave] of Object.entries(behaviours)) {
    it(`skips a provider that ${what}, and asks it last next time`, async () => {
      let asked = 0
      let readerId = ''
      // take the honest handler away first, so every chunk request reaches the lying one
      await liar.node.unhandle(CHUNK_PROTOCOL)
      await liar.node.handle(CHUNK_PROTOCOL, async (stream, connection) => {
        // count only the reader's requests: the other peers' healers also ask the liar what it holds
        if (connection.remotePeer.toString() === readerId) asked++
        const lp = lpStream(stream, { maxDataLength: 8 * MiB, maxBufferSize: 8 * MiB })
        await lp.read()
        const bytes = randomBytes(256 * 1024)
        await behave(lp, bytes).catch(() => {})
        await stream.close().catch(() => {})
      }, { force: true })
      const reader = await startPeer({ bootstrap: [procs[0]], args: ['--capacity', '0', '--chunk-timeout', '1500'] })
      procs.push(reader)
      readerId = reader.peerId
      await waitForMesh([procs[0], reader])
      await waitFor(async () => (await reader.json(['peers'])).peers.some((p: any) => p.peerId === liar.peerId && p.alive), { message: 'the reader to see the liar' })
      const out = join(dir, `got-${asked}.bin`)
      const first = await reader.run(['get', link, '-o', out])
      expect(first.code, first.stderr).to.equal(0)
      expect(await sha256File(out)).to.equal(file.sha256)
      expect(asked, 'the liar was asked for some chunk').to.be.greaterThan(0)
      const askedBefore = asked
      expect((await reader.run(['get', link, '-o', out])).code).to.equal(0)
      expect(asked - askedBefore, 'asks after being caught').to.equal(0)
      await reader.kill()
    })
  }

  it('survives garbage requests, oversized frames, garbage and forged heartbeats', async () => {
    const target = procs[0]
    const rssBefore = await rss(target)
    const addr = multiaddr(target.addr)
    for (let i = 0; i < 200; i++) {
      const stream = await liar.node.dialProtocol(addr, CHUNK_PROTOCOL)
      if (i % 2 === 0) {
        stream.send(randomBytes(1 + (i % 300)))
      } else {
        // a length prefix announcing 64 MiB: refused before any of it is buffered
        stream.send(Uint8Array.from([0x80, 0x80, 0x80, 0x20, ...randomBytes(100)]))
      }
      await stream.close().catch(() => {})
    }
    const dropped = (await target.json(['id'])).heartbeatsDropped
    await liar.node.services.pubsub.publish(HEARTBEAT_TOPIC, randomBytes(64))
    await liar.node.services.pubsub.publish(HEARTBEAT_TOPIC, encodeHeartbeat({
      version: 1, peer: procs[1].peerId, addrs: [], seq: Number.MAX_SAFE_INTEGER - 1, interval: 300, chunks: 0, bytes: 0, free: 0
    }))
    await waitFor(async () => (await target.json(['id'])).heartbeatsDropped >= dropped + 2, { message: 'both bad heartbeats dropped' })
    const seen = (await target.json(['peers'])).peers.find((p: any) => p.peerId === procs[1].peerId)
    expect(seen.free).to.equal(null)
    const out = join(dir, 'still.bin')
    expect((await target.run(['get', link, '-o', out])).code).to.equal(0)
    expect(await rss(target)).to.be.lessThan(rssBefore + 64)
  })
})

describe('hardening: broken input from users', function () {
  this.timeout(120_000)
  let peer: TestPeer
  let dir: string

  before(async () => {
    dir = await tempDir()
    peer = await startPeer()
  })
  after(async () => {
    await cleanup([peer])
    await rm(dir, { recursive: true, force: true })
  })

  it('puts and gets an empty file', async () => {
    const empty = join(dir, 'empty')
    await writeFile(empty, '')
    const { link } = await peer.json(['put', empty, '--replicas', '1'])
    const out = join(dir, 'empty.out')
    expect((await peer.run(['get', link, '-o', out])).code).to.equal(0)
    expect((await readFile(out)).length).to.equal(0)
  })

  it('refuses a folder with one line', async () => {
    const r = await peer.run(['put', dir])
    expect(r.code).to.equal(1)
    expect(r.stderr).to.match(/^ionnet: cannot read .*: not a regular file\n$/)
  })

  it('refuses a file whose reads fail with one line, and the peer keeps serving', async () => {
    // on Linux, reading /proc/self/mem at offset 0 always fails with EIO: a file the system lists but cannot read
    const r = await peer.run(['put', '/proc/self/mem'])
    expect(r.code).to.equal(1)
    expect(r.stderr).to.match(/^ionnet: cannot read \/proc\/self\/mem: EIO: i\/o error/)
    expect(r.stderr.trim().split('\n')).to.have.length(1)
    expect((await peer.json(['id'])).peerId).to.equal(peer.peerId)
  })

  it('fails a put whose file shrinks while it is read, and the peer keeps serving', async () => {
    const big = await randomFile(dir, 'shrinking.bin', 300 * MiB)
    const put = peer.run(['put', big.path, '--replicas', '1'])
    await waitFor(async () => (await peer.json(['id'])).chunks >= 3, { interval: 20, message: 'the put to start' })
    await truncate(big.path, 5 * MiB)
    const r = await put
    expect(r.code).to.equal(1)
    expect(r.stderr).to.match(/changed while it was read/)
    expect((await peer.json(['id'])).peerId).to.equal(peer.peerId)
    await rm(big.path)
  })
})

describe('hardening: storage faults', function () {
  this.timeout(180_000)
  const peers: TestPeer[] = []
  let dir: string

  before(async () => { dir = await tempDir() })
  after(async () => {
    for (const p of peers) await p.kill()
    for (const p of peers) await umount(p.repo)
    await cleanup(peers)
    await rm(dir, { recursive: true, force: true })
  })

  it('fails a put cleanly when the disk fills, announces no partial chunk, and keeps serving', async function () {
    const repo = await smallDisk(join(dir, 'small-disk'), this)
    const peer = await startPeer({ repo })
    peers.push(peer)
    const small = await randomFile(dir, 'small.bin', 512 * 1024)
    const { link } = await peer.json(['put', small.path, '--replicas', '1'])
    const big = await randomFile(dir, 'big.bin', 16 * MiB)
    const r = await peer.run(['put', big.path, '--replicas', '1'])
    expect(r.code).to.equal(1)
    expect(r.stderr).to.match(/^ionnet: .*(ENOSPC|no space)/i)
    expect(r.stderr.trim().split('\n')).to.have.length(1)
    const state = await storedChunksAreWhole(repo)
    expect(state.temp).to.equal(0)
    const out = join(dir, 'small.out')
    expect((await peer.run(['get', link, '-o', out])).code).to.equal(0)
    expect(await sha256File(out)).to.equal(small.sha256)
  })

  it('refuses incoming copies cleanly when its disk fills; the uploader says so and the full peer keeps serving', async function () {
    const repo = await smallDisk(join(dir, 'small-disk-holder'), this)
    const uploader = await startPeer()
    peers.push(uploader)
    const holder = await startPeer({ repo, bootstrap: [uploader] })
    peers.push(holder)
    await waitForMesh([uploader, holder])
    const small = await randomFile(dir, 'held.bin', 512 * 1024)
    const { link } = await uploader.json(['put', small.path, '--replicas', '2'])
    // every chunk of this file needs a copy on the holder, whose 6 MiB disk cannot take them all
    const big = await randomFile(dir, 'overflow.bin', 16 * MiB)
    const r = await uploader.run(['put', big.path, '--replicas', '2'])
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stderr).to.match(/stored only 1 of 2 copies of some chunks: .*(ENOSPC|no space)/i)
    const state = await storedChunksAreWhole(repo)
    expect(state.temp).to.equal(0)
    expect(state.chunks).to.be.lessThan(16)
    // the full peer says so in its heartbeats, so nobody keeps sending it copies that cannot land
    await waitFor(async () => {
      const { peers: seen } = await uploader.json<{ peers: Array<{ peerId: string, free: number | null }> }>(['peers'])
      return seen.find(p => p.peerId === holder.peerId)?.free === 0
    }, { message: 'the full peer to advertise 0 free bytes' })
    // the uploader goes away: the small file must still come whole from the full peer
    await uploader.kill()
    const reader = await startPeer({ bootstrap: [holder] })
    peers.push(reader)
    await waitForMesh([holder, reader])
    const out = join(dir, 'held.out')
    const got = await reader.run(['get', link, '-o', out])
    expect(got.code, got.stderr).to.equal(0)
    expect(await sha256File(out)).to.equal(small.sha256)
  })

  it('gets a file right when one holder\'s copies rotted on disk, there and elsewhere', async () => {
    // holders serve chunks without hashing them again, so rot reaches the reader, which must catch it
    const a = await startPeer()
    const b = await startPeer({ bootstrap: [a] })
    const reader = await startPeer({ bootstrap: [a], args: ['--capacity', '0'] })
    peers.push(a, b, reader)
    await waitForMesh([a, b, reader])
    const file = await randomFile(dir, 'rotting.bin', 4 * MiB)
    const { link, minCopies } = await a.json(['put', file.path, '--replicas', '2'])
    expect(minCopies).to.equal(2)
    const blocks = join(a.repo, 'chunks', 'blocks')
    let rotted = 0
    for (const shard of await readdir(blocks)) {
      for (const name of await readdir(join(blocks, shard))) {
        if (name.includes('.')) continue
        const path = join(blocks, shard, name)
        const bytes = await readFile(path)
        bytes[bytes.length >> 1] ^= 0xff
        await writeFile(path, bytes)
        rotted++
      }
    }
    expect(rotted, 'blocks the uploader holds: 2 chunks and the manifest').to.equal(3)
    // a peer holding none of it, and the rotten holder itself, whose own copies are read first
    for (const [who, peer] of Object.entries({ reader, holder: a })) {
      const out = join(dir, `rotting-${who}.out`)
      const r = await peer.run(['get', link, '-o', out])
      expect(r.code, `${who}: ${r.stderr}`).to.equal(0)
      expect(await sha256File(out), who).to.equal(file.sha256)
    }
  })

  it('after SIGKILL mid-put, restarts with its identity and only whole chunks, and serves them again', async () => {
    const peer = await startPeer()
    const other = await startPeer({ bootstrap: [peer] })
    peers.push(peer, other)
    await waitForMesh([peer, other])
    const kept = await randomFile(dir, 'kept.bin', 3 * MiB)
    const { link } = await peer.json(['put', kept.path, '--replicas', '1'])
    const big = await randomFile(dir, 'interrupted.bin', 200 * MiB)
    const put = peer.run(['put', big.path, '--replicas', '1'])
    await waitFor(async () => (await storedChunksAreWhole(peer.repo)).chunks >= 10, { interval: 20, message: 'the put to write chunks' })
    await peer.kill()
    expect((await put).code).to.equal(1)
    const restarted = await startPeer({ repo: peer.repo, bootstrap: [other] })
    peers.push(restarted)
    expect(restarted.peerId).to.equal(peer.peerId)
    const state = await storedChunksAreWhole(peer.repo)
    expect(state.temp).to.equal(0)
    expect(state.chunks).to.be.greaterThanOrEqual(10)
    await waitForMesh([restarted, other])
    const out = join(dir, 'kept.out')
    const r = await other.run(['get', link, '-o', out])
    expect(r.code, r.stderr).to.equal(0)
    expect(await sha256File(out)).to.equal(kept.sha256)
  })
})

function encodeOk (size: number): Uint8Array {
  // {ok: true, size} in CBOR, written by hand so the liar does not depend on the peer's encoder
  const head = size < 24 ? [0x00 + size] : [0x1a, (size >>> 24) & 0xff, (size >>> 16) & 0xff, (size >>> 8) & 0xff, size & 0xff]
  return Uint8Array.from([0xa2, 0x62, 0x6f, 0x6b, 0xf5, 0x64, 0x73, 0x69, 0x7a, 0x65, ...head])
}

async function rss (peer: TestPeer): Promise<number> {
  const status = await readFile(`/proc/${peer.proc.pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024
}

/** A 6 MiB tmpfs at `path`, so a disk really fills; skips the test where mounting needs root we do not have. */
async function smallDisk (path: string, test: Mocha.Context): Promise<string> {
  await mkdir(path)
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', path], { stdio: 'ignore' })
  } catch {
    test.skip()
  }
  return path
}

async function umount (path: string): Promise<void> {
  try { execFileSync('umount', [path], { stdio: 'ignore' }) } catch {}
}

