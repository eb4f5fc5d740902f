import { isLoopback } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import map from 'it-map'
import { DEFAULT_CHUNK_SIZE, encodeFile, formatLink, sealedSize } from '@ionnet/manifest'
import { BufferPool } from './buffer-pool.ts'
import { PUT_WINDOW_BYTES, STORE_ATTEMPTS } from './constants.ts'
import { StoreFailedError } from './errors.ts'
import { rankPeers, splitDoubtful } from './placement.ts'
import { asCompleted, chunksInWindow } from './window.ts'
import type { Announcer } from './announcer.ts'
import type { ChunkProtocol } from './chunk-protocol.ts'
import type { Membership } from './membership.ts'
import type { IonNetNode } from './node.ts'
import type { ChunkStore } from '@ionnet/chunk-store'
import type { PutResult } from '@ionnet/client'
import type { Block } from '@ionnet/manifest'
import type { Logger, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { CID } from 'multiformats/cid'

export interface PutComponents {
  node: IonNetNode
  store: ChunkStore
  protocol: ChunkProtocol
  membership: Membership
  announcer: Announcer
  log: Logger
}

export interface PutOptions {
  name?: string
  replicas: number
  chunkSize?: number
  window?: number
  signal?: AbortSignal
  /** Called as plaintext bytes are consumed, for progress bars. */
  onProgress?(bytes: number): void
}

/**
 * Puts a file: chunks and encrypts it as a stream, and sends each block to the `replicas` live peers nearest to it
 * (this peer included, when it is among them), with a window of blocks in flight.
 */
export async function putFile (source: AsyncIterable<Uint8Array>, components: PutComponents, options: PutOptions): Promise<PutResult> {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE
  // a chain carries all of a chunk's copies but leaves this peer once: the window counts what this peer sends
  const chained = components.membership.live().some(p => !onThisMachine(components.node.getConnections(p.id), p.addrs))
  const window = options.window ?? putWindow(chunkSize, chained ? 1 : options.replicas)
  // the window's chunks, and the one being sealed while the window is full
  const buffers = new BufferPool(sealedSize(chunkSize), window + 1)
  const encoded = encodeFile(counted(source, options.onProgress), {
    name: options.name,
    chunkSize,
    allocate: bytes => buffers.take(bytes),
    signal: options.signal
  })
  let minCopies = Infinity
  let blocks = 0
  let firstError: string | undefined
  const tasks = map(encoded.blocks, block => async () => {
    const { copies, errors } = await replicate(block, options.replicas, components, options.signal)
    // every exchange with its bytes ended in an answer: none of them can still be sending. After a failure the
    // buffer is left to the collector, since an aborted stream's bytes may still be queued
    if (block.kind === 'data' && errors.length === 0) buffers.give(block.bytes)
    if (copies === 0) throw new StoreFailedError(`no peer could store chunk ${block.cid.toString()}: ${errors[0] ?? 'this peer and every live peer are full'}`)
    minCopies = Math.min(minCopies, copies)
    blocks++
    if (copies < options.replicas) firstError ??= errors[0]
  })
  for await (const _ of asCompleted(tasks, window)) { /* drain */ }
  const { link, manifest } = encoded.result()
  const result: PutResult = {
    link: formatLink(link),
    cid: link.cid.toString(),
    name: manifest.name,
    size: manifest.size,
    chunks: manifest.chunkCount,
    replicas: options.replicas,
    minCopies: blocks === 0 ? 0 : minCopies
  }
  if (result.minCopies < options.replicas) {
    // say why: too few peers is the usual reason, but peers may also have refused (full) or failed
    const live = components.membership.live().length + 1
    const why = live < options.replicas ? `only ${live} peer${live === 1 ? ' is' : 's are'} live` : `other peers refused or failed (${firstError ?? 'no reason given'})`
    result.warning = `stored only ${result.minCopies} of ${options.replicas} copies of some chunks: ${why}; the healer adds the missing copies as peers become available`
  }
  return result
}

/**
 * Stores one block on up to `replicas` peers, nearest first: this peer's own copy on its disk, and the others along
 * a chain (storeAlong), so the block leaves this peer once however many copies it gets. When some of them refuse or
 * fail, the next candidates are asked for the copies still missing. Resolves the number of copies made. The block's
 * CID must have been computed from its bytes (encodeFile's blocks are): this peer's own copy is stored without hashing
 * them again, while other peers always check.
 */
export async function replicate (block: Block, replicas: number, components: PutComponents, signal?: AbortSignal): Promise<{ copies: number, errors: string[] }> {
  const { node, store, membership, announcer } = components
  const self = node.peerId
  const ranked = rankPeers(block.cid, [
    { id: self, free: store.free, addrs: [] },
    ...membership.live().map(p => ({ id: p.id, free: p.free, addrs: p.addrs }))
  ]).filter(p => p.free >= block.bytes.length && !components.protocol.unresponsive(p.id))
  // a peer that missed its last beat may be frozen: it gets a copy only where the peers on time cannot take them all
  const { sound, doubtful } = splitDoubtful(ranked, p => membership.isOverdue(p.id))
  const candidates = [...sound, ...doubtful]
  let copies = 0
  const errors: string[] = []
  for (let i = 0; i < candidates.length && copies < replicas;) {
    const batch = candidates.slice(i, i + replicas - copies)
    i += batch.length
    const others = batch.filter(p => !p.id.equals(self))
    // a chain saves this peer's uplink; a peer on this very machine is reached through no link, and a chain through
    // it only adds a hop: it gets its copy straight from here
    const near: PeerId[] = []
    const far: PeerId[] = []
    for (const p of others) (onThisMachine(node.getConnections(p.id), p.addrs) ? near : far).push(p.id)
    const [mine, ...stores] = await Promise.all([
      others.length < batch.length ? storeHere() : 0,
      storeAlong(far, block, replicas, components, signal),
      ...near.map(async id => storeAlong([id], block, replicas, components, signal))
    ])
    copies += mine + stores.reduce((n, s) => n + s.copies, 0)
    errors.push(...stores.flatMap(s => s.errors))
  }
  return { copies, errors }

  async function storeHere (): Promise<number> {
    try {
      // its CID was computed from these very bytes as they were sealed
      await store.put(block.cid, block.bytes, { replicas, signal, verify: false })
      announcer.busy()
      announcer.announce(block.cid)
      return 1
    } catch (err: any) {
      signal?.throwIfAborted()
      errors.push(`this peer: ${err.message}`)
      return 0
    }
  }
}

/**
 * Stores a block along `chain`: on its first peer, which passes it on to the second, and so on, each sending it once
 * over its own link. A put with three copies thus takes as long on a slow uplink as one with one copy, where sending
 * every copy itself took three times as long. A peer that refuses or fails is left out, and the next one heads the
 * rest of the chain; a peer that predates forwarding keeps its copy, and the next one is asked from here. Resolves how
 * many peers of the chain hold the block, and why the others do not, where this peer saw it.
 */
export async function storeAlong (chain: PeerId[], block: { cid: CID, bytes: Uint8Array }, replicas: number, components: Pick<PutComponents, 'protocol' | 'log'>, signal?: AbortSignal): Promise<{ copies: number, errors: string[] }> {
  const { protocol, log } = components
  let copies = 0
  const errors: string[] = []
  for (let head = 0; head < chain.length; head++) {
    const id = chain[head]
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await protocol.store(id, block.cid, block.bytes, replicas, { signal, forward: chain.slice(head + 1) })
        copies += result.copies
        if (result.forwarded) return { copies, errors }
        break
      } catch (err: any) {
        signal?.throwIfAborted()
        log('storing %s on %p failed (attempt %d): %s', block.cid, id, attempt, err.message)
        // a refusal is an answer; a stream dropped by a busy peer deserves another try, since with as many live
        // peers as replicas there is nobody else to ask and the block would be put with a copy short
        // (a timeout is not retried: the peer is unreachable, and waiting twice would stall the put)
        if (err.remoteCode == null && !TIMED_OUT.has(err.name) && attempt < STORE_ATTEMPTS) continue
        errors.push(`${id.toString()}: ${err.message}`)
        break
      }
    }
  }
  return { copies, errors }
}

