import { expect } from 'chai'
import { createHash, randomBytes } from 'node:crypto'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { MiB, STREAM_WINDOW } from '../src/constants.ts'
import { batchYamuxWindowUpdates, capYamuxFrames, MAX_FRAME } from '../src/yamux-window.ts'
import type { Libp2p } from '@libp2p/interface'

const PROTOCOL = '/ionnet-test/window/1.0.0'

async function node (): Promise<Libp2p> {
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux({ streamOptions: { initialStreamWindowSize: STREAM_WINDOW } })]
  })
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

describe('yamux window updates', function () {
  this.timeout(30_000)
  let a: Libp2p
  let b: Libp2p

  before(async () => {
    batchYamuxWindowUpdates()
    capYamuxFrames()
    a = await node()
    b = await node()
  })

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()])
  })

  it('sends no update for a chunk-sized message: its sender is done by then', async () => {
    // a put's or a get's one message: the chunk, its tag and a header, just over half the window
    const data = randomBytes(2 * MiB + 64)
    const { updates, got } = await exchange('/ionnet-test/window/chunk/1.0.0', data, 256 * 1024, false)
    expect(sha(got)).to.equal(sha(data))
    expect(updates).to.equal(0)
  })

  it('sends a chunk written at once in frames the reader sees arrive one by one', async () => {
    const data = randomBytes(2 * MiB + 64)
    const { frames, got } = await exchange('/ionnet-test/window/frames/1.0.0', data, data.length, false)
    expect(sha(got)).to.equal(sha(data))
    // js-yamux alone sent it as one frame of all its bytes, which fit the window
    expect(Math.max(...frames)).to.equal(MAX_FRAME)
    expect(frames.length).to.equal(Math.ceil(data.length / MAX_FRAME))
  })

  it('carries many small frames intact to a slow reader, topping the window up once most of it is used', async () => {
    const data = randomBytes(8 * MiB)
    // 16 KiB sends: one yamux frame each, as gossip and DHT messages are
    const { updates, got } = await exchange(PROTOCOL, data, 16 * 1024, true)
    expect(got.length).to.equal(data.length)
    expect(sha(got)).to.equal(sha(data))
    // js-yamux alone sent one update per frame read: 512 here
    expect(updates).to.be.at.most(data.length / (STREAM_WINDOW * 3 / 4) + 4)
    // 8 MiB cannot pass a 4 MiB window without any
    expect(updates).to.be.at.least(1)
  })

  /** Sends `data` from a to b in pieces of `piece` bytes; counts the window updates that reach a, and a's data frames. */
  async function exchange (protocol: string, data: Uint8Array, piece: number, slow: boolean): Promise<{ updates: number, frames: number[], got: Buffer }> {
    let updates = 0
    const frames: number[] = []
    const received = Promise.withResolvers<Buffer>()
    await b.handle(protocol, async (stream) => {
      const pieces: Buffer[] = []
      let n = 0
      for await (const p of stream) {
        pieces.push(Buffer.from(p.subarray()))
        // a reader that falls behind now and then, so the sender runs into the window
        if (slow && ++n % 64 === 0) await new Promise(resolve => setTimeout(resolve, 5))
      }
      received.resolve(Buffer.concat(pieces))
      await stream.close()
    })
    const stream = await a.dialProtocol(b.getMultiaddrs()[0], protocol)
    // counted where they arrive: b may read the first frames before its handler runs
    const s = stream as any
    const handleWindowUpdate = s.handleWindowUpdate.bind(s)
    s.handleWindowUpdate = (frame: any) => {
      if (frame.header.length > 0) updates++
      handleWindowUpdate(frame)
    }
    const sendFrame = s.sendFrame
    s.sendFrame = (header: any, body?: any) => {
      if (header.type === 0 && header.length > 0) frames.push(header.length)
      return sendFrame(header, body)
    }
    for (let i = 0; i < data.length; i += piece) {
      if (!stream.send(data.subarray(i, i + piece))) await stream.onDrain()
    }
    // b's close follows its updates on the connection: once it is in, every update is
    const closed = new Promise(resolve => stream.addEventListener('close', resolve, { once: true }))
    await stream.close()
    const got = await received.promise
    await closed
    return { updates, frames, got }
  }
})
