import { TypedEventEmitter } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { decodeManifest, fileBlocks, parseLink } from '@ionnet/manifest'
import {
  DASHBOARD_BLOCK_BUDGET, DASHBOARD_CENSUS_TIMEOUT, DASHBOARD_FILES, DASHBOARD_REFRESH, DEFAULT_REPLICAS, RATE_WINDOW,
  RECENT_REPAIRS, SNAPSHOT_INTERVAL, STRIP_MAX_BLOCKS
} from './constants.ts'
import { FileCensus } from './file-census.ts'
import { RateMeter } from './rate-meter.ts'
import type { FileCopies } from './file-census.ts'
import type { KeyringEntry } from './keyring.ts'
import type { IonNetPeer } from './peer.ts'
import type { PeerIdentity, PeerSummary } from '@ionnet/client'
import type { RepairEvent } from '@ionnet/healer'
import type { CID } from 'multiformats/cid'

/** A repair made by this peer's healer, with the time it was made (ms since the epoch). */
export interface RepairRecord extends RepairEvent {
  at: number
}

/** Everything the dashboard shows, as one `snapshot` event carries it. */
export interface Snapshot {
  /** ms since the epoch when the snapshot was taken. */
  at: number
  /** This peer. */
  self: PeerIdentity
  /** Every other peer known from heartbeats, alive or dead. */
  peers: PeerSummary[]
  /** This peer's most recent files with the live copies of their blocks, newest first. */
  files: FileCopies[]
  /** Chunk protocol bytes per second, averaged over the last few seconds. */
  rates: { inBytesPerSec: number, outBytesPerSec: number }
  /** This peer's most recent repairs, newest first. */
  repairs: RepairRecord[]
}

export interface LiveViewEvents {
  repair: CustomEvent<RepairRecord>
}

export interface LiveViewComponents {
  peer: IonNetPeer
}

/** Optional settings; defaults in constants.ts. */
export interface LiveViewInit {
  /** ms between two rounds of sampling rates and recounting due files. */
  interval?: number
  census?: {
    /** Most recent files followed. */
    files?: number
    /** ms between two counts of one file. */
    refresh?: number
    /** Blocks counted per round over all files. */
    budget?: number
    /** Blocks drawn per file (an even sample beyond). */
    maxBlocks?: number
    /** ms a manifest read or a count may take. */
    timeout?: number
  }
  /** Repairs remembered. */
  repairs?: number
  /** ms the transfer rates are averaged over. */
  rateWindow?: number
}

/**
 * What the dashboard watches: the peer table, the live copies of the recent files' blocks, transfer rates and the
 * healer's repairs. Repairs are remembered from start; the costly part (counting copies) runs only while someone
 * watches, and recounts every file at once when a peer dies or joins.
 */
export class LiveView extends TypedEventEmitter<LiveViewEvents> {
  readonly #peer: IonNetPeer
  readonly #interval: number
  readonly #maxRepairs: number
  readonly #census: FileCensus
  readonly #rateIn: RateMeter
  readonly #rateOut: RateMeter
  readonly #log = logger('ionnet:live-view')
  #repairs: RepairRecord[] = []
  #watchers = 0
  #timer?: ReturnType<typeof setInterval>
  #abort?: AbortController
  #step?: Promise<void>
  readonly #onRepair = (evt: Event): void => { this.#record((evt as CustomEvent<RepairEvent>).detail) }
  readonly #onMembership = (): void => { this.#census.markDue() }

