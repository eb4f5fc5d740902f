import { expect } from 'chai'
import { createServer } from 'node:net'
import { ERROR_CODES, IonNetApiError, IonNetClient, statusOf } from '../src/index.ts'
import { FakePeer, json } from './fake-peer.ts'
import type { AddressInfo } from 'node:net'

describe('error codes', () => {
  it('gives every code a 4xx or 5xx status, or null for the codes no HTTP answer carries', () => {
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      expect(code).to.match(/^ERR_[A-Z_]+$/)
      if (info.status !== null) expect(info.status, code).to.be.within(400, 599)
    }
    expect(ERROR_CODES.ERR_PEER_NOT_RUNNING.status).to.equal(null)
  })

  it('maps a code to its status, and an unknown code to 500', () => {
    expect(statusOf('ERR_INVALID_LINK')).to.equal(400)
    expect(statusOf('ERR_FILE_UNAVAILABLE')).to.equal(503)
    expect(statusOf('ERR_SOMETHING_NEW')).to.equal(500)
    expect(statusOf('ERR_TRANSFER')).to.equal(500)
  })
})

describe('the client turns every failure into a typed error', () => {
  const peer = new FakePeer()
  let client: IonNetClient

  before(async () => {
    await peer.start()
    client = new IonNetClient({ url: peer.url, token: 'secret' })
  })
  after(async () => { await peer.stop() })

  it('sends the token as a bearer token', async () => {
    peer.answer((_req, res) => { json(res, 200, { peers: [] }) })
    expect(await client.peers()).to.deep.equal([])
    expect(peer.seen.at(-1)?.headers.authorization).to.equal('Bearer secret')
  })

  it('carries the API\'s code, message, status and missing chunks', async () => {
    peer.answer((_req, res) => { json(res, 503, { error: { code: 'ERR_FILE_UNAVAILABLE', message: '1 of 2 chunks were found on no live peer: bafk1', missing: ['bafk1'] } }) })
    const err = await client.health('ionnet://x#y').catch(e => e)
    expect(err).to.be.instanceOf(IonNetApiError)
    expect(err.name).to.equal('IonNetApiError')
    expect(err).to.include({ code: 'ERR_FILE_UNAVAILABLE', status: 503, message: '1 of 2 chunks were found on no live peer: bafk1' })
    expect(err.missing).to.deep.equal(['bafk1'])
  })

  it('calls an answer that is not JSON ERR_PROTOCOL, with its status', async () => {
    peer.answer((_req, res) => { res.writeHead(502); res.end('<html>bad gateway</html>') })
    const err = await client.id().catch(e => e)
    expect(err).to.include({ name: 'IonNetApiError', code: 'ERR_PROTOCOL', status: 502, message: 'unreadable answer from the peer (HTTP 502)' })
  })

  it('reports a download that failed after its first bytes with the code from the trailer', async () => {
    peer.answer((_req, res) => {
      res.writeHead(200, { 'x-ionnet-name': 'a%20b.txt', 'x-ionnet-size': '10', trailer: 'x-ionnet-status' })
      res.write('hello')
      res.addTrailers({ 'x-ionnet-status': encodeURIComponent(JSON.stringify({ code: 'ERR_CHUNK_UNAVAILABLE', message: 'no reachable peer has chunk bafk2' })) })
      res.end()
    })
    const download = await client.get('ionnet://x#y')
    expect(download).to.include({ name: 'a b.txt', size: 10 })
    const got: string[] = []
    const err = await (async () => { for await (const p of download.content) got.push(Buffer.from(p).toString()) })().catch(e => e)
    expect(got.join('')).to.equal('hello')
    expect(err).to.include({ name: 'IonNetApiError', code: 'ERR_CHUNK_UNAVAILABLE', status: 503, message: 'no reachable peer has chunk bafk2' })
  })

  it('accepts a download only when the trailer says ok', async () => {
    peer.answer((_req, res) => {
      res.writeHead(200, { 'x-ionnet-name': 'f', 'x-ionnet-size': '5', trailer: 'x-ionnet-status' })
      res.write('hello')
      res.addTrailers({ 'x-ionnet-status': 'ok' })
      res.end()
    })
    const download = await client.get('ionnet://x#y')
    let n = 0
    for await (const p of download.content) n += p.length
    expect(n).to.equal(5)
  })

  it('calls a download that ends without a trailer ERR_TRANSFER', async () => {
    peer.answer((_req, res) => {
      res.writeHead(200, { 'x-ionnet-name': 'f', 'x-ionnet-size': '10' })
      res.end('hello')
    })
    const download = await client.get('ionnet://x#y')
    const err = await (async () => { for await (const _ of download.content);})().catch(e => e)
    expect(err).to.include({ name: 'IonNetApiError', code: 'ERR_TRANSFER', status: 0 })
    expect(err.message).to.equal('transfer interrupted: the peer did not confirm the file')
  })

  it('calls a connection cut in the middle of a download ERR_TRANSFER', async () => {
    peer.answer((_req, res) => {
      res.writeHead(200, { 'x-ionnet-name': 'f', 'x-ionnet-size': '10', trailer: 'x-ionnet-status' })
      res.write('hello', () => { res.socket?.destroy() })
    })
    const download = await client.get('ionnet://x#y')
    const err = await (async () => { for await (const _ of download.content);})().catch(e => e)
    expect(err).to.include({ name: 'IonNetApiError', code: 'ERR_TRANSFER' })
    expect(err.message).to.match(/^transfer interrupted: /)
  })

  it('says no peer answers when nothing listens at the address', async () => {
    const server = createServer()
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as AddressInfo).port
    await new Promise<void>(resolve => server.close(() => { resolve() }))
    const err = await new IonNetClient({ url: `http://127.0.0.1:${port}`, token: 't' }).id().catch(e => e)
    expect(err).to.include({ name: 'PeerNotRunningError', code: 'ERR_PEER_NOT_RUNNING', message: `no peer answers at http://127.0.0.1:${port}; start one with: ionnet peer start` })
  })

  it('rejects with the signal\'s reason when a call is aborted', async () => {
    peer.answer(() => { /* never answers */ })
    const controller = new AbortController()
    const call = client.id({ signal: controller.signal })
    const reason = new Error('user gave up')
    controller.abort(reason)
    expect(await call.catch(e => e)).to.equal(reason)
  })
})
