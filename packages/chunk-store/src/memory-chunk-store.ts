import { bytesMatch } from './cid.ts'
import { ChunkCorruptError, ChunkMismatchError, ChunkNotFoundError, StoreNotOpenError } from './errors.ts'
import { IncomingChunk } from './incoming-chunk.ts'
import { SpaceLedger } from './space-ledger.ts'
import { checkChunkSize, checkCid, checkReplicas, resolveLimits } from './validate.ts'
import type { ChunkInfo, ChunkStore, GetOptions, MemoryChunkStoreInit, PutOptions } from './index.ts'
import type { Limits } from './validate.ts'
import type { CID } from 'multiformats/cid'

interface Entry {
  cid: CID
  bytes: Uint8Array
  replicas: number
}

/** The reference store: the same contract as the disk store, held in a Map. */
export class MemoryChunkStore implements ChunkStore {
  readonly #chunks = new Map<string, Entry>()
  readonly #limits: Limits
  readonly #ledger: SpaceLedger
  #open = false

  constructor (init: MemoryChunkStoreInit = {}) {
    this.#limits = resolveLimits(init)
    this.#ledger = new SpaceLedger(this.#limits.capacity)
  }

  get capacity (): number {
    return this.#ledger.capacity
  }

  get size (): number {
    return this.#ledger.used
  }

  get count (): number {
    return this.#ledger.count
  }

  get free (): number {
    return this.#ledger.free
  }

  async open (): Promise<void> {
    this.#open = true
  }

  /** Keeps the chunks, as closing a disk store keeps its files. */
  async close (): Promise<void> {
    this.#open = false
  }

  async has (cid: CID): Promise<boolean> {
    return this.#chunks.has(this.#key(cid))
  }

  async put (cid: CID, bytes: Uint8Array, options: PutOptions = {}): Promise<void> {
    const key = this.#key(cid)
    checkChunkSize(bytes.length, this.#limits.maxChunkSize)
    const replicas = checkReplicas(options.replicas ?? this.#limits.defaultReplicas)
    if (options.verify !== false && !bytesMatch(cid, bytes)) {
      throw new ChunkMismatchError(key)
    }
    options.signal?.throwIfAborted()
    // a copy, so the caller reusing its buffer cannot change what is stored
    this.#keep(key, cid, bytes.slice(), replicas)
  }

  async putStream (cid: CID, source: AsyncIterable<Uint8Array>, options: PutOptions = {}): Promise<void> {
    const key = this.#key(cid)
    const replicas = checkReplicas(options.replicas ?? this.#limits.defaultReplicas)
    options.signal?.throwIfAborted()
    const held = this.#chunks.has(key)
    const incoming = new IncomingChunk(cid, this.#limits.maxChunkSize, held ? undefined : this.#ledger)
    const pieces: Uint8Array[] = []

    try {
      for await (const piece of incoming.check(source, options.signal)) {
        pieces.push(piece.slice())
      }
    } finally {
      // #keep charges the whole chunk at once; the reservation only guarded the stream
      incoming.release()
    }
    this.#keep(key, cid, concat(pieces, incoming.size), replicas)
  }

  async get (cid: CID, options: GetOptions = {}): Promise<Uint8Array> {
    const entry = this.#entry(cid)
    options.signal?.throwIfAborted()
    if (options.verify !== false && !bytesMatch(entry.cid, entry.bytes)) {
      throw new ChunkCorruptError(entry.cid.toString())
    }
    return entry.bytes.slice()
  }

  async delete (cid: CID): Promise<boolean> {
    const key = this.#key(cid)
    const entry = this.#chunks.get(key)
    if (entry == null) {
      return false
    }
    this.#chunks.delete(key)
    this.#ledger.remove(entry.bytes.length)
    return true
  }

  async * list (): AsyncGenerator<ChunkInfo> {
    this.#assertOpen()
    for (const { cid, bytes, replicas } of [...this.#chunks.values()]) {
      yield { cid, size: bytes.length, replicas }
    }
  }

  async replicas (cid: CID): Promise<number | undefined> {
    return this.#chunks.get(this.#key(cid))?.replicas
  }

  async setReplicas (cid: CID, replicas: number): Promise<void> {
    this.#entry(cid).replicas = checkReplicas(replicas)
  }

  async verify (cid: CID): Promise<boolean> {
    const entry = this.#entry(cid)
    return bytesMatch(entry.cid, entry.bytes)
  }

  #assertOpen (): void {
    if (!this.#open) {
      throw new StoreNotOpenError()
    }
  }

  #key (cid: CID): string {
    this.#assertOpen()
    return checkCid(cid)
  }

  #entry (cid: CID): Entry {
    const key = this.#key(cid)
    const entry = this.#chunks.get(key)
    if (entry == null) {
      throw new ChunkNotFoundError(key)
    }
    return entry
  }

  /** Stores a new chunk, or only raises the replica count of one already held. */
  #keep (key: string, cid: CID, bytes: Uint8Array, replicas: number): void {
    const entry = this.#chunks.get(key)
    if (entry != null) {
      entry.replicas = Math.max(entry.replicas, replicas)
      return
    }
    this.#ledger.reserve(bytes.length)
    this.#ledger.commit(bytes.length)
    this.#chunks.set(key, { cid, bytes, replicas })
  }
}

function concat (pieces: Uint8Array[], size: number): Uint8Array {
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const piece of pieces) {
    bytes.set(piece, offset)
    offset += piece.length
  }
  return bytes
}
