import { expect } from 'chai'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { cidForChunk } from '@ionnet/chunk-store'
import { multiaddr } from '@multiformats/multiaddr'
import { RemoteError } from '../src/errors.ts'
import { onThisMachine, storeAlong } from '../src/put.ts'
import type { ChunkProtocol, StoreResult } from '../src/chunk-protocol.ts'
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

// how a put walks a chain when its peers fail: the chunk protocol's own part (passing a chunk on, over libp2p) is
// tested with real peers in test/chunk-protocol.spec.ts and netlab's bandwidth spec
describe('storing a block along a chain', () => {
  const bytes = Buffer.from('a sealed chunk')
  const block = { cid: cidForChunk(bytes), bytes }
  let peers: PeerId[]

  before(async () => {
    peers = await Promise.all(Array.from({ length: 4 }, async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))))
  })

  /** A chunk protocol whose peers answer as `answer` says; records who was asked, and with which chain after them. */
  function protocol (answer: (peer: number, forward: number[]) => StoreResult | Error): { protocol: ChunkProtocol, asked: string[] } {
    const asked: string[] = []
    const fake = {
      async store (peer: PeerId, _cid: unknown, _bytes: unknown, _replicas: number, options: { forward?: PeerId[] } = {}): Promise<StoreResult> {
        const at = peers.findIndex(p => p.equals(peer))
        const forward = (options.forward ?? []).map(f => peers.findIndex(p => p.equals(f)))
        asked.push(`${at}>${forward.join(',')}`)
        const result = answer(at, forward)
        if (result instanceof Error) throw result
        return result
      }
    }
    return { protocol: fake as unknown as ChunkProtocol, asked }
  }
  const log = Object.assign(() => {}, { error: () => {}, trace: () => {}, enabled: false }) as any

  it('sends the block once, to the head of the chain, which passes it on to the rest', async () => {
    const { protocol: p, asked } = protocol((_at, forward) => ({ had: false, copies: 1 + forward.length, forwarded: true }))
    expect(await storeAlong(peers.slice(0, 3), block, 3, { protocol: p, log })).to.deep.equal({ copies: 3, errors: [] })
    expect(asked).to.deep.equal(['0>1,2'])
  })

  it('puts the next peer at the head when the head refuses, and names the refusal', async () => {
    const { protocol: p, asked } = protocol((at, forward) => at === 0 ? new RemoteError('peer is full', 'ERR_CAPACITY_EXCEEDED') : { had: false, copies: 1 + forward.length, forwarded: true })
    const result = await storeAlong(peers.slice(0, 3), block, 3, { protocol: p, log })
    expect(result.copies).to.equal(2)
    expect(result.errors).to.have.length(1)
    expect(result.errors[0]).to.include('peer is full')
    expect(asked).to.deep.equal(['0>1,2', '1>2'])
  })

  it('tries a head whose stream dropped once more before it moves on', async () => {
    let drops = 0
    const { protocol: p, asked } = protocol((at, forward) => at === 0 && drops++ === 0 ? new Error('stream reset') : { had: false, copies: 1 + forward.length, forwarded: true })
    expect((await storeAlong(peers.slice(0, 2), block, 2, { protocol: p, log })).copies).to.equal(2)
    expect(asked).to.deep.equal(['0>1', '0>1'])
  })

  it('asks the rest itself, one after the other, when a peer keeps its copy without passing it on', async () => {
    // a peer that predates forwarding answers without a count of copies
    const { protocol: p, asked } = protocol((at, forward) => at === 1 ? { had: false, copies: 1, forwarded: false } : { had: false, copies: 1 + forward.length, forwarded: true })
    expect((await storeAlong([peers[1], peers[2], peers[3]], block, 3, { protocol: p, log })).copies).to.equal(3)
    expect(asked).to.deep.equal(['1>2,3', '2>3'])
  })

  it('counts what the chain holds when peers down it failed', async () => {
    const { protocol: p } = protocol(() => ({ had: false, copies: 2, forwarded: true }))
    expect((await storeAlong(peers.slice(0, 4), block, 4, { protocol: p, log })).copies).to.equal(2)
  })
})

// a chain saves an uplink; to a peer on this very machine it only adds a hop, so such peers get their copies directly
describe('telling peers on this machine from the others', () => {
  const over = (...addrs: string[]): Array<{ remoteAddr: Multiaddr }> => addrs.map(a => ({ remoteAddr: multiaddr(a) }))

  it('goes by the connections when there are any', () => {
    expect(onThisMachine(over('/ip4/127.0.0.1/tcp/4001'), ['/ip4/192.168.1.20/tcp/4001'])).to.equal(true)
    expect(onThisMachine(over('/ip6/::1/tcp/4001', '/ip4/127.0.0.1/tcp/4002'), [])).to.equal(true)
    expect(onThisMachine(over('/ip4/192.168.1.20/tcp/4001'), ['/ip4/127.0.0.1/tcp/4001'])).to.equal(false)
    expect(onThisMachine(over('/ip4/127.0.0.1/tcp/4001', '/ip4/192.168.1.20/tcp/4001'), [])).to.equal(false)
  })

  it('without a connection, counts a peer that announces only loopback addresses as on this machine', () => {
    expect(onThisMachine([], ['/ip4/127.0.0.1/tcp/4001', '/ip6/::1/tcp/4001'])).to.equal(true)
    expect(onThisMachine([], ['/ip4/127.0.0.1/tcp/4001', '/ip4/192.168.1.20/tcp/4001'])).to.equal(false)
    expect(onThisMachine([], [])).to.equal(false)
    expect(onThisMachine([], ['not an address'])).to.equal(false)
  })
})
