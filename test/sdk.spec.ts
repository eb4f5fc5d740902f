import { expect } from 'chai'
import { spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { IonNetApiError, IonNetClient, PeerNotRunningError } from '@ionnet/client'
import { cleanup, randomFile, sha256File, startPeer, tempDir, waitFor } from './helpers/network.ts'
import type { ApiEvent } from '@ionnet/client'
import type { TestPeer } from './helpers/network.ts'

const MiB = 1024 * 1024
const CLIENT_DIR = new URL('../packages/client/', import.meta.url).pathname

function sha256 (bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

async function collect (content: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const p of content) parts.push(p)
  return Buffer.concat(parts)
}

describe('@ionnet/client against real peers', function () {
  this.timeout(120_000)
  const peers: TestPeer[] = []
  let dir: string
  let uploader: IonNetClient
  let reader: IonNetClient

  before(async () => {
    dir = await tempDir()
    const first = await startPeer()
    peers.push(first)
    peers.push(await startPeer({ bootstrap: [first] }))
    uploader = await IonNetClient.forRepo(peers[0].repo)
    reader = await IonNetClient.forRepo(peers[1].repo)
    await waitFor(async () => (await uploader.peers()).some(p => p.peerId === peers[1].peerId && p.alive), { message: 'the peers to see each other' })
  })

  after(async () => {
    await cleanup(peers)
    await rm(dir, { recursive: true, force: true })
  })

  it('puts bytes and gets them byte-identical as a stream from another peer, reporting progress both ways', async () => {
    const bytes = randomBytes(3 * MiB + 17)
    const sent: number[] = []
    const put = await uploader.put(bytes, { name: 'bytes.bin', replicas: 2, onProgress: n => sent.push(n) })
    expect(put).to.include({ name: 'bytes.bin', size: bytes.length, chunks: 2, replicas: 2, minCopies: 2 })
    expect(put.link).to.match(/^ionnet:\/\/bafkrei[a-z2-7]+#z/)
    expect(sent.at(-1)).to.equal(bytes.length)

    const received: number[] = []
    const download = await reader.get(put.link, { onProgress: n => received.push(n) })
    expect(download).to.include({ name: 'bytes.bin', size: bytes.length })
    expect(sha256(await collect(download.content))).to.equal(sha256(bytes))
    expect(received.at(-1)).to.equal(bytes.length)
  })

  it('puts a Node Readable of unknown length and gets it byte-identical', async () => {
    const pieces = Array.from({ length: 5 }, () => randomBytes(700 * 1024))
    const put = await uploader.put(Readable.from(pieces), { name: 'stream.bin', replicas: 2 })
    expect(put.size).to.equal(5 * 700 * 1024)
    const download = await reader.get(put.link)
    expect(sha256(await collect(download.content))).to.equal(sha256(Buffer.concat(pieces)))
  })

  it('puts a path, which the local peer reads itself, and getTo writes the file byte-identical', async () => {
    const file = await randomFile(dir, 'by-path.bin', 2 * MiB)
    const put = await uploader.put(file.path, { replicas: 2 })
    expect(put.name, 'named after the file').to.equal('by-path.bin')
    const out = join(dir, 'copy.bin')
    const got = await reader.getTo(put.link, out)
    expect(got).to.deep.equal({ name: 'by-path.bin', size: 2 * MiB, output: out })
    expect(await sha256File(out)).to.equal(file.sha256)
    expect((await uploader.files()).map(f => f.name)).to.include.members(['bytes.bin', 'stream.bin', 'by-path.bin'])
    expect(await reader.files(), 'only the uploader\'s keyring has them').to.deep.equal([])
  })

  it('knows the peer\'s identity and sees the other peer alive', async () => {
    const id = await uploader.id()
    expect(id.peerId).to.equal(peers[0].peerId)
    expect(id.addrs).to.include(peers[0].addr)
    const seen = await uploader.peers()
    expect(seen.map(p => p.peerId)).to.deep.equal([peers[1].peerId])
    expect(seen[0]).to.include({ alive: true, connected: true })
  })

  it('reports the live copies of every block of a file', async () => {
    const put = await uploader.put(randomBytes(2 * MiB), { name: 'health.bin', replicas: 2 })
    const report = await reader.health(put.link)
    expect(report).to.include({ cid: put.cid, name: 'health.bin', size: 2 * MiB, replicas: 2, missing: 0 })
    expect(report.copies).to.have.length(report.blocks)
    expect(report.min).to.equal(2)
  })

  it('throws a typed error with the API\'s code and status for a bad link, and none for a good one', async () => {
    const err = await reader.get('ionnet://not-a-link').catch(e => e)
    expect(err).to.be.instanceOf(IonNetApiError)
    expect(err).to.include({ name: 'IonNetApiError', code: 'ERR_INVALID_LINK', status: 400 })
    expect(await reader.health('nope').catch(e => e.code)).to.equal('ERR_INVALID_LINK')
    const { link } = await uploader.put(Buffer.from('control'), { replicas: 1 })
    expect((await collect((await uploader.get(link)).content)).toString()).to.equal('control')
  })

  it('stops sending a stream as soon as the peer refuses the put', async () => {
    let sent = 0
    // an endless source: the put can only end because the client stops at the peer's early answer
    const endless = (async function * () { for (;;) { sent += 64 * 1024; yield new Uint8Array(64 * 1024) } })()
    const err = await uploader.put(endless, { replicas: 99 }).catch(e => e)
    expect(err).to.include({ name: 'IonNetApiError', code: 'ERR_BAD_REQUEST', status: 400 })
    expect(err.message).to.match(/^replicas must be an integer from 1 to 16/)
    expect(sent).to.be.below(256 * MiB)
  })

  it('says which peer lacks the key for a bare CID: only the uploader resolves it', async () => {
    const { cid } = await uploader.put(Buffer.from('by cid'), { replicas: 2 })
    expect((await collect((await uploader.get(cid)).content)).toString()).to.equal('by cid')
    expect(await reader.get(cid).catch(e => e)).to.include({ code: 'ERR_KEY_MISSING', status: 404 })
  })

  it('throws PeerNotRunningError for a repo no peer runs on', async () => {
    const err = await IonNetClient.forRepo(join(dir, 'no-peer')).catch(e => e)
    expect(err).to.be.instanceOf(PeerNotRunningError)
    expect(err.code).to.equal('ERR_PEER_NOT_RUNNING')
  })

  it('runs the README example as written against a running peer', () => {
    const readme = readFileSync(join(CLIENT_DIR, 'README.md'), 'utf8')
    const section = readme.slice(readme.indexOf('## Example'))
    const example = section.slice(section.indexOf('```ts\n') + 6, section.indexOf('\n```', section.indexOf('```ts\n')))
    const run = spawnSync(process.execPath, ['--input-type=module'], {
      input: example,
      cwd: CLIENT_DIR,
      env: { ...process.env, IONNET_REPO: peers[0].repo },
      encoding: 'utf8',
      timeout: 60_000
    })
    expect(run.stderr).to.equal('')
    expect(run.stdout).to.equal('hello.txt 12 hello ionnet\n')
  })

  it('follows the live event stream', async function () {
    const signal = AbortSignal.timeout(20_000)
    const seen: ApiEvent[] = []
    for await (const event of uploader.events({ signal })) {
      seen.push(event)
      if (event.type === 'snapshot') break
    }
    expect(seen.map(e => e.type), 'a snapshot within 20 s').to.include('snapshot')
    expect(seen.find(e => e.type === 'snapshot')!.data).to.include.keys('peers', 'files', 'rates', 'repairs')
  })
})
