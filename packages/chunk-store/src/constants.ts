export const KiB = 1024
export const MiB = 1024 * KiB

/** No limit unless the operator sets one: a peer usually dedicates a whole disk. */
export const DEFAULT_CAPACITY = Infinity

/** Large enough to amortise per-chunk overhead, small enough to hash and send in one go. */
export const DEFAULT_MAX_CHUNK_SIZE = 4 * MiB

/** Pieces of a chunk are gathered up to this many bytes before they are written in one call. */
export const WRITE_BATCH = 1 * MiB

/** Three copies survive two simultaneous peer losses, the usual baseline for repair. */
export const DEFAULT_REPLICAS = 3

/**
 * After the disk ran out of space the store calls itself full for this long, or until a chunk is deleted:
 * long enough that peers stop sending copies that cannot land, short enough to notice space freed by others.
 */
export const DISK_FULL_RECHECK = 60_000

/** Multicodec `raw`: a chunk is opaque bytes, never a structured IPLD node. */
export const RAW_CODE = 0x55

/** Multihash `sha2-256`: hardware accelerated almost everywhere, and the IPFS default. */
export const SHA2_256_CODE = 0x12

/** Length of a sha2-256 digest in bytes. */
export const SHA2_256_LENGTH = 32

/** Chunk files live here, sharded so no single folder grows to millions of entries. */
export const BLOCKS_DIR = 'blocks'

/** Writes land here first, on the same file system, so the final rename is atomic. */
export const TMP_DIR = 'tmp'

/** Suffix of the replica-count sidecar written next to each chunk file. */
export const META_SUFFIX = '.meta'
