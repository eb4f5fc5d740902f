import { expect } from 'chai'
import { readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { base58btc } from 'multiformats/bases/base58'
import { cleanup, randomFile, sha256File, startNetwork, startPeer, tempDir, waitForMesh, ionnet } from './helpers/network.ts'
import type { TestPeer } from './helpers/network.ts'

const MiB = 1024 * 1024

describe('foundation: put and get across real peer processes', function () {
  this.timeout(180_000)
  const peers: TestPeer[] = []
  let dir: string
  let file: { path: string, sha256: string }
  let link: string
  let cid: string
  let dataCid: string | undefined

  before(async () => {
    dir = await tempDir()
    file = await randomFile(dir, 'random.bin', 20 * MiB)
    peers.push(...await startNetwork(3))
    await waitForMesh(peers)
  })

  after(async () => {
    await cleanup(peers)
    await rm(dir, { recursive: true, force: true })
  })

  it('puts a 20 MiB file on peer 1 with 3 copies of every chunk and prints a link', async () => {
    const result = await peers[0].json(['put', file.path, '--replicas', '3'])
    expect(result.link).to.match(/^ionnet:\/\/bafk[a-z2-7]+#z[1-9A-HJ-NP-Za-km-z]+$/)
    expect(result.size).to.equal(20 * MiB)
    expect(result.chunks, '2 MiB chunks').to.equal(10)
    expect(result.minCopies).to.equal(3)
    link = result.link
    cid = result.cid
    const blocks = join(peers[0].repo, 'chunks', 'blocks')
    for (const shard of await readdir(blocks)) {
      dataCid ??= (await readdir(join(blocks, shard))).find(name => !name.includes('.') && name !== cid)
    }
  })

  it('lists the file on the peer that put it', async () => {
    const { files } = await peers[0].json(['ls'])
    expect(files.map((f: any) => f.cid)).to.include(cid)
  })

  it('gets the file byte-identical from a peer that joined later and held none of it', async () => {
    // no capacity: the healer would otherwise move chunks to it as it joins
    const p4 = await startPeer({ bootstrap: [peers[0]], args: ['--capacity', '0'] })
    peers.push(p4)
    await waitForMesh(peers)
    expect((await p4.json(['id'])).chunks).to.equal(0)
    const out = join(dir, 'from-4.bin')
    const r = await p4.run(['get', link, '-o', out])
    expect(r.stderr).to.equal('')
    expect(r.code).to.equal(0)
    expect(await sha256File(out)).to.equal(file.sha256)
  })

  it('gets the file by manifest CID alone on the uploader, and refuses that without the key elsewhere', async () => {
    const out = join(dir, 'by-cid.bin')
    expect((await peers[0].run(['get', cid, '-o', out])).code).to.equal(0)
    expect(await sha256File(out)).to.equal(file.sha256)
    const r = await peers[3].run(['get', cid, '-o', join(dir, 'nope.bin')])
    expect(r.code).to.equal(1)
    expect(r.stderr).to.match(/^ionnet: no key for bafk\S+: .*full link/)
    expect(r.stderr.trim().split('\n')).to.have.length(1)
  })

  it('still gets the file from peer 3 after the uploader stopped', async () => {
    await peers[0].stop()
    const out = join(dir, 'after-stop.bin')
    const r = await peers[2].run(['get', link, '-o', out])
    expect(r.code, r.stderr).to.equal(0)
    expect(await sha256File(out)).to.equal(file.sha256)
  })

  it('writes the file to stdout without -o', async () => {
    const r = await peers[3].run(['get', link])
    expect(r.code).to.equal(0)
    expect(Buffer.byteLength(r.stdout, 'latin1')).to.be.greaterThan(0)
  })

  describe('errors are one line on stderr, exit code 1, and the peer keeps running', () => {
    const cases: Array<[string, () => string[], RegExp]> = [
      ['a malformed link', () => ['get', 'not-a-link'], /^ionnet: invalid IonNet link/],
      ['a truncated link', () => ['get', link.slice(0, -12)], /^ionnet: invalid IonNet link: .*32 bytes/],
      ['a CID that is not a manifest', () => ['get', `${dataCid}#${link.split('#')[1]}`], /^ionnet: cannot decrypt the manifest: wrong key, or the CID is not an IonNet manifest$/m],
      ['a link with the wrong key', () => ['get', `${link.split('#')[0]}#${base58btc.encode(randomBytes(32))}`], /^ionnet: cannot decrypt the manifest: wrong key/],
      ['an unknown CID with a key', () => ['get', `ionnet://bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy#${link.split('#')[1]}`], /^ionnet: no reachable peer has chunk bafkreigh2aki/],
      ['a file that does not exist', () => ['put', join(dir, 'missing.bin')], /^ionnet: cannot read .*missing\.bin: no such file/],
      ['a replica count out of range', () => ['put', file.path, '--replicas', '99'], /^ionnet: replicas must be an integer from 1 to 16/],
      ['a chunk size too large for the chunk protocol', () => ['put', file.path, '--chunk-size', '8MiB'], /^ionnet: chunkSize must be an integer from 1 to \d+ bytes/],
      ['a file name longer than a manifest keeps', () => ['put', file.path, '--name', 'n'.repeat(300)], /^ionnet: name is 300 bytes long; at most 255/]
    ]
    for (const [what, args, message] of cases) {
      it(`for ${what}`, async () => {
        const r = await peers[3].run(args())
        expect(r.code).to.equal(1)
        expect(r.stderr).to.match(message)
        expect(r.stderr.trim().split('\n')).to.have.length(1)
        expect((await peers[3].json(['id'])).peerId).to.equal(peers[3].peerId)
      })
    }

    it('for a repo with no running peer, saying how to start one', async () => {
      const r = await ionnet(['peers', '--repo', join(dir, 'no-such-repo')])
      expect(r.code).to.equal(1)
      expect(r.stderr).to.match(/^ionnet: no peer is running for repo .*; start one with: ionnet peer start --repo /)
    })

    it('for --json too, with the error object on stdout', async () => {
      const r = await peers[3].run(['get', 'not-a-link', '-o', join(dir, 'x.bin'), '--json'])
      expect(r.code).to.equal(1)
      expect(JSON.parse(r.stdout).error.code).to.equal('ERR_INVALID_LINK')
    })
  })
})

describe('foundation: a file whose chunks are gone', function () {
  this.timeout(120_000)
  const peers: TestPeer[] = []
  let dir: string

  after(async () => {
    await cleanup(peers)
    await rm(dir, { recursive: true, force: true })
  })

  it('names how many chunks were found on no live peer, and which', async () => {
    dir = await tempDir()
    const file = await randomFile(dir, 'three.bin', 3 * MiB)
    peers.push(...await startNetwork(2))
    await waitForMesh(peers)
    const { link, cid } = await peers[0].json(['put', file.path, '--replicas', '2', '--chunk-size', '1MiB'])
    // peer 2 loses its data chunks while stopped (the manifest survives); then the uploader dies
    await peers[1].stop()
    const blocks = join(peers[1].repo, 'chunks', 'blocks')
    const lost: string[] = []
    for (const shard of await readdir(blocks)) {
      for (const name of await readdir(join(blocks, shard))) {
        if (name.startsWith(cid) || name.endsWith('.meta')) continue
        lost.push(name)
        await rm(join(blocks, shard, name))
      }
    }
    expect(lost).to.have.length(3)
    await peers[0].kill()
    const restarted = await startPeer({ repo: peers[1].repo })
    peers.push(restarted)
    const r = await restarted.run(['get', link, '-o', join(dir, 'out.bin')])
    expect(r.code).to.equal(1)
    expect(r.stderr).to.match(/^ionnet: 3 of 3 chunks were found on no live peer: bafk/)
    for (const c of lost) expect(r.stderr).to.include(c)
    expect((await readdir(dir)).filter(n => n.startsWith('out.bin'))).to.deep.equal([])
  })
})
