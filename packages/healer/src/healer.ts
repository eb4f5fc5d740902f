import { BUSY_RETRY, CHECK_INTERVAL, EXTRA_CANDIDATES, REPAIR_BANDWIDTH, REPAIR_CONCURRENCY, SCRUB_INTERVAL, SCRUB_RATE, SETTLE_DELAY, SURPLUS_MARGIN } from './constants.ts'
import { census } from './census.ts'
import { NoHealthyCopyError } from './errors.ts'
import { TokenBucket } from './token-bucket.ts'
import type { ChunkCensus } from './census.ts'
import type { HealerComponents, HealerInit, HealerStats, RepairEvent } from './index.ts'
import type { PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

/**
 * The healer of one peer. Each pass counts the live holders of every chunk this peer holds; the holder nearest to a
 * chunk (the same one on every peer, since all rank alike) is its leader and alone copies it when copies are
 * missing, or when a placement target lacks it; the holder farthest from it alone drops a surplus copy. So the
 * holders of a chunk never race each other, and nobody needs to coordinate.
 */
export class Healer extends EventTarget {
  readonly stats: HealerStats = { passes: 0, repairs: 0, repairBytes: 0, dropped: 0, scrubbed: 0, corrupt: 0, failed: 0 }
  readonly #c: HealerComponents
  readonly #interval: number
  readonly #settle: number
  readonly #concurrency: number
  readonly #margin: number
  readonly #scrubRate: number
  readonly #scrubInterval: number
  #scrubPassStarted = -Infinity
  readonly #bucket: TokenBucket
  readonly #inFlight = new Set<string>()
  #abort = new AbortController()
  #timers: Array<ReturnType<typeof setInterval>> = []
  #settleTimer?: ReturnType<typeof setTimeout>
  #pass?: Promise<void>
  #again = false
  #scrubQueue: CID[] = []
  #unsubscribe?: () => void

  constructor (components: HealerComponents, init: HealerInit = {}) {
    super()
    this.#c = components
    this.#interval = init.interval ?? CHECK_INTERVAL
    this.#settle = init.settleDelay ?? SETTLE_DELAY
    this.#concurrency = init.concurrency ?? REPAIR_CONCURRENCY
    this.#margin = init.margin ?? SURPLUS_MARGIN
    this.#scrubRate = init.scrubRate ?? SCRUB_RATE
    this.#scrubInterval = init.scrubInterval ?? SCRUB_INTERVAL
    this.#bucket = new TokenBucket(init.bandwidth ?? REPAIR_BANDWIDTH)
  }

  get margin (): number {
    return this.#margin
  }

  start (): void {
    this.#abort = new AbortController()
    this.#timers.push(setInterval(() => { this.schedule(0) }, this.#interval))
    if (this.#scrubRate > 0) this.#timers.push(setInterval(() => { void this.#scrubNext() }, Math.max(1, Math.floor(1000 / this.#scrubRate))))
    this.#unsubscribe = this.#c.onMembershipChange(() => { this.schedule() })
  }

  async stop (): Promise<void> {
    this.#abort.abort()
    for (const t of this.#timers) clearInterval(t)
    this.#timers = []
    clearTimeout(this.#settleTimer)
    this.#unsubscribe?.()
    await this.#pass?.catch(() => {})
  }

  /** Runs a pass after `delay` ms; calls in between fold into that one pass. */
  schedule (delay = this.#settle): void {
    if (this.#abort.signal.aborted || this.#settleTimer != null) return
    this.#settleTimer = setTimeout(() => {
      this.#settleTimer = undefined
      void this.check()
    }, delay)
  }

  /** One pass over every chunk this peer holds; resolves when its repairs are done. Passes never overlap. */
  async check (): Promise<void> {
    if (this.#pass != null) {
      this.#again = true
      return this.#pass
    }
    this.#pass = (async () => {
      try {
        do {
          this.#again = false
          await this.#checkAll()
        } while (this.#again && !this.#abort.signal.aborted)
      } catch (err: any) {
        if (!this.#abort.signal.aborted) this.#c.log('healer pass failed: %s', err.message)
      } finally {
        this.#pass = undefined
      }
    })()
    return this.#pass
  }

  /**
   * Live holders of each chunk; used by `health` as well as by the passes. A replica count of 0 means unknown:
   * then `probe` copies are looked for, and holders' own records tell the count. `providers: false` asks only the
   * peers placement names and skips the DHT lookups for chunks that look short: cheap enough to repeat every few
   * seconds, at the cost of missing copies that sit away from placement (the passes move them there).
   */
  async census (chunks: Array<{ cid: CID, replicas: number }>, options: { signal?: AbortSignal, probe?: number, providers?: boolean } = {}): Promise<ChunkCensus[]> {
    return census(this.#c, chunks, { margin: this.#margin, extra: EXTRA_CANDIDATES, probe: options.probe, providers: options.providers, signal: options.signal ?? this.#abort.signal })
  }

  async #checkAll (): Promise<void> {
    const chunks: Array<{ cid: CID, replicas: number, size: number }> = []
    for await (const info of this.#c.store.list()) chunks.push(info)
    if (chunks.length === 0) return
    const sizes = new Map(chunks.map(c => [c.cid.toString(), c.size]))
    const counted = await this.census(chunks)
    this.stats.passes++
    const jobs: Array<() => Promise<void>> = []
    let busy = false
    for (const chunk of counted) {
      const job = this.#plan(chunk, sizes.get(chunk.cid.toString()) ?? 0)
      if (job == null) continue
      // scrub is verifying this chunk right now: skipping it silently left it short until the next full pass
      if (this.#inFlight.has(chunk.cid.toString())) busy = true
      else jobs.push(job)
    }
    await this.#run(jobs)
    if (busy) this.schedule(BUSY_RETRY)
  }

  /** Decides what this peer must do for one chunk, if anything. */
  #plan (chunk: ChunkCensus, size: number): (() => Promise<void>) | undefined {
    const self = this.#c.peerId
    const { cid, holders, replicas } = chunk
    const ranked = this.#c.rank(cid, holders.map(id => ({ id })))
    const leader = ranked[0]?.id
    const holderKeys = new Set(holders.map(h => h.toString()))
    if (holders.length < replicas) {
      if (leader?.equals(self) !== true) return
      const targets = this.#targets(cid, size, holderKeys)
      return async () => { await this.#copy(cid, replicas, size, targets, replicas - holders.length, 'repair') }
    }
    if (holders.length > replicas + this.#margin) {
      const farthest = ranked[ranked.length - 1].id
      if (!farthest.equals(self)) return
      return async () => { await this.#drop(cid, holders.length, replicas) }
    }
    // drift toward placement: the nearest live peers should hold the chunk, within the margin
    if (leader?.equals(self) !== true || holders.length >= replicas + this.#margin) return
    const placed = this.#c.rank(cid, [{ id: self, free: Infinity }, ...this.#c.livePeers()]).slice(0, replicas)
    const missing = placed.filter(p => !holderKeys.has(p.id.toString()) && p.free >= size).map(p => p.id)
    if (missing.length === 0) return
    return async () => { await this.#copy(cid, replicas, size, missing, 1, 'rebalance') }
  }

  #targets (cid: CID, size: number, exclude: Set<string>): PeerId[] {
    return this.#c.rank(cid, this.#c.livePeers())
      .filter(p => !exclude.has(p.id.toString()) && p.free >= size)
      .map(p => p.id)
  }

  async #run (jobs: Array<() => Promise<void>>): Promise<void> {
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < jobs.length && !this.#abort.signal.aborted) {
        await jobs[next++]().catch((err: Error) => {
          this.stats.failed++
          this.#c.log('healer job failed: %s', err.message)
        })
      }
    }
    await Promise.all(Array.from({ length: Math.min(this.#concurrency, jobs.length) }, worker))
  }

  async #copy (cid: CID, replicas: number, size: number, targets: PeerId[], need: number, reason: 'repair' | 'rebalance'): Promise<void> {
    const key = cid.toString()
    this.#inFlight.add(key)
    try {
      const signal = this.#abort.signal
      let bytes: Uint8Array
      try {
        bytes = await this.#c.store.get(cid, { signal })
      } catch (err: any) {
        if (err.name !== 'ChunkCorruptError') throw err
        bytes = await this.#replaceCorrupt(cid, replicas)
      }
      let made = 0
      for (const target of targets) {
        if (made >= need) break
        await this.#bucket.take(size, signal)
        const started = Date.now()
        try {
          const outcome = await this.#c.send(target, cid, bytes, replicas, { signal })
          made++
          if (outcome === 'had') continue
          this.stats.repairs++
          this.stats.repairBytes += bytes.length
          this.#emit({ cid: key, from: this.#c.peerId.toString(), to: target.toString(), ms: Date.now() - started, bytes: bytes.length, reason })
        } catch (err: any) {
          signal.throwIfAborted()
          this.#c.log('%s of %s to %p failed: %s', reason, key, target, err.message)
        }
      }
    } finally {
      this.#inFlight.delete(key)
    }
  }

  async #drop (cid: CID, holders: number, replicas: number): Promise<void> {
    // re-check our own view right before deleting: never go below the count on stale information
    const [fresh] = await this.census([{ cid, replicas }])
    if (fresh.holders.length <= replicas + this.#margin) return
    await this.#c.store.delete(cid)
    this.#c.withdraw(cid)
    this.stats.dropped++
    this.#c.log('dropped surplus copy of %s (%d holders, %d wanted)', cid, holders, replicas)
  }

  async #replaceCorrupt (cid: CID, replicas: number): Promise<Uint8Array> {
    this.stats.corrupt++
    await this.#c.store.delete(cid)
    let bytes: Uint8Array
    try {
      bytes = await this.#c.fetchRemote(cid, { signal: this.#abort.signal })
    } catch (err: any) {
      this.#c.withdraw(cid)
      throw new NoHealthyCopyError(`corrupt copy of ${cid.toString()} deleted, and no healthy copy was found: ${err.message}`)
    }
    // fetched bytes were hashed against the CID already
    await this.#c.store.put(cid, bytes, { replicas, verify: false })
    this.#c.announce(cid)
    this.#emit({ cid: cid.toString(), from: 'network', to: this.#c.peerId.toString(), ms: 0, bytes: bytes.length, reason: 'scrub' })
    return bytes
  }

  /** Verifies one stored chunk, cycling through all of them; a corrupt copy is replaced from a healthy replica. */
  async #scrubNext (): Promise<void> {
    if (this.#abort.signal.aborted) return
    try {
      if (this.#scrubQueue.length === 0) {
        // an empty store was listed four times a second, for nothing
        if (this.#c.store.count === 0) return
        if (Date.now() - this.#scrubPassStarted < this.#scrubInterval) return
        this.#scrubPassStarted = Date.now()
        for await (const { cid } of this.#c.store.list()) this.#scrubQueue.push(cid)
        if (this.#scrubQueue.length === 0) return
      }
      const cid = this.#scrubQueue.pop()!
      if (this.#inFlight.has(cid.toString())) return
      this.#inFlight.add(cid.toString())
      try {
        this.stats.scrubbed++
        if (await this.#c.store.verify(cid)) return
        this.#c.log('scrub found a corrupt copy of %s', cid)
        const replicas = await this.#c.store.replicas(cid) ?? 1
        await this.#replaceCorrupt(cid, replicas)
      } finally {
        this.#inFlight.delete(cid.toString())
      }
    } catch (err: any) {
      if (err.name === 'ChunkNotFoundError') return
      this.stats.failed++
      this.#c.log('scrub: %s', err.message)
    }
  }

  #emit (detail: RepairEvent): void {
    this.dispatchEvent(new CustomEvent('repair', { detail }))
  }
}
