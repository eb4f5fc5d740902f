import { expect } from 'chai'
import { readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { cleanup, randomFile, sha256File, startNetwork, startPeer, tempDir, waitFor, waitForMesh } from './helpers/network.ts'
import type { TestPeer } from './helpers/network.ts'

const MiB = 1024 * 1024

/** Chunk files in a peer's repo (sidecars and temp files aside). */
async function chunkFiles (peer: TestPeer): Promise<string[]> {
  const blocks = join(peer.repo, 'chunks', 'blocks')
  const names: string[] = []
  for (const shard of await readdir(blocks).catch(() => [])) {
    names.push(...(await readdir(join(blocks, shard))).filter(name => !name.includes('.')))
  }
  return names
}

/**
 * A frozen peer (a suspended laptop, a hung process) differs from a crashed one: its connections stay open and no
 * reset ever comes, only silence. Membership is told to wait 1000 missed heartbeats before calling any peer dead, so
 * the frozen one stays among the live peers a get asks and a put picks, and only each transfer's own stall detection
 * (`--chunk-timeout`) gets past it.
 */
describe('a frozen peer, whose connections stay open and silent (SIGSTOP)', function () {
  this.timeout(120_000)
  const args = ['--dead-after', '1000', '--chunk-timeout', '3000']
  const peers: TestPeer[] = []
  let dir: string
  let reader: TestPeer
  let frozen: TestPeer
  let file: { path: string, sha256: string }
  let link: string
  let held: string[]

  before(async () => {
    dir = await tempDir()
    peers.push(...await startNetwork(5, { args }))
    // no capacity: every chunk of a get has to come from the others
    reader = await startPeer({ bootstrap: [peers[0]], args: [...args, '--capacity', '0'] })
    peers.push(reader)
    await waitForMesh(peers)
    file = await randomFile(dir, 'first.bin', 16 * MiB)
    const put = await peers[0].json(['put', file.path, '--replicas', '2'])
    expect(put.minCopies).to.equal(2)
    link = put.link
    // the storing peer, other than the uploader, that holds the most of the file
    const counts = await Promise.all(peers.slice(1, 5).map(async p => ({ p, chunks: await chunkFiles(p) })))
    counts.sort((a, b) => b.chunks.length - a.chunks.length)
    frozen = counts[0].p
    held = counts[0].chunks
    expect(held.length, 'chunks on the peer to freeze').to.be.greaterThan(0)
  })

  after(async () => {
    // a stopped process would not act on the SIGTERM that cleanup sends
    frozen?.proc.kill('SIGCONT')
    await cleanup(peers)
    await rm(dir, { recursive: true, force: true })
  })

  it('gets a file byte-identical from the other holders while one of them is frozen', async () => {
    frozen.proc.kill('SIGSTOP')
    const out = join(dir, 'first-out.bin')
    const r = await reader.run(['get', link, '-o', out])
    expect(r.code, r.stderr).to.equal(0)
    expect(await sha256File(out)).to.equal(file.sha256)
  })

  it('puts a file with every copy on live peers while a peer it would pick is frozen', async () => {
    const second = await randomFile(dir, 'second.bin', 16 * MiB)
    const put = await peers[0].json(['put', second.path, '--replicas', '3'])
    expect(put.minCopies, put.warning).to.equal(3)
    expect(put.warning).to.equal(undefined)
    const out = join(dir, 'second-out.bin')
    const r = await reader.run(['get', put.link, '-o', out])
    expect(r.code, r.stderr).to.equal(0)
    expect(await sha256File(out)).to.equal(second.sha256)
  })

  it('thawed, the peer still holds every chunk it had and gets the file itself', async () => {
    frozen.proc.kill('SIGCONT')
    expect(await chunkFiles(frozen)).to.include.members(held)
    const out = join(dir, 'first-thawed.bin')
    const r = await frozen.run(['get', link, '-o', out])
    expect(r.code, r.stderr).to.equal(0)
    expect(await sha256File(out)).to.equal(file.sha256)
  })
})

/**
 * Here the transfers' own stall detection is slow (`--chunk-timeout 60000`, so a get gives up on a silent peer only
 * after 24 s) and membership never calls anyone dead: only noticing that the frozen peer missed its heartbeats keeps
 * the transfers after that moment off it. Each test's limit is shorter than waiting on the frozen peer would take.
 */
describe('a peer frozen long enough to miss its heartbeats', function () {
  this.timeout(20_000)
  const args = ['--dead-after', '1000', '--chunk-timeout', '60000']
  const peers: TestPeer[] = []
  let dir: string
  let reader: TestPeer
  let frozen: TestPeer
  let file: { path: string, sha256: string }
  let link: string

  before(async function () {
    this.timeout(90_000)
    dir = await tempDir()
    peers.push(...await startNetwork(4, { args }))
    reader = await startPeer({ bootstrap: [peers[0]], args: [...args, '--capacity', '0'] })
    peers.push(reader)
    await waitForMesh(peers)
    file = await randomFile(dir, 'first.bin', 16 * MiB)
    const put = await peers[0].json(['put', file.path, '--replicas', '2'])
    expect(put.minCopies).to.equal(2)
    link = put.link
    const counts = await Promise.all(peers.slice(1, 4).map(async p => ({ p, chunks: await chunkFiles(p) })))
    counts.sort((a, b) => b.chunks.length - a.chunks.length)
    frozen = counts[0].p
    expect(counts[0].chunks.length, 'chunks on the peer to freeze').to.be.greaterThan(0)
    frozen.proc.kill('SIGSTOP')
  })

  after(async () => {
    frozen?.proc.kill('SIGCONT')
    await cleanup(peers)
    await rm(dir, { recursive: true, force: true })
  })

  it('lists the frozen peer as overdue once it misses a heartbeat, alive all the same', async () => {
    for (const viewer of [peers[0], reader]) {
      const row = await waitFor(async () => {
        const { peers: rows } = await viewer.json(['peers'])
        return rows.find((r: any) => r.peerId === frozen.peerId && r.overdue === true)
      }, { timeout: 10_000, message: 'the frozen peer listed as overdue' })
      expect(row.alive).to.equal(true)
    }
    const table = await peers[0].run(['peers'])
    expect(table.stdout.split('\n').find(line => line.includes(frozen.peerId))).to.match(/\boverdue\b/)
  })

  it('gets a file from the holders on time, without waiting on the overdue one first', async () => {
    const out = join(dir, 'first-out.bin')
    const r = await reader.run(['get', link, '-o', out])
    expect(r.code, r.stderr).to.equal(0)
    expect(await sha256File(out)).to.equal(file.sha256)
  })

  it('puts every copy on the peers on time', async () => {
    const second = await randomFile(dir, 'second.bin', 16 * MiB)
    const put = await peers[0].json(['put', second.path, '--replicas', '3'])
    expect(put.minCopies, put.warning).to.equal(3)
    expect(put.warning).to.equal(undefined)
    const out = join(dir, 'second-out.bin')
    const r = await reader.run(['get', put.link, '-o', out])
    expect(r.code, r.stderr).to.equal(0)
    expect(await sha256File(out)).to.equal(second.sha256)
  })
})
