import { createHash } from 'node:crypto'
import type { PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

/**
 * Deterministic placement: the holders of a chunk are the peers whose keys are closest by XOR to the chunk's key,
 * in the same keyspace as the Kademlia DHT (sha2-256 of the multihash). Every peer computes the same order from the
 * same live table, so uploads, repairs and lookups agree on where a chunk belongs without asking anyone.
 */

const keyCache = new Map<string, Buffer>()

/** The DHT key of a peer (cached: peers are few, chunks are many). */
export function peerKey (peer: PeerId): Buffer {
  const s = peer.toString()
  let key = keyCache.get(s)
  if (key == null) {
    key = createHash('sha256').update(peer.toMultihash().bytes).digest()
    if (keyCache.size > 10_000) keyCache.clear()
    keyCache.set(s, key)
  }
  return key
}

/** The DHT key of a chunk. */
export function chunkKey (cid: CID): Buffer {
  return createHash('sha256').update(cid.multihash.bytes).digest()
}

/** Compares the XOR distances of two keys to a target, for sorting nearest first. */
export function compareDistance (target: Buffer, a: Buffer, b: Buffer): number {
  for (let i = 0; i < target.length; i++) {
    const da = a[i] ^ target[i]
    const db = b[i] ^ target[i]
    if (da !== db) return da - db
  }
  return 0
}

/** Sorts peers by XOR distance to the chunk, nearest first. */
export function rankPeers<T extends { id: PeerId }> (cid: CID, peers: T[]): T[] {
  const target = chunkKey(cid)
  return peers
    .map(p => ({ p, k: peerKey(p.id) }))
    .sort((x, y) => compareDistance(target, x.k, y.k))
    .map(x => x.p)
}

/**
 * Splits peers into those that seem sound and those `doubtful` says may be frozen (overdue, or silent since a stall),
 * each in its given order: the doubtful ones are asked, or given copies, only after every other peer.
 */
export function splitDoubtful<T> (peers: T[], doubtful: (peer: T) => boolean): { sound: T[], doubtful: T[] } {
  const split = { sound: [] as T[], doubtful: [] as T[] }
  for (const p of peers) (doubtful(p) ? split.doubtful : split.sound).push(p)
  return split
}
