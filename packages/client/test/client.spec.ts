import { expect } from 'chai'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { IonNetClient } from '../src/index.ts'
import { FakePeer, json } from './fake-peer.ts'
import type { ApiEvent } from '../src/index.ts'

const PUT_RESULT = { link: 'ionnet://bafk#z', cid: 'bafk', name: 'n', size: 0, chunks: 1, replicas: 1, minCopies: 1 }

describe('IonNetClient against a scripted peer', () => {
  const local = new FakePeer()
  const remote = new FakePeer()
  let dir: string

  before(async () => {
    await local.start()
    await remote.start('127.0.0.2')
    dir = await mkdtemp(join(tmpdir(), 'ionnet-client-'))
  })
  after(async () => {
    await local.stop()
    await remote.stop()
    await rm(dir, { recursive: true, force: true })
  })

  describe('put', () => {
    beforeEach(() => {
      for (const peer of [local, remote]) peer.answer((_req, res, body) => { json(res, 200, { ...PUT_RESULT, size: body.length }) })
    })

    it('sends bytes in slices, reporting the bytes sent so far', async () => {
      const bytes = Buffer.alloc(2.5 * 1024 * 1024, 7)
      const progress: number[] = []
      const result = await new IonNetClient({ url: local.url, token: 't' }).put(bytes, { name: 'b.bin', replicas: 2, onProgress: n => progress.push(n) })
      expect(result.size).to.equal(bytes.length)
      const seen = local.seen.at(-1)!
      expect(seen.body.equals(bytes)).to.equal(true)
      expect(Object.fromEntries(seen.url.searchParams)).to.deep.equal({ name: 'b.bin', replicas: '2' })
      expect(progress).to.deep.equal([1048576, 2097152, bytes.length])
    })

    it('sends a Node Readable or any async iterable of bytes', async () => {
      const client = new IonNetClient({ url: local.url, token: 't' })
      await client.put(Readable.from([Buffer.from('hel'), Buffer.from('lo')]))
      expect(local.seen.at(-1)!.body.toString()).to.equal('hello')
      await client.put((async function * () { yield new Uint8Array([1, 2]); yield new Uint8Array([3]) })())
      expect([...local.seen.at(-1)!.body]).to.deep.equal([1, 2, 3])
    })

    it('hands a peer on this machine the absolute path, named after the file, and sends no bytes', async () => {
      const path = join(dir, 'photo.jpg')
      await writeFile(path, 'jpeg bytes')
      const progress: number[] = []
      local.answer((_req, res) => { json(res, 200, { ...PUT_RESULT, size: 10 }) })
      await new IonNetClient({ url: local.url, token: 't' }).put(path, { onProgress: n => progress.push(n) })
      const seen = local.seen.at(-1)!
      expect(Object.fromEntries(seen.url.searchParams)).to.deep.equal({ name: 'photo.jpg', path })
      expect(seen.body.length).to.equal(0)
      expect(progress).to.deep.equal([10])
    })

    it('streams the file to a peer on another machine', async () => {
      const path = join(dir, 'doc.txt')
      await writeFile(path, 'document')
      await new IonNetClient({ url: remote.url, token: 't' }).put(path, { name: 'renamed.txt' })
      const seen = remote.seen.at(-1)!
      expect(Object.fromEntries(seen.url.searchParams)).to.deep.equal({ name: 'renamed.txt' })
      expect(seen.body.toString()).to.equal('document')
    })

    it('refuses a missing file for a remote peer before sending anything', async () => {
      const before = remote.seen.length
      const err = await new IonNetClient({ url: remote.url, token: 't' }).put(join(dir, 'missing.bin')).catch(e => e)
      expect(err).to.include({ name: 'LocalFileError', code: 'ERR_LOCAL_FILE', message: `cannot read ${join(dir, 'missing.bin')}: no such file` })
      expect(remote.seen.length).to.equal(before)
    })

    it('rejects with the source\'s error when the stream fails mid-way', async () => {
      const broken = (async function * () { yield new Uint8Array(10); throw new Error('disk on fire') })()
      const err = await new IonNetClient({ url: local.url, token: 't' }).put(broken).catch(e => e)
      expect(err.message).to.equal('disk on fire')
    })
  })

  describe('get and getTo', () => {
    const file = Buffer.from('the whole file')

    beforeEach(() => {
      for (const peer of [local, remote]) {
        peer.answer((_req, res) => {
          res.writeHead(200, { 'x-ionnet-name': 'whole.txt', 'x-ionnet-size': String(file.length), trailer: 'x-ionnet-status' })
          res.write(file.subarray(0, 4))
          res.write(file.subarray(4))
          res.addTrailers({ 'x-ionnet-status': 'ok' })
          res.end()
        })
      }
    })

    it('streams a download, reporting the bytes received so far', async () => {
      const progress: number[] = []
      const download = await new IonNetClient({ url: local.url, token: 't' }).get('ionnet://bafk#z', { onProgress: n => progress.push(n) })
      const parts: Uint8Array[] = []
      for await (const p of download.content) parts.push(p)
      expect(Buffer.concat(parts).equals(file)).to.equal(true)
      expect(progress.at(-1)).to.equal(file.length)
      expect(local.seen.at(-1)!.url.searchParams.get('link')).to.equal('ionnet://bafk#z')
    })

    it('lets a peer on this machine write the file itself, given the absolute path', async () => {
      local.answer((req, res) => { json(res, 200, { name: 'whole.txt', size: 14, output: new URL(req.url!, local.url).searchParams.get('output') }) })
      const result = await new IonNetClient({ url: local.url, token: 't' }).getTo('ionnet://bafk#z', join(dir, 'out.txt'))
      expect(result).to.deep.equal({ name: 'whole.txt', size: 14, output: join(dir, 'out.txt') })
    })

    it('writes the bytes of a remote peer into place only when the file is whole', async () => {
      const output = join(dir, 'remote.txt')
      const result = await new IonNetClient({ url: remote.url, token: 't' }).getTo('ionnet://bafk#z', output)
      expect(result).to.deep.equal({ name: 'whole.txt', size: file.length, output })
      expect((await readFile(output)).equals(file)).to.equal(true)

      remote.answer((_req, res) => {
        res.writeHead(200, { 'x-ionnet-name': 'cut.txt', 'x-ionnet-size': '100' })
        res.end('part')
      })
      const cut = join(dir, 'cut.txt')
      const err = await new IonNetClient({ url: remote.url, token: 't' }).getTo('ionnet://bafk#z', cut).catch(e => e)
      expect(err.code).to.equal('ERR_TRANSFER')
      expect(await readFile(cut).catch(e => e.code)).to.equal('ENOENT')
      expect(await readFile(`${cut}.ionnet-partial`).catch(e => e.code)).to.equal('ENOENT')
    })
  })

  describe('events', () => {
    it('yields each server-sent event as { type, data } with its data parsed', async () => {
      local.answer((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' })
        res.write(': hello\n\nevent: snapshot\ndata: {"peers":[],"files":[],"rates":{},"repairs":[]}\n\nevent: rep')
        res.end('air\ndata: {"cid":"bafk","from":"a","to":"b","ms":5,"bytes":10,"reason":"repair"}\n\nevent: note\ndata: not json\n\n')
      })
      const events: ApiEvent[] = []
      for await (const e of new IonNetClient({ url: local.url, token: 't' }).events()) events.push(e)
      expect(events).to.deep.equal([
        { type: 'snapshot', data: { peers: [], files: [], rates: {}, repairs: [] } },
        { type: 'repair', data: { cid: 'bafk', from: 'a', to: 'b', ms: 5, bytes: 10, reason: 'repair' } },
        { type: 'note', data: 'not json' }
      ])
      expect(local.seen.at(-1)!.headers.accept).to.equal('text/event-stream')
      expect(local.seen.at(-1)!.url.pathname).to.equal('/api/v1/events')
    })

    it('ends quietly when its signal aborts, even while waiting for the next event', async () => {
      local.answer((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' })
        res.write('event: snapshot\ndata: {}\n\n') // and then nothing, as a quiet peer
      })
      const controller = new AbortController()
      const types: string[] = []
      for await (const e of new IonNetClient({ url: local.url, token: 't' }).events({ signal: controller.signal })) {
        types.push(e.type)
        controller.abort()
      }
      expect(types).to.deep.equal(['snapshot'])
    })

    it('throws the API\'s error when the peer has no event stream', async () => {
      local.answer((_req, res) => { json(res, 404, { error: { code: 'ERR_NOT_FOUND', message: 'no such endpoint: GET /api/v1/events' } }) })
      const err = await (async () => { for await (const _ of new IonNetClient({ url: local.url, token: 't' }).events());})().catch(e => e)
      expect(err).to.include({ name: 'IonNetApiError', code: 'ERR_NOT_FOUND', status: 404 })
    })

    it('calls an answer that is not an event stream ERR_PROTOCOL', async () => {
      local.answer((_req, res) => { json(res, 200, {}) })
      const err = await (async () => { for await (const _ of new IonNetClient({ url: local.url, token: 't' }).events());})().catch(e => e)
      expect(err).to.include({ name: 'IonNetApiError', code: 'ERR_PROTOCOL' })
    })
  })
})
