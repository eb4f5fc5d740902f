import { TypedEventEmitter } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { DEAD_AFTER_MISSED, EARLY_BEAT_GAP, HEARTBEAT_INTERVAL, HEARTBEAT_PEERS, HEARTBEAT_TOPIC, OVERDUE_AFTER, OVERDUE_SLACK, PROTOCOL_VERSION, REDIAL_TIMEOUT, REJOIN_MAX_WAIT, REJOIN_WINDOW } from './constants.ts'
import { decodeHeartbeat, encodeHeartbeat, scaledInterval } from './heartbeat.ts'
import type { IonNetNode } from './node.ts'
import type { ChunkStore } from '@ionnet/chunk-store'
import type { Message } from '@libp2p/gossipsub'
import type { Logger, PeerId } from '@libp2p/interface'

/** One row of the live-peer table. */
export interface PeerRecord {
  id: PeerId
  addrs: string[]
  version: number
  seq: number
  interval: number
  lastSeen: number
  chunks: number
  bytes: number
  /** Free capacity in bytes; Infinity when the peer has no limit. */
  free: number
  alive: boolean
}

export interface MembershipEvents {
  'peer:alive': CustomEvent<PeerRecord>
  'peer:dead': CustomEvent<PeerRecord>
}

export interface MembershipComponents {
  node: IonNetNode
  store: ChunkStore
  log: Logger
  /**
   * ms since bytes last arrived from a peer, over its heartbeats' heads (chunks, or anything on its connection): one
   * heard from within the dead-after time stays alive.
   */
  trafficSilence?(peer: string): number
}

export interface MembershipInit {
  /** Heartbeat interval in ms. */
  interval?: number
  /** Missed intervals after which a peer counts as dead. */
  deadAfter?: number
  /** Live peers up to which `interval` holds; beyond, it grows with their number. */
  scaleFrom?: number
}

/**
 * Heartbeats over gossipsub and the live-peer table built from them. Gossipsub signs every message (StrictSign) and
 * checks the signature on receipt; we add that the heartbeat names its signer, so nobody can speak for another peer.
 */
export class Membership extends TypedEventEmitter<MembershipEvents> {
  /** Heartbeats dropped for a bad signature, a bad shape or a replayed sequence number. */
  dropped = 0
  /** The interval set for this peer; `currentInterval` is what it beats at now. */
  readonly interval: number
  readonly deadAfter: number
  readonly scaleFrom: number
  #current: number
  readonly #components: MembershipComponents
  readonly #peers = new Map<string, PeerRecord>()
  /** Next dial of each dead peer we hold no connection to, and the wait after it. */
  readonly #retries = new Map<string, { next: number, wait: number }>()
  #seq = Date.now()
  #running = false
  #lastBeat = 0
  #timer?: ReturnType<typeof setTimeout>
  #early?: ReturnType<typeof setTimeout>
  #sweeper?: ReturnType<typeof setInterval>
  #onMessage = (evt: CustomEvent<Message>): void => { this.#receive(evt.detail) }
  #onSubscription = (): void => { this.#beatSoon() }

  constructor (components: MembershipComponents, init: MembershipInit = {}) {
    super()
    this.#components = components
    this.interval = init.interval ?? HEARTBEAT_INTERVAL
    this.deadAfter = init.deadAfter ?? DEAD_AFTER_MISSED
    this.scaleFrom = init.scaleFrom ?? HEARTBEAT_PEERS
    this.#current = this.interval
  }

  /** ms between this peer's beats now: the set interval, stretched in a network larger than `scaleFrom`. */
  get currentInterval (): number {
    return this.#current
  }

