/** The store holds no chunk with this CID. */
export class ChunkNotFoundError extends Error {
  static name = 'ChunkNotFoundError'
  name = 'ChunkNotFoundError'
  code = 'ERR_CHUNK_NOT_FOUND'

  constructor (cid: string) {
    super(`chunk ${cid} not found`)
  }
}

/** Bytes read back from storage no longer hash to their CID (bit rot, tampering, a bad disk). */
export class ChunkCorruptError extends Error {
  static name = 'ChunkCorruptError'
  name = 'ChunkCorruptError'
  code = 'ERR_CHUNK_CORRUPT'

  constructor (cid: string) {
    super(`chunk ${cid} is corrupt: stored bytes do not match its CID`)
  }
}

/** Bytes offered to put do not hash to the CID they were offered under. */
export class ChunkMismatchError extends Error {
  static name = 'ChunkMismatchError'
  name = 'ChunkMismatchError'
  code = 'ERR_CHUNK_MISMATCH'

  constructor (cid: string) {
    super(`bytes offered for chunk ${cid} do not match its CID`)
  }
}

/** Storing the chunk would take the store past its capacity. */
export class CapacityExceededError extends Error {
  static name = 'CapacityExceededError'
  name = 'CapacityExceededError'
  code = 'ERR_CAPACITY_EXCEEDED'
  readonly used: number
  readonly needed: number
  readonly capacity: number

  constructor (used: number, needed: number, capacity: number) {
    super(`capacity exceeded: ${used} bytes used or reserved, ${needed} more needed, capacity is ${capacity}`)
    this.used = used
    this.needed = needed
    this.capacity = capacity
  }
}

/** The chunk is larger than the store's maxChunkSize. */
export class ChunkTooLargeError extends Error {
  static name = 'ChunkTooLargeError'
  name = 'ChunkTooLargeError'
  code = 'ERR_CHUNK_TOO_LARGE'
  readonly size: number
  readonly maxChunkSize: number

  /** For a stream, `size` is how much had arrived when the limit was crossed. */
  constructor (size: number, maxChunkSize: number) {
    super(`chunk of ${size} bytes or more exceeds the ${maxChunkSize}-byte limit`)
    this.size = size
    this.maxChunkSize = maxChunkSize
  }
}

/** Only CIDv1 with the raw codec (0x55) and a sha2-256 multihash (0x12) name chunks. */
export class InvalidCidError extends Error {
  static name = 'InvalidCidError'
  name = 'InvalidCidError'
  code = 'ERR_INVALID_CID'

  constructor (cid: string, reason: string) {
    super(`invalid chunk CID ${cid}: ${reason}`)
  }
}

/** The disk ran out of space lately: the store takes no new chunks until one is deleted or a minute has passed. */
export class DiskFullError extends Error {
  static name = 'DiskFullError'
  name = 'DiskFullError'
  code = 'ERR_DISK_FULL'
  readonly used: number

  constructor (used: number) {
    super(`the disk is full (${used} bytes of chunks stored)`)
    this.used = used
  }
}

/** The storage medium failed (ENOSPC, EIO, EACCES...); `cause` holds the original error. */
export class StorageError extends Error {
  static name = 'StorageError'
  name = 'StorageError'
  code = 'ERR_STORAGE'

  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/** The store was used before open() or after close(). */
export class StoreNotOpenError extends Error {
  static name = 'StoreNotOpenError'
  name = 'StoreNotOpenError'
  code = 'ERR_STORE_NOT_OPEN'

  constructor () {
    super('chunk store is not open: call open() first')
  }
}
