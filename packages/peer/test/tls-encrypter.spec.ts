import { expect } from 'chai'
import { createHash, randomBytes } from 'node:crypto'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { generateKey, preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { tls } from '@libp2p/tls'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { waitFor } from '../../../test/helpers/network.ts'
import { MiB } from '../src/constants.ts'
import { nativeTls, tlsConnections } from '../src/tls-encrypter.ts'
import type { Libp2p } from '@libp2p/interface'

const PROTOCOL = '/ionnet-test/echo/1.0.0'

interface NodeOptions {
  /** @libp2p/tls instead of IonNet's encrypter */
  library?: boolean
  swarmKey?: Uint8Array
  /** ms a TCP connection may stay silent */
  idle?: number
  onBytesFrom?: (peer: string) => void
}

async function node (options: NodeOptions = {}): Promise<Libp2p> {
  const libp2p = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp({ inboundSocketInactivityTimeout: options.idle, outboundSocketInactivityTimeout: options.idle })],
    connectionEncrypters: [options.library === true ? tls() : nativeTls({ onBytesFrom: options.onBytesFrom })],
    connectionProtector: options.swarmKey == null ? undefined : preSharedKey({ psk: options.swarmKey }),
    // no keep-alive pings: the idle test needs a silent connection
    streamMuxers: [yamux({ enableKeepAlive: false })],
    connectionManager: { allow: ['/ip4/127.0.0.1'] },
    connectionMonitor: { enabled: false }
  })
  // echoes everything back, so one exchange checks both directions of the connection
  await libp2p.handle(PROTOCOL, async (stream) => {
    for await (const piece of stream) {
      if (!stream.send(piece)) await stream.onDrain()
    }
    await stream.close()
  })
  return libp2p
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

/** Sends `data` over a new stream from `from` to `to` and resolves what came back. */
async function echo (from: Libp2p, to: Libp2p, data: Uint8Array, pace = 0): Promise<Buffer> {
  const stream = await from.dialProtocol(to.getMultiaddrs()[0], PROTOCOL)
  const back: Buffer[] = []
  const reading = (async () => {
    for await (const piece of stream) back.push(Buffer.from(piece.subarray()))
  })()
  for (let i = 0; i < data.length; i += 256 * 1024) {
    if (!stream.send(data.subarray(i, i + 256 * 1024))) await stream.onDrain()
    if (pace > 0) await new Promise(resolve => setTimeout(resolve, pace))
  }
  await stream.close()
  await reading
  return Buffer.concat(back)
}

describe('TLS on the socket: libp2p TLS 1.3, encrypted by Node next to the TCP socket', function () {
  this.timeout(30_000)
  const nodes: Libp2p[] = []
  const started = async (options?: NodeOptions): Promise<Libp2p> => {
    const n = await node(options)
    nodes.push(n)
    return n
  }

  afterEach(async () => {
    await Promise.all(nodes.splice(0).map(async n => n.stop()))
  })

  it('says whom bytes came from as they arrive, many times within one yamux frame', async () => {
    const heardByA: string[] = []
    const heardByB: string[] = []
    const a = await started({ onBytesFrom: peer => heardByA.push(peer) })
    const b = await started({ onBytesFrom: peer => heardByB.push(peer) })
    const data = randomBytes(MiB)
    expect(sha(await echo(a, b, data))).to.equal(sha(data))
    expect([...new Set(heardByB)]).to.deep.equal([a.peerId.toString()])
    expect([...new Set(heardByA)]).to.deep.equal([b.peerId.toString()])
    // 1 MiB sent in 4 frames of 256 KiB, heard in TLS records of 16 KiB as they were read
    expect(heardByB.length).to.be.above(8)
  })

  it('carries 16 MiB intact both ways, with TLS on the socket at both ends', async () => {
    const [a, b] = [await started(), await started()]
    const before = { ...tlsConnections }
    const data = randomBytes(16 * MiB)
    const got = await echo(a, b, data)
    expect(got.length).to.equal(data.length)
    expect(sha(got)).to.equal(sha(data))
    const [connection] = a.getConnections(b.peerId)
    expect(connection.encryption).to.equal('/tls/1.0.0')
    expect(connection.remotePeer.equals(b.peerId)).to.equal(true)
    // both ends of the one connection live in this process
    expect(tlsConnections.onSocket - before.onSocket).to.equal(2)
    expect(tlsConnections.onStream - before.onStream).to.equal(0)
  })

  it('speaks with @libp2p/tls peers, whichever end dials', async () => {
    const ours = await started()
    const theirs = await started({ library: true })
    for (const [from, to] of [[ours, theirs], [theirs, ours]]) {
      const data = randomBytes(4 * MiB)
      expect(sha(await echo(from, to, data))).to.equal(sha(data))
      const [connection] = from.getConnections(to.peerId)
      expect(connection.encryption).to.equal('/tls/1.0.0')
      expect(connection.remotePeer.equals(to.peerId)).to.equal(true)
      await connection.close()
      // the next dial must not pick up the other end's view of this connection while it is still closing
      await waitFor(() => from.getConnections().length === 0 && to.getConnections().length === 0, { timeout: 5000, message: 'connection still open at one end' })
    }
  })

  it('refuses a peer that is not the one dialed, and still serves the next dial', async () => {
    const [a, b] = [await started(), await started()]
    const impostor = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const wrong = multiaddr(`${b.getMultiaddrs()[0].decapsulateCode(421).toString()}/p2p/${impostor.toString()}`)
    const refused = await a.dial(wrong).then(() => undefined, (err: Error) => err)
    expect(refused?.message).to.match(/peer/i)
    const data = randomBytes(MiB)
    expect(sha(await echo(a, b, data))).to.equal(sha(data))
  })

  it('hangs up at both ends whichever end closes the connection', async () => {
    const [a, b] = [await started(), await started()]
    for (const closer of [a, b]) {
      await echo(a, b, randomBytes(MiB))
      await closer.getConnections()[0].close()
      await waitFor(() => a.getConnections().length === 0 && b.getConnections().length === 0, { timeout: 5000, message: 'connection still open at one end' })
    }
  })

  it('closes a silent connection after the transport\'s idle timeout, and keeps a busy one past it', async () => {
    const [a, b] = [await started({ idle: 500 }), await started({ idle: 500 })]
    // 3 s of traffic, a piece every 100 ms: six idle timeouts long
    const data = randomBytes(30 * 256 * 1024)
    expect(sha(await echo(a, b, data, 100))).to.equal(sha(data))
    expect(a.getConnections(b.peerId)).to.have.length(1)
    await waitFor(() => a.getConnections().length === 0 && b.getConnections().length === 0, { timeout: 10_000, message: 'a silent connection stayed open' })
  })

  it('leaves a private swarm\'s connections to @libp2p/tls, on top of the pnet stream', async () => {
    const key = new Uint8Array(95)
    generateKey(key)
    const [a, b] = [await started({ swarmKey: key }), await started({ swarmKey: key })]
    const before = { ...tlsConnections }
    const data = randomBytes(4 * MiB)
    expect(sha(await echo(a, b, data))).to.equal(sha(data))
    expect(a.getConnections(b.peerId)[0].encryption).to.equal('/tls/1.0.0')
    expect(tlsConnections.onStream - before.onStream).to.equal(2)
    expect(tlsConnections.onSocket - before.onSocket).to.equal(0)
  })
})
