import map from 'it-map'
import { DEFAULT_CHUNK_SIZE, encodeFile, formatLink } from '@ionnet/manifest'
import { PUT_WINDOW_BYTES, STORE_ATTEMPTS } from './constants.ts'
import { StoreFailedError } from './errors.ts'
import { rankPeers } from './placement.ts'
import { asCompleted, chunksInWindow } from './window.ts'
import type { Announcer } from './announcer.ts'
import type { ChunkProtocol } from './chunk-protocol.ts'
import type { Membership } from './membership.ts'
import type { IonNetNode } from './node.ts'
import type { ChunkStore } from '@ionnet/chunk-store'
import type { PutResult } from '@ionnet/client'
import type { Block } from '@ionnet/manifest'
import type { Logger, PeerId } from '@libp2p/interface'

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
  const encoded = encodeFile(counted(source, options.onProgress), { name: options.name, chunkSize: options.chunkSize, signal: options.signal })
  let minCopies = Infinity
  let blocks = 0
  let firstError: string | undefined
  const tasks = map(encoded.blocks, block => async () => {
    const { copies, errors } = await replicate(block, options.replicas, components, options.signal)
    if (copies === 0) throw new StoreFailedError(`no peer could store chunk ${block.cid.toString()}: ${errors[0] ?? 'this peer and every live peer are full'}`)
    minCopies = Math.min(minCopies, copies)
    blocks++
    if (copies < options.replicas) firstError ??= errors[0]
  })
  const window = options.window ?? putWindow(options.chunkSize ?? DEFAULT_CHUNK_SIZE, options.replicas)
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
 * Stores one block on up to `replicas` peers, nearest first, moving on to the next candidate when one refuses or
 * fails. Resolves the number of copies made. The block's CID must have been computed from its bytes (encodeFile's
 * blocks are): this peer's own copy is stored without hashing them again, while other peers always check.
 */
export async function replicate (block: Block, replicas: number, components: PutComponents, signal?: AbortSignal): Promise<{ copies: number, errors: string[] }> {
  const { node, store, protocol, membership, announcer, log } = components
  const self = node.peerId
  const candidates = rankPeers(block.cid, [
    { id: self, free: store.free },
    ...membership.live().map(p => ({ id: p.id, free: p.free }))
  ]).filter(p => p.free >= block.bytes.length)
  let copies = 0
  const errors: string[] = []
  for (let i = 0; i < candidates.length && copies < replicas;) {
    const batch = candidates.slice(i, i + replicas - copies)
    i += batch.length
    const results = await Promise.all(batch.map(async ({ id }) => storeOn(id)))
    copies += results.filter(Boolean).length
  }
  return { copies, errors }

  async function storeOn (id: PeerId): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        if (id.equals(self)) {
          // its CID was computed from these very bytes as they were sealed
          await store.put(block.cid, block.bytes, { replicas, signal, verify: false })
          announcer.busy()
          announcer.announce(block.cid)
        } else {
          await protocol.store(id, block.cid, block.bytes, replicas, { signal })
        }
        return true
      } catch (err: any) {
        signal?.throwIfAborted()
        log('storing %s on %p failed (attempt %d): %s', block.cid, id, attempt, err.message)
        // a refusal is an answer; a stream dropped by a busy peer deserves another try, since with as many live
        // peers as replicas there is nobody else to ask and the block would be put with a copy short
        // (a timeout is not retried: the peer is unreachable, and waiting twice would stall the put)
        if (err.remoteCode == null && !id.equals(self) && !TIMED_OUT.has(err.name) && attempt < STORE_ATTEMPTS) continue
        errors.push(id.equals(self) ? `this peer: ${err.message}` : `${id.toString()}: ${err.message}`)
        return false
      }
    }
  }

}


/** How many chunks a put keeps in flight: as many as PUT_WINDOW_BYTES holds of their copies. */
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
