import { expect } from 'chai'
import { encode } from 'cborg'
import { cidForChunk } from '@ionnet/chunk-store'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { decodeHeartbeat, encodeHeartbeat, scaledInterval } from '../src/heartbeat.ts'
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from '../src/messages.ts'

const MAX = 4 * 1024 * 1024

describe('chunk protocol messages', () => {
  const cid = cidForChunk(Buffer.from('chunk'))

  it('round-trips get, put and has requests', () => {
    expect(decodeRequest(encodeRequest({ op: 'get', cid }), MAX)).to.deep.equal({ op: 'get', cid })
    const put = decodeRequest(encodeRequest({ op: 'put', cid, size: 5, replicas: 3 }), MAX)
    expect(put).to.deep.equal({ op: 'put', cid, size: 5, replicas: 3 })
    const has = decodeRequest(encodeRequest({ op: 'has', cids: [cid, cid] }), MAX)
    expect(has.op === 'has' && has.cids.map(String)).to.deep.equal([cid.toString(), cid.toString()])
  })

  it('refuses a put larger than the maximum chunk size, or with a replica count out of range', () => {
    expect(() => decodeRequest(encode({ op: 'put', cid: cid.bytes, size: MAX + 1, replicas: 3 }), MAX)).to.throw().with.property('name', 'ProtocolError')
    expect(() => decodeRequest(encode({ op: 'put', cid: cid.bytes, size: 10, replicas: 0 }), MAX)).to.throw().with.property('name', 'ProtocolError')
    expect(() => decodeRequest(encode({ op: 'put', cid: cid.bytes, size: 10, replicas: 17 }), MAX)).to.throw().with.property('name', 'ProtocolError')
    expect(decodeRequest(encode({ op: 'put', cid: cid.bytes, size: MAX, replicas: 16 }), MAX).op).to.equal('put')
  })

  it('round-trips responses, including errors from the remote', () => {
    expect(decodeResponse(encodeResponse({ ok: true, size: 7 }))).to.deep.equal({ ok: true, size: 7 })
    expect(decodeResponse(encodeResponse({ ok: false, code: 'ERR_X', message: 'no' }))).to.deep.equal({ ok: false, code: 'ERR_X', message: 'no' })
    expect(decodeResponse(encodeResponse({ ok: true, progress: 65536 }))).to.deep.equal({ ok: true, progress: 65536 })
  })

  it('round-trips a put\'s chain of peers to pass it on to, and the copies the answer counts', async () => {
    const peers = await Promise.all([1, 2].map(async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))))
    const put = decodeRequest(encodeRequest({ op: 'put', cid, size: 5, replicas: 3, forward: peers }), MAX)
    expect(put.op === 'put' && put.forward?.map(String)).to.deep.equal(peers.map(String))
    // a put with no chain says nothing of one, as before chains
    expect(decodeRequest(encodeRequest({ op: 'put', cid, size: 5, replicas: 3, forward: [] }), MAX)).to.deep.equal({ op: 'put', cid, size: 5, replicas: 3 })
    expect(decodeResponse(encodeResponse({ ok: true, have: false, copies: 3 }))).to.deep.equal({ ok: true, have: false, copies: 3 })
  })

  it('refuses a chain that is not a short list of peer IDs, and a count of copies out of range', async () => {
    const put = (forward: unknown): Uint8Array => encode({ op: 'put', cid: cid.bytes, size: 10, replicas: 3, forward })
    const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    // with 3 copies asked for, the receiver passes a chunk on to 2 peers at most
    for (const forward of ['12D3KooW', ['not a peer'], [7], [peer, peer, peer], ['x'.repeat(200)]]) {
      expect(() => decodeRequest(put(forward), MAX), JSON.stringify(forward).slice(0, 40)).to.throw().with.property('name', 'ProtocolError')
    }
    expect(decodeRequest(put([peer, peer]), MAX).op).to.equal('put')
    for (const copies of [-1, 17, 1.5, '3']) {
      expect(() => decodeResponse(encode({ ok: true, copies }))).to.throw().with.property('name', 'ProtocolError')
    }
  })

  it('refuses a put\'s progress that is not a count of bytes', () => {
    for (const progress of [-1, 1.5, '10', Number.MAX_SAFE_INTEGER + 2]) {
      expect(() => decodeResponse(encode({ ok: true, progress }))).to.throw().with.property('name', 'ProtocolError')
    }
  })
})

describe('heartbeats', () => {
  const hb = { version: 1, peer: '12D3KooWabc', addrs: ['/ip4/127.0.0.1/tcp/1'], seq: 5, interval: 300, chunks: 2, bytes: 10, free: -1 }

  it('round-trip', () => {
    expect(decodeHeartbeat(encodeHeartbeat(hb))).to.deep.equal(hb)
  })

  it('are dropped when off-shape', () => {
    expect(decodeHeartbeat(encode({ ...hb }))).to.equal(undefined)
    expect(decodeHeartbeat(encodeHeartbeat({ ...hb, interval: 1 }))).to.equal(undefined)
    expect(decodeHeartbeat(encodeHeartbeat({ ...hb, addrs: Array(100).fill('/ip4/1.2.3.4/tcp/1') }))).to.equal(undefined)
    expect(decodeHeartbeat(encodeHeartbeat({ ...hb, free: -2 }))).to.equal(undefined)
  })

  it('name a longer interval in a network past the scaling size, so the network carries as many beats per interval', () => {
    expect(scaledInterval(5000, 2, 20)).to.equal(5000)
    expect(scaledInterval(5000, 20, 20)).to.equal(5000)
    expect(scaledInterval(5000, 50, 20)).to.equal(12_500)
    // beats per 5 s across the network: 50 peers at 12.5 s send as many as 20 at 5 s
    expect(50 * 5000 / scaledInterval(5000, 50, 20)).to.equal(20)
    // never longer than a heartbeat may name, or receivers would drop it
    const longest = scaledInterval(600_000, 1000, 20)
    expect(decodeHeartbeat(encodeHeartbeat({ ...hb, interval: longest }))?.interval).to.equal(longest)
  })
})