  start (): void {
    const { pubsub } = this.#components.node.services
    pubsub.addEventListener('message', this.#onMessage)
    // a peer that just subscribed learns about us now instead of one interval later
    pubsub.addEventListener('subscription-change', this.#onSubscription)
    pubsub.subscribe(HEARTBEAT_TOPIC)
    this.#running = true
    this.#sweeper = setInterval(() => { this.#sweep(); this.#rejoinDead() }, Math.max(50, Math.floor(this.interval / 2)))
    this.beat()
  }

  stop (): void {
    const { pubsub } = this.#components.node.services
    this.#running = false
    clearTimeout(this.#timer)
    clearTimeout(this.#early)
    clearInterval(this.#sweeper)
    this.#retries.clear()
    pubsub.removeEventListener('message', this.#onMessage)
    pubsub.removeEventListener('subscription-change', this.#onSubscription)
    pubsub.unsubscribe(HEARTBEAT_TOPIC)
  }

  /** Publishes one heartbeat now and counts the next interval from it. Never throws: a missed beat is tolerated by design. */
  beat (): void {
    const { node, store, log } = this.#components
    const free = store.free === Infinity ? -1 : store.free
    // the beat names the interval that follows it, so nobody judges our silence by a shorter one
    this.#current = scaledInterval(this.interval, this.#aliveCount() + 1, this.scaleFrom)
    this.#lastBeat = Date.now()
    if (this.#running) {
      clearTimeout(this.#timer)
      this.#timer = setTimeout(() => { this.beat() }, this.#current)
    }
    const data = encodeHeartbeat({
      version: PROTOCOL_VERSION,
      peer: node.peerId.toString(),
      addrs: node.getMultiaddrs().map(a => a.toString()).slice(0, 32),
      seq: this.#seq++,
      interval: this.#current,
      chunks: store.count,
      bytes: store.size,
      free
    })
    node.services.pubsub.publish(HEARTBEAT_TOPIC, data).catch((err: Error) => { log('heartbeat failed: %s', err.message) })
  }

  /**
   * A peer that just subscribed learns about us now rather than one interval later; a burst of joins in a large
   * network, each of which every peer sees, costs one beat each EARLY_BEAT_GAP instead of one per join.
   */
  #beatSoon (): void {
    if (!this.#running || this.#early != null) return
    const wait = Math.max(0, this.#lastBeat + Math.min(this.interval, EARLY_BEAT_GAP) - Date.now())
    this.#early = setTimeout(() => {
      this.#early = undefined
      if (this.#running) this.beat()
    }, wait)
  }

  #aliveCount (): number {
    const now = Date.now()
    let n = 0
    for (const rec of this.#peers.values()) if (this.#isFresh(rec, now)) n++
    return n
  }

  /** Every peer ever heard from, alive or dead. */
  peers (): PeerRecord[] {
    this.#sweep()
    return [...this.#peers.values()]
  }

  /** Peers heard from within `deadAfter` of their intervals. */
  live (): PeerRecord[] {
    return this.peers().filter(p => p.alive)
  }

  isAlive (peer: PeerId | string): boolean {
    const rec = this.#peers.get(peer.toString())
    return rec != null && this.#isFresh(rec, Date.now())
  }

  /**
   * Whether a live peer missed its last beat: nothing, heartbeat or other bytes, came from it for its interval and
   * then some (OVERDUE_AFTER). Transfers ask it after the peers that are on time; it may be frozen.
   */
  isOverdue (peer: PeerId | string): boolean {
    const rec = this.#peers.get(peer.toString())
    return rec?.alive === true && this.#silentFor(rec, Date.now(), rec.interval + Math.max(rec.interval * OVERDUE_AFTER, OVERDUE_SLACK))
  }

  get (peer: PeerId | string): PeerRecord | undefined {
    return this.#peers.get(peer.toString())
  }

  #receive (msg: Message): void {
    if (msg.topic !== HEARTBEAT_TOPIC) return
    const hb = decodeHeartbeat(msg.data)
    if (msg.type !== 'signed' || hb == null || hb.peer !== msg.from.toString()) {
      this.dropped++
      return
    }
    const prev = this.#peers.get(hb.peer)
    if (prev != null && hb.seq <= prev.seq) {
      this.dropped++
      return
    }
    const rec: PeerRecord = {
      id: prev?.id ?? msg.from,
      addrs: hb.addrs,
      version: hb.version,
      seq: hb.seq,
      interval: hb.interval,
      lastSeen: Date.now(),
      chunks: hb.chunks,
      bytes: hb.bytes,
      free: hb.free === -1 ? Infinity : hb.free,
      alive: true
    }
    this.#peers.set(hb.peer, rec)
    // the peer store writes to disk: only tell it what changed, not every beat
    if (prev == null || prev.addrs.join() !== rec.addrs.join()) this.#learnAddresses(rec)
    if (prev?.alive !== true) {
      this.#retries.delete(hb.peer)
      this.safeDispatchEvent('peer:alive', { detail: rec })
    }
  }

  #learnAddresses (rec: PeerRecord): void {
    const { node, log } = this.#components
    try {
      const multiaddrs = rec.addrs.map(a => multiaddr(a))
      node.peerStore.merge(rec.id, { multiaddrs }).catch((err: Error) => { log('peer store: %s', err.message) })
    } catch (err: any) {
      log('bad address in heartbeat of %p: %s', rec.id, err.message)
    }
  }

  #sweep (): void {
    const now = Date.now()
    for (const rec of this.#peers.values()) {
      if (rec.alive && !this.#isFresh(rec, now)) {
        rec.alive = false
        this.safeDispatchEvent('peer:dead', { detail: rec })
        if (this.#components.node.getConnections(rec.id).length > 0) void this.#redial(rec)
      }
    }
  }

  /** Dials dead peers again; on the sweeper's timer only, as peers() and live() run on every chunk moved. */
  #rejoinDead (): void {
    const now = Date.now()
    for (const rec of this.#peers.values()) {
      if (rec.alive) continue
      if (now - rec.lastSeen < REJOIN_WINDOW) this.#rejoin(rec, now)
      else this.#retries.delete(rec.id.toString())
    }
  }

  /**
   * A peer dead to us with no connection left: dial it now and then, waiting twice as long each time. Nothing else
   * redials it: a host whose cable was out long enough for every connection to drop stayed dead to the others after
   * the cable went back in (netlab, reconnect.spec.ts), unless DHT traffic happened to dial it.
   */
  #rejoin (rec: PeerRecord, now: number): void {
    const { node, log } = this.#components
    if (node.getConnections(rec.id).length > 0) return
    const key = rec.id.toString()
    let retry = this.#retries.get(key)
    if (retry == null) {
      retry = { next: now, wait: this.interval * this.deadAfter }
      this.#retries.set(key, retry)
    }
    if (now < retry.next) return
    retry.next = now + retry.wait
    retry.wait = Math.min(retry.wait * 2, REJOIN_MAX_WAIT)
    node.dial(rec.id, { signal: AbortSignal.timeout(REDIAL_TIMEOUT) })
      .then(() => { log('dialed %p again, dead to us without a connection', rec.id) })
      .catch((err: Error) => { log('dialing %p again: %s', rec.id, err.message) })
  }

  /**
   * A peer gone silent while we still hold a connection to it: hang up and dial again. Gossipsub keeps one stream
   * per peer and opens it only when a connection is identified; when the connection carrying it closed while a
   * second one to the same peer stayed open, heartbeats stopped both ways for good. A loaded lab peer went deaf to
   * its own side of a partition that way. A fresh connection gets fresh streams; an unreachable peer just fails to
   * answer the dial.
   */
  async #redial (rec: PeerRecord): Promise<void> {
    const { node, log } = this.#components
    try {
      await node.hangUp(rec.id)
      await node.dial(rec.id, { signal: AbortSignal.timeout(REDIAL_TIMEOUT) })
      log('redialed %p, silent over an open connection', rec.id)
    } catch (err: any) {
      log('redialing %p, silent over an open connection: %s', rec.id, err.message)
    }
  }

  #isFresh (rec: PeerRecord, now: number): boolean {
    return !this.#silentFor(rec, now, rec.interval * this.deadAfter)
  }

  /** Whether neither a heartbeat nor any other bytes came from the peer for more than `ms`. */
  #silentFor (rec: PeerRecord, now: number, ms: number): boolean {
    if (now - rec.lastSeen <= ms) return false
    // a peer whose chunks (or any bytes) keep reaching us stays alive, whatever became of its heartbeats: on a link
    // that its chunks fill, its beats queue behind them. Taken for dead, a busy peer was hung up on with its chunks
    // in flight: a netlab get through a 10 Mbit/s link lost two of its three chunks 3.7 s in, and took 7.5–12.8 s
    // instead of about 4.5
    return (this.#components.trafficSilence?.(rec.id.toString()) ?? Infinity) > ms
  }
}

