/**
 * @packageDocumentation
 *
 * A peer's content-addressed chunk store. Each chunk is named by the CID of
 * its bytes (CIDv1, raw codec, sha2-256), checked against that CID when it is
 * written and again every time it is read, and counted against a capacity.
 *
 * The disk store writes each chunk to a temp file, fsyncs it and renames it
 * into place, so a crash never leaves a partial chunk readable. The memory
 * store keeps the same contract in a Map, for tests and as a reference.
 *
 * @example
 *
 * ```ts
 * import { mkdtemp } from 'node:fs/promises'
 * import { tmpdir } from 'node:os'
 * import { join } from 'node:path'
 * import { cidForChunk, createChunkStore } from '@ionnet/chunk-store'
 *
 * const store = createChunkStore({ dir: await mkdtemp(join(tmpdir(), 'ionnet-')), capacity: 1024 ** 3 })
 * await store.open()
 *
 * const bytes = new TextEncoder().encode('hello ionnet')
 * const cid = cidForChunk(bytes)
 * await store.put(cid, bytes, { replicas: 5 })
 *
 * const back = await store.get(cid) // verified against the CID on every read
 * console.info(new TextDecoder().decode(back), store.size, await store.replicas(cid)) // hello ionnet 12 5
 *
 * await store.close()
 * ```
 */

import * as fs from 'node:fs/promises'
import { FsChunkStore } from './fs-chunk-store.ts'
import { MemoryChunkStore } from './memory-chunk-store.ts'
import { readWhole } from './read-whole.ts'
import type { CID } from 'multiformats/cid'

export { cidForChunk } from './cid.ts'
export { DEFAULT_CAPACITY, DEFAULT_MAX_CHUNK_SIZE, DEFAULT_REPLICAS, DISK_FULL_RECHECK } from './constants.ts'
export {
  CapacityExceededError,
  ChunkCorruptError,
  ChunkMismatchError,
  ChunkNotFoundError,
  ChunkTooLargeError,
  DiskFullError,
  InvalidCidError,
  StorageError,
  StoreNotOpenError
} from './errors.ts'

/** A chunk the store holds, as list() reports it. */
export interface ChunkInfo {
  cid: CID
  /** Bytes. */
  size: number
  /** How many copies the network should keep, as recorded for this chunk. */
  replicas: number
}

/** Options for put and putStream. */
export interface PutOptions {
  /** Copies the network should keep. Defaults to the store's defaultReplicas; a repeated put keeps the larger value. */
  replicas?: number
  signal?: AbortSignal
  /**
   * put only: false skips checking the bytes against the CID, for a caller that has just computed the CID from these
   * very bytes, or checked them (an uploader storing a chunk it sealed, a repair storing one it fetched and verified).
   * Default: true. putStream always checks: its bytes come from elsewhere.
   */
  verify?: boolean
}

/** Options for get. */
export interface GetOptions {
  signal?: AbortSignal
  /**
   * false skips checking the bytes against the CID, for a caller that checks them anyway: a peer serving a chunk to
   * another (which hashes or authenticates what it receives), a reader that decrypts it (authentication fails on any
   * other bytes). A copy that rotted on disk then reaches that caller, and scrub finds it. Default: true.
   */
  verify?: boolean
}

/** Limits shared by every store. */
export interface MemoryChunkStoreInit {
  /** Bytes of chunk data the store may hold. Default: DEFAULT_CAPACITY (Infinity). */
  capacity?: number
  /** Largest chunk accepted, in bytes. Default: DEFAULT_MAX_CHUNK_SIZE (4 MiB). */
  maxChunkSize?: number
  /** Replica count recorded when a put names none, or when a record is lost. Default: DEFAULT_REPLICAS (3). */
  defaultReplicas?: number
}

/** Settings for the disk store. */
export interface ChunkStoreInit extends MemoryChunkStoreInit {
  /** Folder that holds `blocks/` and `tmp/`; created by open() if missing. */
  dir: string
}

/**
 * A content-addressed chunk store. Every call but open() throws
 * StoreNotOpenError until open() has resolved, and every call taking a CID
 * throws InvalidCidError for anything but CIDv1 raw sha2-256.
 */
export interface ChunkStore {
  /** Bytes the store may hold; Infinity when unlimited. */
  readonly capacity: number
  /** Bytes of chunks stored now. */
  readonly size: number
  /** Chunks stored now. */
  readonly count: number
  /**
   * Bytes the store may still take: capacity minus size, and 0 for a while after the disk ran out of space
   * (DiskFullError until a chunk is deleted or DISK_FULL_RECHECK has passed), so peers can stop sending copies.
   */
  readonly free: number
  /** Creates folders, removes temp files left by a crash, and counts the chunks already stored. */
  open(): Promise<void>
  /** Waits for writes in flight, then refuses further calls. */
  close(): Promise<void>
  has(cid: CID): Promise<boolean>
  /**
   * Stores a chunk after checking its bytes hash to the CID (unless `verify: false`). Storing a chunk
   * already held writes nothing but raises its recorded replicas to the larger value. Once it settles the store
   * holds no reference to `bytes`: the caller may reuse them.
   */
  put(cid: CID, bytes: Uint8Array, options?: PutOptions): Promise<void>
  /** Like put, for bytes arriving in pieces: never holds the whole chunk, and stops at the first byte over a limit. */
  putStream(cid: CID, source: AsyncIterable<Uint8Array>, options?: PutOptions): Promise<void>
  /** Returns the chunk's bytes, checked against its CID (unless `verify: false`): ChunkCorruptError rather than wrong bytes. */
  get(cid: CID, options?: GetOptions): Promise<Uint8Array>
  /** Removes the chunk and its replica record; resolves true if it was there. */
  delete(cid: CID): Promise<boolean>
  /** Every chunk held, in no particular order. */
  list(): AsyncIterable<ChunkInfo>
  /** The replica count recorded for a held chunk; undefined if the chunk is not held. */
  replicas(cid: CID): Promise<number | undefined>
  /** Records a new replica count (a whole number >= 1) for a held chunk; ChunkNotFoundError if absent. */
  setReplicas(cid: CID, replicas: number): Promise<void>
  /** Re-reads the chunk and checks it: false if corrupt (it is left in place); ChunkNotFoundError if absent. */
  verify(cid: CID): Promise<boolean>
}

/**
 * Creates a store that keeps chunks as files under `init.dir`. Call open() before use. It reads a chunk in one read
 * of its whole size (readWhole) rather than with `readFile`'s 512 KiB pieces.
 */
export function createChunkStore (init: ChunkStoreInit): ChunkStore {
  return new FsChunkStore({ fs: { ...fs, readFile: readWhole } }, init)
}

/** Creates a store that keeps chunks in memory, with the same contract as the disk store. */
export function createMemoryChunkStore (init: MemoryChunkStoreInit = {}): ChunkStore {
  return new MemoryChunkStore(init)
}