/**
 * Whether a peer runs on this very machine, given this peer's connections to it and the addresses its heartbeats
 * announce: every connection is over loopback, or, with none open yet, every address is a loopback one, since it
 * can be reached no other way. A peer is connected to only some of the others in a larger network (22 of 49 on
 * average in an idle one of 50 peers on one machine), and with connections alone the rest counted as far: their
 * copies went along chains, which on one machine only add hops.
 */
export function onThisMachine (connections: Array<{ remoteAddr: Multiaddr }>, addrs: string[]): boolean {
  if (connections.length > 0) return connections.every(c => isLoopback(c.remoteAddr))
  return addrs.length > 0 && addrs.every(a => {
    try {
      return isLoopback(multiaddr(a))
    } catch {
      return false
    }
  })
}

/** How many chunks a put keeps in flight: as many as PUT_WINDOW_BYTES holds of the copies this peer sends. */
export function putWindow (chunkSize: number, replicas: number): number {
  return chunksInWindow(PUT_WINDOW_BYTES, chunkSize * Math.max(1, replicas))
}

/** Errors of a request that ran out of time (chunk timeout or a caller's deadline). */
const TIMED_OUT = new Set(['TimeoutError', 'AbortError'])

async function * counted (source: AsyncIterable<Uint8Array>, onProgress?: (bytes: number) => void): AsyncGenerator<Uint8Array> {
  for await (const piece of source) {
    onProgress?.(piece.length)
    yield piece
  }
}
