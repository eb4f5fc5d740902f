import { expect } from 'chai'
import { createHash } from 'node:crypto'
import { readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { cleanup, randomFile, sha256File, startNetwork, startPeer, tempDir, waitFor, waitForMesh } from './helpers/network.ts'
import type { TestPeer } from './helpers/network.ts'

const MiB = 1024 * 1024
const HEAL_ARGS = ['--heal-interval', '1000', '--scrub-rate', '20', '--scrub-interval', '1000']

interface Health { blocks: number, replicas: number, min: number, median: number, max: number, underReplicated: number, copies: number[] }

/** Chunk files (not sidecars) in a peer's repo, by CID. */
async function chunkFiles (peer: TestPeer): Promise<Map<string, string>> {
  const blocks = join(peer.repo, 'chunks', 'blocks')
  const files = new Map<string, string>()
  for (const shard of await readdir(blocks).catch(() => [])) {
    for (const name of await readdir(join(blocks, shard))) {
      if (!name.includes('.')) files.set(name, join(blocks, shard, name))
    }
  }
  return files
}

describe('healer: the network keeps every chunk at its replica count', function () {
  this.timeout(180_000)
  const peers: TestPeer[] = []
  let observer: TestPeer
  let dir: string
  let file: { path: string, sha256: string }
  let link: string
  let put: { link: string, minCopies: number }

  before(async () => {
    dir = await tempDir()
    file = await randomFile(dir, 'ten.bin', 10 * MiB)
    peers.push(...await startNetwork(6, { args: HEAL_ARGS }))
    // a peer that offers no space: it can never hold a chunk, so its get must come from the network
    observer = await startPeer({ bootstrap: [peers[0]], args: [...HEAL_ARGS, '--capacity', '0'] })
    await waitForMesh([...peers, observer])
    put = await peers[0].json(['put', file.path, '--replicas', '3'])
    link = put.link
  })

  after(async () => {
    await cleanup([...peers, observer])
    await rm(dir, { recursive: true, force: true })
  })

  it('starts with every block at 3 live copies', async () => {
    expect(put.minCopies, 'copies the put made of its least copied block').to.equal(3)
    // another peer's count agrees; on a loaded machine a holder can look dead for a beat right after a put (its
    // announcements keep it busy), so the count is taken again until it settles
    let health: Health | undefined
    await waitFor(async () => {
      health = await observer.json<Health>(['health', link])
      return health.min === 3
    }, { timeout: 10_000, message: 'the observer to count 3 live copies of every block' }).catch((err: Error) => {
      throw new Error(`${err.message}; it counted ${health?.copies.join(' ')}`)
    })
    expect(health!.blocks, '5 chunks of 2 MiB and the manifest').to.equal(6)
    expect(health!.replicas).to.equal(3)
    expect(health!.underReplicated).to.equal(0)
  })

  it('restores 3 live copies within 10 s after two holders are SIGKILLed, and the file stays readable', async () => {
    const holders: TestPeer[] = []
    for (const p of peers.slice(1)) if ((await chunkFiles(p)).size > 0) holders.push(p)
    expect(holders.length).to.be.greaterThanOrEqual(2)
    const victims = holders.slice(0, 2)
    const killedAt = Date.now()
    await Promise.all(victims.map(async v => v.kill()))
    const survivor = peers.find(p => !victims.includes(p))!
    const healed = await waitFor(async () => {
      const h = await survivor.json<Health>(['health', link])
      return h.min >= 3 ? h : undefined
    }, { timeout: 10_000, interval: 200, message: 'every block back at 3 live copies' })
    const healMs = Date.now() - killedAt
    expect(healed.underReplicated).to.equal(0)
    expect(healMs).to.be.lessThan(10_000)
    const repairs = peers.flatMap(p => p.events('repair')).filter(e => e.reason === 'repair')
    expect(repairs.length).to.be.greaterThan(0)

    expect((await observer.json(['id'])).chunks).to.equal(0)
    const out = join(dir, 'after-heal.bin')
    const r = await observer.run(['get', link, '-o', out])
    expect(r.code, r.stderr).to.equal(0)
    expect(await sha256File(out)).to.equal(file.sha256)
  })

  it('finds a chunk corrupted on disk by scrub and replaces it from a healthy replica', async () => {
    const live = peers.filter(p => p.running)
    let victim: TestPeer | undefined
    let cid = ''
    let path = ''
    for (const p of live) {
      const files = await chunkFiles(p)
      if (files.size > 0) {
        victim = p;
        [cid, path] = files.entries().next().value as [string, string]
        break
      }
    }
    expect(victim).to.not.equal(undefined)
    const good = await readFile(path)
    const bad = Buffer.from(good)
    bad[bad.length >> 1] ^= 0xff
    await writeFile(path, bad)
    const digest = (b: Buffer): string => createHash('sha256').update(b).digest('hex')
    expect(digest(await readFile(path))).to.not.equal(digest(good))
    // scrub removes the corrupt copy before the good one lands: the file is briefly absent
    await waitFor(async () => digest(await readFile(path).catch(() => Buffer.alloc(0))) === digest(good), { timeout: 15_000, message: `scrub to replace the corrupt copy of ${cid}` })
    expect(victim!.events('repair').some(e => e.reason === 'scrub' && e.cid === cid)).to.equal(true)
  })

  it('spreads chunks to joining peers without losing or over-copying anything (3 to 3+margin copies)', async () => {
    const live = peers.filter(p => p.running)
    const joined = await Promise.all([1, 2, 3].map(async () => startPeer({ bootstrap: [live[0]], args: HEAL_ARGS })))
    peers.push(...joined)
    await waitForMesh([...live, ...joined, observer])
    const settled = await waitFor(async () => {
      const h = await observer.json<Health>(['health', link])
      const moved = (await Promise.all(joined.map(async p => (await chunkFiles(p)).size))).some(n => n > 0)
      return h.min >= 3 && h.max <= 4 && moved ? h : undefined
    }, { timeout: 30_000, interval: 300, message: 'chunks to reach joining peers within 3..4 copies' })
    expect(settled.min).to.be.greaterThanOrEqual(3)
    expect(settled.max).to.be.lessThanOrEqual(4)
    const out = join(dir, 'after-join.bin')
    expect((await observer.run(['get', link, '-o', out])).code).to.equal(0)
    expect(await sha256File(out)).to.equal(file.sha256)
  })
})
