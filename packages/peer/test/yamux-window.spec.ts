import { expect } from 'chai'
import { createHash, randomBytes } from 'node:crypto'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { MiB, STREAM_WINDOW } from '../src/constants.ts'
import { batchYamuxWindowUpdates } from '../src/yamux-window.ts'
import type { Libp2p } from '@libp2p/interface'

const PROTOCOL = '/ionnet-test/window/1.0.0'
/** yamux's frame type of a window update */
const WINDOW_UPDATE = 1

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
    a = await node()
    b = await node()
  })

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()])
  })

  it('carries many small frames intact to a slow reader, topping the window up once per half window', async () => {
    const data = randomBytes(8 * MiB)
    let updates = 0
    const received = Promise.withResolvers<Buffer>()
    await b.handle(PROTOCOL, async (stream) => {
      const s = stream as any
      const sendFrame = s.sendFrame
      s.sendFrame = (frame: any) => {
        if (frame.type === WINDOW_UPDATE) updates++
        return sendFrame(frame)
      }
      const pieces: Buffer[] = []
      let n = 0
      for await (const piece of stream) {
        pieces.push(Buffer.from(piece.subarray()))
        // a reader that falls behind now and then, so the sender runs into the window
        if (++n % 64 === 0) await new Promise(resolve => setTimeout(resolve, 5))
      }
      received.resolve(Buffer.concat(pieces))
      await stream.close()
    })
    const stream = await a.dialProtocol(b.getMultiaddrs()[0], PROTOCOL)
    // 16 KiB sends: one yamux frame each, as gossip and DHT messages are
    for (let i = 0; i < data.length; i += 16 * 1024) {
      if (!stream.send(data.subarray(i, i + 16 * 1024))) await stream.onDrain()
    }
    await stream.close()
    const got = await received.promise
    expect(got.length).to.equal(data.length)
    expect(sha(got)).to.equal(sha(data))
    // js-yamux alone sent one update per frame read: 512 here
    expect(updates).to.be.at.most(data.length / (STREAM_WINDOW / 2) + 4)
    // 8 MiB cannot pass a 2 MiB window without any
    expect(updates).to.be.at.least(1)
  })
})
