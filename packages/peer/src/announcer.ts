import { ANNOUNCE_CONCURRENCY, ANNOUNCE_MAX_DEFER, ANNOUNCE_QUIET, ANNOUNCE_QUIET_MAX, ANNOUNCE_QUIET_PER_PEER, ANNOUNCE_RETRY, FIND_PROVIDERS_TIMEOUT } from './constants.ts'
import type { IonNetNode } from './node.ts'
import type { Logger } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

export interface AnnouncerComponents {
  node: IonNetNode
  log: Logger
  /** How many other peers are alive now; the quiet announcements wait for grows with it. */
  livePeers?(): number
}

export interface AnnouncerInit {
  concurrency?: number
  retryAfter?: number
  /** ms of quiet chunk traffic before announcing, at least... */
  quiet?: number
  /** ...and this many ms per live peer... */
  quietPerPeer?: number
  /** ...up to this many. */
  quietMax?: number
  /** longest an announcement waits for quiet. */
  maxDefer?: number
}

/**
 * Announces (provides) the chunks this peer holds on the DHT, a bounded number at a time, in the background.
 * Storing never waits for the DHT: getters also try the peers that placement names, so a fresh copy is usable
 * before its record has spread.
 */
export class Announcer {
  announced = 0
  failed = 0
  readonly #components: AnnouncerComponents
  readonly #concurrency: number
  readonly #retryAfter: number
  readonly #quiet: number
  readonly #quietPerPeer: number
  readonly #quietMax: number
  readonly #maxDefer: number
  readonly #queue = new Map<string, { cid: CID, queued: number }>()
  readonly #retry = new Map<string, CID>()
  readonly #waiters = new Set<() => void>()
  #running = 0
  #abort = new AbortController()
  #retryTimer?: ReturnType<typeof setInterval>
  #wakeTimer?: ReturnType<typeof setTimeout>
  #lastBusy = 0

  constructor (components: AnnouncerComponents, init: AnnouncerInit = {}) {
    this.#components = components
    this.#concurrency = init.concurrency ?? ANNOUNCE_CONCURRENCY
    this.#retryAfter = init.retryAfter ?? ANNOUNCE_RETRY
    this.#quiet = init.quiet ?? ANNOUNCE_QUIET
    this.#quietPerPeer = init.quietPerPeer ?? ANNOUNCE_QUIET_PER_PEER
    this.#quietMax = init.quietMax ?? ANNOUNCE_QUIET_MAX
    this.#maxDefer = init.maxDefer ?? ANNOUNCE_MAX_DEFER
  }

  /** Chunk data moved just now: announcements hold back until transfers go quiet. */
  busy (): void {
    this.#lastBusy = Date.now()
  }

  /**
   * ms of quiet chunk traffic announcements wait for in a network of this size: a put's chunks reach each of its
   * holders further apart the more peers share them.
   */
  get quiet (): number {
    const peers = this.#components.livePeers?.() ?? 0
    return Math.max(this.#quiet, Math.min(this.#quietMax, peers * this.#quietPerPeer))
  }

  start (): void {
    this.#abort = new AbortController()
    this.#retryTimer = setInterval(() => {
      for (const [k, cid] of this.#retry) { this.#retry.delete(k); this.announce(cid) }
    }, this.#retryAfter)
  }

  stop (): void {
    this.#abort.abort()
    clearInterval(this.#retryTimer)
    clearTimeout(this.#wakeTimer)
    this.#queue.clear()
    this.#retry.clear()
  }

  /** Queues a CID to be announced; a CID already queued is not queued twice. */
  announce (cid: CID): void {
    if (this.#abort.signal.aborted) return
    const key = cid.toString()
    if (!this.#queue.has(key)) this.#queue.set(key, { cid, queued: Date.now() })
    this.#pump()
  }

  /** Stops re-announcing a chunk this peer no longer holds. */
  withdraw (cid: CID): void {
    const key = cid.toString()
    this.#queue.delete(key)
    this.#retry.delete(key)
    this.#components.node.contentRouting.cancelReprovide(cid).catch(() => {})
  }

  /** Chunks waiting to be announced (or running now). */
  get pending (): number {
    return this.#queue.size + this.#running
  }

  /** Resolves once nothing is queued or running. */
  async idle (): Promise<void> {
    if (this.pending === 0) return
    await new Promise<void>(resolve => this.#waiters.add(resolve))
  }

  #pump (): void {
    while (this.#running < this.#concurrency && this.#queue.size > 0) {
      const [key, { cid, queued }] = this.#queue.entries().next().value as [string, { cid: CID, queued: number }]
      const now = Date.now()
      const quietIn = this.#lastBusy + this.quiet - now
      if (quietIn > 0 && now - queued < this.#maxDefer) {
        this.#wake(Math.min(quietIn, queued + this.#maxDefer - now))
        return
      }
      this.#queue.delete(key)
      this.#running++
      void this.#provide(key, cid).finally(() => {
        this.#running--
        this.#pump()
        if (this.pending === 0) {
          for (const w of this.#waiters) w()
          this.#waiters.clear()
        }
      })
    }
  }

  #wake (ms: number): void {
    if (this.#wakeTimer != null || this.#abort.signal.aborted) return
    this.#wakeTimer = setTimeout(() => {
      this.#wakeTimer = undefined
      this.#pump()
    }, Math.max(10, ms))
  }

  async #provide (key: string, cid: CID): Promise<void> {
    const { node, log } = this.#components
    try {
      const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(FIND_PROVIDERS_TIMEOUT * 4)])
      await node.contentRouting.provide(cid, { signal })
      this.announced++
    } catch (err: any) {
      if (this.#abort.signal.aborted) return
      this.failed++
      log('announcing %s failed, will retry: %s', key, err.message)
      this.#retry.set(key, cid)
    }
  }
}
