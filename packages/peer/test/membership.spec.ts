import { expect } from 'chai'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { HEARTBEAT_TOPIC, OVERDUE_SLACK } from '../src/constants.ts'
import { encodeHeartbeat } from '../src/heartbeat.ts'
import { Membership } from '../src/membership.ts'
import { until } from './until.ts'
import type { PeerId } from '@libp2p/interface'

/** Beats of the other peer, in ms: overdue after this plus OVERDUE_SLACK of silence, and never dead in these tests. */
const INTERVAL = 100

/** A membership fed heartbeats by hand through a stand-in for gossipsub, with what `trafficSilence` says settable. */
async function membershipWithOnePeer (): Promise<{ membership: Membership, other: PeerId, beat: () => void, traffic: { silence: number } }> {
  const [self, other] = await Promise.all([1, 2].map(async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))))
  const pubsub = Object.assign(new EventTarget(), { subscribe () {}, unsubscribe () {}, publish: async () => {} })
  const node = { peerId: self, getMultiaddrs: () => [], getConnections: () => [], peerStore: { merge: async () => {} }, services: { pubsub } }
  const traffic = { silence: Infinity }
  const membership = new Membership({
    node: node as any,
    store: { free: Infinity, count: 0, size: 0 } as any,
    log: Object.assign(() => {}, { error () {}, trace () {} }) as any,
    trafficSilence: () => traffic.silence
  }, { interval: 60_000, deadAfter: 1000 })
  let seq = 1
  const beat = (): void => {
    const data = encodeHeartbeat({ version: 1, peer: other.toString(), addrs: [], seq: seq++, interval: INTERVAL, chunks: 0, bytes: 0, free: -1 })
    pubsub.dispatchEvent(new CustomEvent('message', { detail: { topic: HEARTBEAT_TOPIC, data, type: 'signed', from: other } }))
  }
  membership.start()
  return { membership, other, beat, traffic }
}

describe('membership: a peer that missed its heartbeat', function () {
  this.timeout(10_000)
  let membership: Membership | undefined

  afterEach(() => { membership?.stop() })

  it('is on time right after a beat, overdue once silent past its interval and the slack, and alive all the while', async () => {
    const m = await membershipWithOnePeer()
    membership = m.membership
    m.beat()
    expect(m.membership.isAlive(m.other)).to.equal(true)
    expect(m.membership.isOverdue(m.other)).to.equal(false)
    const started = Date.now()
    expect(await until(() => m.membership.isOverdue(m.other), INTERVAL + OVERDUE_SLACK + 2000)).to.equal(true)
    expect(Date.now() - started).to.be.at.least(INTERVAL + OVERDUE_SLACK - 50)
    expect(m.membership.isAlive(m.other)).to.equal(true)
  })

  it('is on time again with its next beat', async () => {
    const m = await membershipWithOnePeer()
    membership = m.membership
    m.beat()
    expect(await until(() => m.membership.isOverdue(m.other), INTERVAL + OVERDUE_SLACK + 2000)).to.equal(true)
    m.beat()
    expect(m.membership.isOverdue(m.other)).to.equal(false)
  })

  it('is never overdue while other bytes keep coming from it, its beats queued behind them', async () => {
    const m = await membershipWithOnePeer()
    membership = m.membership
    m.beat()
    m.traffic.silence = 0
    // as long as it would take to become overdue, and then some
    expect(await until(() => m.membership.isOverdue(m.other), INTERVAL + OVERDUE_SLACK + 500)).to.equal(false)
    m.traffic.silence = Infinity
    expect(m.membership.isOverdue(m.other)).to.equal(true)
  })

  it('is not a peer never heard from', async () => {
    const m = await membershipWithOnePeer()
    membership = m.membership
    expect(m.membership.isOverdue(m.other)).to.equal(false)
  })
})
