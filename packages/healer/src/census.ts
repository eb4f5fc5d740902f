import type { HealerComponents } from './index.ts'
import type { PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

/** What the network holds of one chunk right now. */
export interface ChunkCensus {
  cid: CID
  /** Live peers that confirmed they hold the chunk (this peer included when it does). */
  holders: PeerId[]
  /** Largest replica count any holder recorded for it. */
  replicas: number
}

const HAS_BATCH = 256
const DHT_CONCURRENCY = 8
const DHT_TIMEOUT = 5000
const HAS_ATTEMPTS = 2
const TIMED_OUT = new Set(['TimeoutError', 'AbortError'])

/**
 * Counts the live holders of many chunks at once. Candidates are the peers placement names (where copies belong:
 * the nearest live peers, and the nearest with room) plus, for chunks that look short of copies, the DHT's provider
 * records; every candidate is asked directly, in batches, because a provider record only says a peer once had the
 * chunk.
 */
export async function census (components: HealerComponents, chunks: Array<{ cid: CID, replicas: number }>, init: { margin: number, extra: number, probe?: number, providers?: boolean, signal?: AbortSignal }): Promise<ChunkCensus[]> {
  const self = components.peerId
  const live = components.livePeers()
  const results = chunks.map(c => ({ cid: c.cid, holders: new Map<string, PeerId>(), replicas: c.replicas, asked: new Set<string>() }))
  await Promise.all(results.map(async r => {
    if (await components.store.has(r.cid)) {
      r.holders.set(self.toString(), self)
      r.replicas = Math.max(r.replicas, await components.store.replicas(r.cid) ?? 0)
    }
  }))

  const ask = async (plan: Map<string, { peer: PeerId, items: typeof results }>): Promise<void> => {
    await Promise.all([...plan.values()].map(async ({ peer, items }) => {
      for (let i = 0; i < items.length; i += HAS_BATCH) {
        const batch = items.slice(i, i + HAS_BATCH)
        const answer = await askHas(components, peer, batch.map(b => b.cid), init.signal)
        batch.forEach((item, j) => {
          if (answer?.has[j] === true) {
            item.holders.set(peer.toString(), peer)
            item.replicas = Math.max(item.replicas, answer.replicas[j] ?? 0)
          }
        })
      }
    }))
  }

  const plan = new Map<string, { peer: PeerId, items: typeof results }>()
  for (const r of results) {
    // unknown replica counts (0) are probed as `probe` copies, so enough candidates are asked
    const copies = Math.max(r.replicas, init.probe ?? 1)
    const ranked = components.rank(r.cid, live)
    for (const p of ranked.slice(0, copies + init.margin + init.extra)) addToPlan(plan, p.id, r)
    // and where a put or a repair places copies when the nearest peers are full: the nearest peers with room (where
    // nobody is full, they were asked already). Until their holders announce them, the DHT knows of no such copy
    for (const p of ranked.filter(p => p.free > 0).slice(0, copies)) addToPlan(plan, p.id, r)
  }
  await ask(plan)
  if (init.providers === false) return done(results)

  // chunks that still look short: the copies may sit on peers placement did not name (the network changed). When
  // every live peer was asked already, the DHT can name nobody new: in a small network that skips a lookup per
  // chunk, each waiting on a dead peer's dial, right when a death left every chunk it held short. A count a holder
  // named replaces the probe: a chunk put with one copy is not short with one, and looking for more cost `health` a
  // DHT lookup per chunk (2.3–5.1 s for a file of 21 blocks on 12 peers)
  const short = results.filter(r => r.holders.size < (r.replicas > 0 ? r.replicas : init.probe ?? 1) && r.asked.size < live.length)
  const liveIds = new Set(live.map(p => p.id.toString()))
  const dhtPlan = new Map<string, { peer: PeerId, items: typeof results }>()
  for (let i = 0; i < short.length; i += DHT_CONCURRENCY) {
    await Promise.all(short.slice(i, i + DHT_CONCURRENCY).map(async r => {
      const signal = init.signal == null ? AbortSignal.timeout(DHT_TIMEOUT) : AbortSignal.any([init.signal, AbortSignal.timeout(DHT_TIMEOUT)])
      try {
        for await (const peer of components.findProviders(r.cid, { signal })) {
          const key = peer.toString()
          if (liveIds.has(key) && !r.asked.has(key) && !r.holders.has(key)) addToPlan(dhtPlan, peer, r)
        }
      } catch {
        // a slow or empty DHT only means fewer candidates
      }
    }))
  }
  await ask(dhtPlan)
  return done(results)
}

/**
 * One `has` question, asked twice before its peer counts as holding nothing: a stream dropped by a busy peer would
 * otherwise make a held chunk look short, and the healer copy it for nothing. A timeout is not asked again.
 */
async function askHas (components: HealerComponents, peer: PeerId, cids: CID[], signal?: AbortSignal): Promise<{ has: boolean[], replicas: number[] } | undefined> {
  for (let attempt = 1; attempt <= HAS_ATTEMPTS; attempt++) {
    try {
      return await components.has(peer, cids, { signal })
    } catch (err: any) {
      if (signal?.aborted === true) return undefined
      components.log('asking %p which of %d chunks it holds failed (attempt %d): %s', peer, cids.length, attempt, err.message)
      // a peer that let the question time out is unreachable, not glitchy: asking again would only double the wait
      if (TIMED_OUT.has(err.name)) return undefined
    }
  }
  return undefined
}

function done (results: Array<{ cid: CID, holders: Map<string, PeerId>, replicas: number }>): ChunkCensus[] {
  return results.map(r => ({ cid: r.cid, holders: [...r.holders.values()], replicas: r.replicas }))
}

function addToPlan<T extends { asked: Set<string> }> (plan: Map<string, { peer: PeerId, items: T[] }>, peer: PeerId, item: T): void {
  const key = peer.toString()
  if (item.asked.has(key)) return
  item.asked.add(key)
  let entry = plan.get(key)
  if (entry == null) {
    entry = { peer, items: [] }
    plan.set(key, entry)
  }
  entry.items.push(item)
}
