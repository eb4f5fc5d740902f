import { CID } from 'multiformats/cid'
import { DEFAULT_CAPACITY, DEFAULT_MAX_CHUNK_SIZE, DEFAULT_REPLICAS, RAW_CODE, SHA2_256_CODE, SHA2_256_LENGTH } from './constants.ts'
import { ChunkTooLargeError, InvalidCidError } from './errors.ts'
import type { MemoryChunkStoreInit } from './index.ts'

export interface Limits {
  capacity: number
  maxChunkSize: number
  defaultReplicas: number
}

/** Applies the defaults once, so both stores agree on them. */
export function resolveLimits (init: MemoryChunkStoreInit): Limits {
  const capacity = init.capacity ?? DEFAULT_CAPACITY
  const maxChunkSize = init.maxChunkSize ?? DEFAULT_MAX_CHUNK_SIZE
  if (!(capacity >= 0)) {
    throw new RangeError(`capacity must be a number of bytes >= 0, got ${capacity}`)
  }
  if (!Number.isSafeInteger(maxChunkSize) || maxChunkSize < 0) {
    throw new RangeError(`maxChunkSize must be a whole number of bytes, got ${maxChunkSize}`)
  }
  return { capacity, maxChunkSize, defaultReplicas: checkReplicas(init.defaultReplicas ?? DEFAULT_REPLICAS) }
}

/** Returns the CID's canonical string, which names the chunk on disk and in maps. */
export function checkCid (cid: CID): string {
  const parsed = CID.asCID(cid)
  if (parsed == null) {
    throw new InvalidCidError(String(cid), 'not a CID')
  }
  if (parsed.version !== 1) {
    throw new InvalidCidError(parsed.toString(), `version ${parsed.version}, expected CIDv1`)
  }
  if (parsed.code !== RAW_CODE) {
    throw new InvalidCidError(parsed.toString(), `codec 0x${parsed.code.toString(16)}, expected raw (0x55)`)
  }
  if (parsed.multihash.code !== SHA2_256_CODE || parsed.multihash.size !== SHA2_256_LENGTH) {
    throw new InvalidCidError(parsed.toString(), `multihash 0x${parsed.multihash.code.toString(16)}, expected sha2-256 (0x12)`)
  }
  return parsed.toString()
}

export function checkChunkSize (size: number, maxChunkSize: number): void {
  if (size > maxChunkSize) {
    throw new ChunkTooLargeError(size, maxChunkSize)
  }
}

export function checkReplicas (replicas: number): number {
  if (!Number.isSafeInteger(replicas) || replicas < 1) {
    throw new RangeError(`replicas must be a whole number >= 1, got ${replicas}`)
  }
  return replicas
}
