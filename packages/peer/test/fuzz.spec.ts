import { expect } from 'chai'
import { randomBytes } from 'node:crypto'
import { cidForChunk } from '@ionnet/chunk-store'
import { decodeHeartbeat, encodeHeartbeat } from '../src/heartbeat.ts'
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from '../src/messages.ts'

/*
 * Bounded fuzzing of the peer's decoders of outside bytes: chunk protocol requests and responses, and heartbeats.
 * Random and mutated inputs must decode or fail with ProtocolError (heartbeats: undefined), never anything else.
 * `npm run fuzz` runs this with many more iterations.
 */
const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 3000)
const MAX = 4 * 1024 * 1024

function mutate (seed: Uint8Array, i: number): Uint8Array {
  if (i % 3 === 0) return randomBytes(i % 97)
  const bytes = Uint8Array.from(seed)
  const flips = 1 + (i % 4)
  for (let f = 0; f < flips; f++) bytes[(i * 31 + f * 7) % bytes.length] ^= 1 + ((i + f) % 255)
  return i % 5 === 0 ? bytes.subarray(0, i % bytes.length) : bytes
}

describe(`fuzzing the peer's decoders (${ITERATIONS} inputs each)`, () => {
  const cid = cidForChunk(Buffer.from('chunk'))

  it('chunk protocol messages decode or throw ProtocolError', () => {
    const seeds = [
      encodeRequest({ op: 'get', cid }),
      encodeRequest({ op: 'put', cid, size: 1, replicas: 2 }),
      encodeRequest({ op: 'has', cids: [cid, cid] }),
      encodeResponse({ ok: true, has: [true], replicas: [3] }),
      encodeResponse({ ok: false, code: 'ERR_X', message: 'm' })
    ]
    for (let i = 0; i < ITERATIONS; i++) {
      const bytes = mutate(seeds[i % seeds.length], i)
      for (const decode of [(b: Uint8Array) => decodeRequest(b, MAX), decodeResponse]) {
        try {
          decode(bytes)
        } catch (err: any) {
          expect(err.name, `input ${Buffer.from(bytes).toString('hex')}`).to.equal('ProtocolError')
        }
      }
    }
  })

  it('heartbeats decode or are dropped, never throw', () => {
    const seed = encodeHeartbeat({ version: 1, peer: '12D3KooWabc', addrs: ['/ip4/127.0.0.1/tcp/1'], seq: 5, interval: 300, chunks: 2, bytes: 10, free: -1 })
    for (let i = 0; i < ITERATIONS; i++) {
      const bytes = mutate(seed, i)
      expect(() => decodeHeartbeat(bytes), `input ${Buffer.from(bytes).toString('hex')}`).to.not.throw()
    }
  })
})
