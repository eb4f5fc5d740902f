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

/** What a test network holds: the file put on it, the reader that gets it, and the peer to freeze. */
interface FrozenNetwork {
  dir: string
  reader: TestPeer
  file: { path: string, sha256: string }
  link: string
  frozen: TestPeer
  /** Chunk files the frozen peer held when it was picked. */
  held: string[]
}

/**
 * `storing` peers and a reader with no capacity (every chunk of its gets has to come from the others), pushed onto
 * `peers` as they start so that a failed setup still cleans up, and a 16 MiB file put with 2 copies; picks the storing
 * peer, other than the uploader, that holds the most of it, to be frozen.
 */
async function frozenSetup (storing: number, args: string[], peers: TestPeer[], dir: string, heartbeat?: number): Promise<FrozenNetwork> {
  peers.push(...await startNetwork(storing, { args, heartbeat }))
  const reader = await startPeer({ bootstrap: [peers[0]], args: [...args, '--capacity', '0'], heartbeat })
  peers.push(reader)
  await waitForMesh(peers)
  const file = await randomFile(dir, 'first.bin', 16 * MiB)
  const put = await peers[0].json(['put', file.path, '--replicas', '2'])
  expect(put.minCopies).to.equal(2)
  const counts = await Promise.all(peers.slice(1, storing).map(async p => ({ p, chunks: await chunkFiles(p) })))
  counts.sort((a, b) => b.chunks.length - a.chunks.length)
  expect(counts[0].chunks.length, 'chunks on the peer to freeze').to.be.greaterThan(0)
  return { dir, reader, file, link: put.link, frozen: counts[0].p, held: counts[0].chunks }
}

/**
 * Registers, in the describe that calls it, hooks that set up a network with a peer to freeze (frozenSetup, within
 * 90 s) before its tests, freezing that peer at once where `freeze` says so, and tear it all down after them. Returns
 * the peers, added as they start, and the network once it is set up.
 */
function useFrozenNetwork (storing: number, args: string[], options: { heartbeat?: number, freeze?: boolean } = {}): { peers: TestPeer[], net: () => FrozenNetwork } {
  const peers: TestPeer[] = []
  let dir: string | undefined
  let net: FrozenNetwork | undefined
  before(async function () {
    this.timeout(90_000)
    dir = await tempDir()
    net = await frozenSetup(storing, args, peers, dir, options.heartbeat)
    if (options.freeze === true) net.frozen.proc.kill('SIGSTOP')
  })
  after(async () => {
    // a stopped process would not act on the SIGTERM that cleanup sends
    net?.frozen.proc.kill('SIGCONT')
    await cleanup(peers)
    if (dir != null) await rm(dir, { recursive: true, force: true })
  })
  return {
    peers,
    net: () => {
      if (net == null) throw new Error('the frozen network is not set up')
      return net
    }
  }
}

/** Gets `link` on `reader` into `out` and checks it is byte-identical to `file`. */
async function expectIdenticalGet (reader: TestPeer, link: string, out: string, file: { sha256: string }): Promise<void> {
  const r = await reader.run(['get', link, '-o', out])
  expect(r.code, r.stderr).to.equal(0)
  expect(await sha256File(out)).to.equal(file.sha256)
}

/** Puts 16 MiB with 3 copies from `uploader`, expects every copy stored without a warning, and reads it back on `reader`. */
async function expectFullPut (uploader: TestPeer, reader: TestPeer, dir: string): Promise<void> {
  const second = await randomFile(dir, 'second.bin', 16 * MiB)
  const put = await uploader.json(['put', second.path, '--replicas', '3'])
  expect(put.minCopies, put.warning).to.equal(3)
  expect(put.warning).to.equal(undefined)
  await expectIdenticalGet(reader, put.link, join(dir, 'second-out.bin'), second)
}

/**
 * A frozen peer (a suspended laptop, a hung process) differs from a crashed one: its connections stay open and no
 * reset ever comes, only silence. Membership is told to wait 1000 missed heartbeats before calling any peer dead, so
 * the frozen one stays among the live peers a get asks and a put picks, and only each transfer's own stall detection
 * (`--chunk-timeout`) gets past it.
 */
describe('a frozen peer, whose connections stay open and silent (SIGSTOP)', function () {
  this.timeout(120_000)
  const { peers, net } = useFrozenNetwork(5, ['--dead-after', '1000', '--chunk-timeout', '3000'])

  it('gets a file byte-identical from the other holders while one of them is frozen', async () => {
    const { frozen, reader, link, dir, file } = net()
    frozen.proc.kill('SIGSTOP')
    await expectIdenticalGet(reader, link, join(dir, 'first-out.bin'), file)
  })

  it('puts a file with every copy on live peers while a peer it would pick is frozen', async () => {
    await expectFullPut(peers[0], net().reader, net().dir)
  })

  it('thawed, the peer still holds every chunk it had and gets the file itself', async () => {
    const { frozen, held, link, dir, file } = net()
    frozen.proc.kill('SIGCONT')
    expect(await chunkFiles(frozen)).to.include.members(held)
    await expectIdenticalGet(frozen, link, join(dir, 'first-thawed.bin'), file)
  })
})

/**
 * Here the transfers' own stall detection is slow (`--chunk-timeout 60000`, so a get gives up on a silent peer only
 * after 24 s) and membership never calls anyone dead: only noticing that the frozen peer missed its heartbeats keeps
 * the transfers after that moment off it. Each test's limit is shorter than waiting on the frozen peer would take.
 */
describe('a peer frozen long enough to miss its heartbeats', function () {
  this.timeout(20_000)
  const { peers, net } = useFrozenNetwork(4, ['--dead-after', '1000', '--chunk-timeout', '60000'], { freeze: true })

  it('lists the frozen peer as overdue once it misses a heartbeat, alive all the same', async () => {
    const { frozen, reader } = net()
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
    const { reader, link, dir, file } = net()
    await expectIdenticalGet(reader, link, join(dir, 'first-out.bin'), file)
  })

  it('puts every copy on the peers on time', async () => {
    await expectFullPut(peers[0], net().reader, net().dir)
  })
})

/**
 * The freeze comes just before a get, so the get asks the frozen holder for chunks before anyone can know: with
 * heartbeats 4 s apart it counts as overdue only 6 s later. Its stall detection is slow (`--chunk-timeout 60000`: a
 * get gives up on a silent peer after 24 s), so only asking another holder as well, once the frozen one has been
 * silent for 3 s, gets the file within the test's limit.
 */
describe('a holder frozen as a get begins, before anyone notices', function () {
  this.timeout(15_000)
  const { net } = useFrozenNetwork(4, ['--dead-after', '1000', '--chunk-timeout', '60000'], { heartbeat: 4000 })

  it('gets the file from the other holders without waiting for the frozen one to time out', async () => {
    const { frozen, reader, link, dir, file } = net()
    frozen.proc.kill('SIGSTOP')
    await expectIdenticalGet(reader, link, join(dir, 'first-out.bin'), file)
  })
})
