/**
 * @packageDocumentation
 *
 * The healer keeps every chunk a peer holds at its replica count, with no coordinator: each pass counts the live
 * holders of each chunk; the holder nearest to the chunk copies it when copies are missing or when a placement
 * target lacks it; the holder farthest from it drops a copy beyond the count plus a margin; a scrub re-verifies
 * stored bytes at a bounded rate and replaces a corrupt copy from a healthy one. Repairs are bounded in concurrency
 * and bandwidth so they never starve the user's own transfers.
 *
 * The healer talks to the network only through the functions in its components, so it can run against a real
 * peer (see `@ionnet/peer`) or a simulated network in tests.
 *
 * @example
 *
 * ```ts
 * import { createHealer } from '@ionnet/healer'
 *
 * const healer = createHealer({ peerId, store, livePeers, onMembershipChange, has, findProviders, send, fetchRemote, announce, withdraw, rank, log })
 * healer.addEventListener('repair', (evt) => console.log(evt.detail))
 * healer.start()
 * ```
 */

import { Healer } from './healer.ts'
import type { ChunkStore } from '@ionnet/chunk-store'
import type { Logger, PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

export { Healer } from './healer.ts'
export type { ChunkCensus } from './census.ts'
export { NoHealthyCopyError } from './errors.ts'
export { CHECK_INTERVAL, REPAIR_BANDWIDTH, REPAIR_CONCURRENCY, SCRUB_INTERVAL, SCRUB_RATE, SURPLUS_MARGIN } from './constants.ts'

/** A live peer as the healer sees it. */
export interface LivePeer {
  id: PeerId
  /** Free bytes the peer offers; Infinity when unlimited. */
  free: number
}

/** What the healer needs from the peer it runs in. */
export interface HealerComponents {
  peerId: PeerId
  store: ChunkStore
  /** Live peers other than this one. */
  livePeers(): LivePeer[]
  /** Registers a callback for peers dying or joining; returns the unsubscribe function. */
  onMembershipChange(fn: () => void): () => void
  /** Asks a peer which of `cids` it holds, and the replica count it recorded for each. */
  has(peer: PeerId, cids: CID[], options?: { signal?: AbortSignal }): Promise<{ has: boolean[], replicas: number[] }>
  /** DHT provider records of a chunk. */
  findProviders(cid: CID, options?: { signal?: AbortSignal }): AsyncIterable<PeerId>
  /** Stores a chunk on a peer. */
  send(peer: PeerId, cid: CID, bytes: Uint8Array, replicas: number, options?: { signal?: AbortSignal }): Promise<'stored' | 'had'>
  /** Fetches a verified copy of a chunk from another peer. */
  fetchRemote(cid: CID, options?: { signal?: AbortSignal }): Promise<Uint8Array>
  /** Announces a chunk this peer now holds. */
  announce(cid: CID): void
  /** Stops announcing a chunk this peer dropped. */
  withdraw(cid: CID): void
  /** Placement order: peers nearest to the chunk first (the same function puts use). */
  rank<T extends { id: PeerId }>(cid: CID, peers: T[]): T[]
  log: Logger
}

/** Optional settings; defaults in constants.ts. */
export interface HealerInit {
  /** ms between full passes (membership changes also trigger passes). */
  interval?: number
  /** ms to wait after a membership change before a pass. */
  settleDelay?: number
  /** Repairs in flight at once. */
  concurrency?: number
  /** Repair bytes per second. */
  bandwidth?: number
  /** Copies tolerated above the replica count. */
  margin?: number
  /** Chunks verified per second by scrub (0 turns scrub off). */
  scrubRate?: number
  /** Least ms between the starts of two scrub passes over the store. */
  scrubInterval?: number
}

/** One copy made by the healer: a repair, a move toward placement, or a replacement of a corrupt copy. */
export interface RepairEvent {
  cid: string
  from: string
  to: string
  ms: number
  bytes: number
  reason: 'repair' | 'rebalance' | 'scrub'
}

/** Counters since start. */
export interface HealerStats {
  passes: number
  repairs: number
  repairBytes: number
  dropped: number
  scrubbed: number
  corrupt: number
  failed: number
}

/** Creates a healer; call start() to run it in the background. */
export function createHealer (components: HealerComponents, init: HealerInit = {}): Healer {
  return new Healer(components, init)
}
