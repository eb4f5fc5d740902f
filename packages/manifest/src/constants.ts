const KiB = 1024
const MiB = 1024 * KiB

/**
 * Large enough to amortise what every chunk costs (a stream, a file and its fsync, a DHT record), small enough to
 * repair and hold in memory a few at a time. 2 MiB rather than 1: a put with 3 copies took 30% less CPU.
 */
export const DEFAULT_CHUNK_SIZE = 2 * MiB

/** A one-byte chunk is useless but harmless; zero would never make progress. */
export const MIN_CHUNK_SIZE = 1

/** Caps what a decoder must buffer for one chunk, whatever a manifest claims. */
export const MAX_CHUNK_SIZE = 16 * MiB

/**
 * Whether the encoder records the whole file's sha2-256 in the manifest. Off: a writer that hashes its plaintext once
 * more spends that pass on the thread that bounds a put (a 256 MiB put with one copy ran at 89–111 MiB/s with it,
 * 127–145 without), while chunk authentication already checks every byte a reader gets.
 */
export const DEFAULT_RECORD_SHA256 = false

/** 16384 links of 38 CBOR bytes each keep one manifest node near 600 KiB, under a 1 MiB chunk. */
export const DEFAULT_FANOUT = 16 * KiB

/** A fanout of one would never shrink a tree level. */
export const MIN_FANOUT = 2

/** Caps one manifest node near 2.4 MiB, whatever a manifest claims. */
export const MAX_FANOUT = 64 * KiB

/** Names are file names on someone's disk: 255 bytes is the common file-system limit. */
export const MAX_NAME_BYTES = 255

/** Manifest format version; a decoder refuses any other. */
export const FORMAT_VERSION = 1

/** Type tags keep a root record and a tree node from being mistaken for each other. */
export const ROOT_TYPE = 'ionnet/manifest'
export const NODE_TYPE = 'ionnet/node'

/** The only cipher of format version 1. */
export const CIPHER = 'aes-256-gcm'

/** AES-256 key, file secret and manifest key length. */
export const KEY_BYTES = 32

/** GCM's standard nonce length; always zero because every key seals exactly one message. */
export const NONCE_BYTES = 12

/** Full-length GCM tag: truncated tags weaken authentication for no gain here. */
export const TAG_BYTES = 16

/** Multicodec of raw bytes: a chunk's CID names its ciphertext, nothing more. */
export const RAW_CODE = 0x55

/** Multihash code of sha2-256. */
export const SHA2_256_CODE = 0x12

/** sha2-256 digest length. */
export const DIGEST_BYTES = 32

/** URL scheme of a link; optional when parsing. */
export const LINK_SCHEME = 'ionnet://'

/** A real link is about 115 characters; the cap keeps hostile input away from quadratic base58 decoding. */
export const MAX_LINK_LENGTH = 1024