  constructor (components: LiveViewComponents, init: LiveViewInit = {}) {
    super()
    this.#peer = components.peer
    this.#interval = init.interval ?? SNAPSHOT_INTERVAL
    this.#maxRepairs = init.repairs ?? RECENT_REPAIRS
    this.#rateIn = new RateMeter(init.rateWindow ?? RATE_WINDOW)
    this.#rateOut = new RateMeter(init.rateWindow ?? RATE_WINDOW)
    this.#census = new FileCensus({
      files: async () => this.#peer.files(),
      blocks: async (entry, max, signal) => this.#blocks(entry, max, signal),
      // placement candidates only: the DHT lookups a full census adds are the healer's job, not a screen's
      census: async (chunks, signal) => (await this.#peer.healer.census(chunks, { signal, probe: DEFAULT_REPLICAS, providers: false })).map(c => c.holders.length),
      log: this.#log
    }, {
      files: init.census?.files ?? DASHBOARD_FILES,
      refresh: init.census?.refresh ?? DASHBOARD_REFRESH,
      budget: init.census?.budget ?? DASHBOARD_BLOCK_BUDGET,
      maxBlocks: init.census?.maxBlocks ?? STRIP_MAX_BLOCKS,
      timeout: init.census?.timeout ?? DASHBOARD_CENSUS_TIMEOUT
    })
  }

  start (): void {
    this.#peer.healer.addEventListener('repair', this.#onRepair)
    this.#peer.membership.addEventListener('peer:alive', this.#onMembership)
    this.#peer.membership.addEventListener('peer:dead', this.#onMembership)
  }

  async stop (): Promise<void> {
    this.#peer.healer.removeEventListener('repair', this.#onRepair)
    this.#peer.membership.removeEventListener('peer:alive', this.#onMembership)
    this.#peer.membership.removeEventListener('peer:dead', this.#onMembership)
    this.#watchers = 0
    await this.#pause()
  }

  /** Starts counting copies and sampling rates until the returned function is called (once per watcher). */
  watch (): () => void {
    if (this.#watchers++ === 0) this.#resume()
    let done = false
    return () => {
      if (done || this.#watchers === 0) return
      done = true
      if (--this.#watchers === 0) void this.#pause()
    }
  }

  /** The current state; cheap (no I/O): copies are as last counted. */
  snapshot (): Snapshot {
    const now = Date.now()
    return {
      at: now,
      self: this.#peer.identity(),
      peers: this.#peer.peers(),
      files: this.#census.view(now),
      rates: { inBytesPerSec: Math.round(this.#rateIn.rate()), outBytesPerSec: Math.round(this.#rateOut.rate()) },
      repairs: this.#repairs
    }
  }

  #resume (): void {
    this.#abort = new AbortController()
    this.#rateIn.reset()
    this.#rateOut.reset()
    this.#census.markDue()
    this.#tick()
    this.#timer = setInterval(() => { this.#tick() }, this.#interval)
  }

  async #pause (): Promise<void> {
    clearInterval(this.#timer)
    this.#timer = undefined
    this.#abort?.abort()
    await this.#step
  }

  #tick (): void {
    const { bytesIn, bytesOut } = this.#peer.protocol.stats
    this.#rateIn.sample(bytesIn)
    this.#rateOut.sample(bytesOut)
    const signal = this.#abort?.signal
    // one round at a time: a slow round delays the next instead of piling up requests
    if (this.#step != null || signal == null || signal.aborted) return
    this.#step = this.#census.step(signal)
      .catch((err: Error) => { this.#log('dashboard census round failed: %s', err.message) })
      .finally(() => { this.#step = undefined })
  }

  #record (repair: RepairEvent): void {
    const record = { ...repair, at: Date.now() }
    this.#repairs = [record, ...this.#repairs].slice(0, this.#maxRepairs)
    this.safeDispatchEvent('repair', { detail: record })
  }

  /** A file's blocks in file order, root first; past `max` an even sample, as the strip draws them. */
  async #blocks (entry: KeyringEntry, max: number, signal: AbortSignal): Promise<{ cids: CID[], total: number }> {
    const link = parseLink(entry.link)
    const fetch = async (cid: CID, s?: AbortSignal): Promise<Uint8Array> => this.#peer.fetcher.fetch(cid, { signal: s ?? signal })
    const manifest = decodeManifest(link, await fetch(link.cid))
    const every = Math.max(1, Math.ceil((manifest.chunkCount + 1) / max))
    const cids: CID[] = []
    let total = 0
    for await (const cid of fileBlocks(link, manifest, fetch, { signal })) {
      if (total++ % every === 0 && cids.length < max) cids.push(cid)
    }
    return { cids, total }
  }
}
