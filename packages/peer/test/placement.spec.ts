import { expect } from 'chai'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { cidForChunk } from '@ionnet/chunk-store'
import { rankPeers } from '../src/placement.ts'
import { parseSize } from '../src/cli.ts'

describe('placement', () => {
  it('ranks peers in the same order whatever order they are given in', async () => {
    const peers = await Promise.all(Array.from({ length: 8 }, async () => ({ id: peerIdFromPrivateKey(await generateKeyPair('Ed25519')) })))
    const cid = cidForChunk(Buffer.from('some chunk'))
    const a = rankPeers(cid, peers).map(p => p.id.toString())
    const b = rankPeers(cid, [...peers].reverse()).map(p => p.id.toString())
    expect(a).to.deep.equal(b)
    expect(new Set(a).size).to.equal(8)
  })

  it('spreads different chunks over different nearest peers', async () => {
    const peers = await Promise.all(Array.from({ length: 8 }, async () => ({ id: peerIdFromPrivateKey(await generateKeyPair('Ed25519')) })))
    const firsts = new Set(Array.from({ length: 64 }, (_, i) => rankPeers(cidForChunk(Buffer.from(`chunk ${i}`)), peers)[0].id.toString()))
    expect(firsts.size).to.be.greaterThan(3)
  })
})

describe('sizes on the command line', () => {
  it('accept bytes and binary and decimal units', () => {
    expect(parseSize('1048576')).to.equal(1048576)
    expect(parseSize('512KiB')).to.equal(512 * 1024)
    expect(parseSize('10GiB')).to.equal(10 * 1024 ** 3)
    expect(parseSize('1.5GB')).to.equal(1.5e9)
    expect(() => parseSize('ten')).to.throw()
    expect(() => parseSize('5 parsecs')).to.throw()
  })
})
