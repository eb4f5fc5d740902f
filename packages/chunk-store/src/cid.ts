import { createHash } from 'node:crypto'
import { equals } from 'multiformats/bytes'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { RAW_CODE, SHA2_256_CODE } from './constants.ts'
import { checkCid } from './validate.ts'

/** The CID that names these bytes as a chunk: CIDv1, raw codec, sha2-256 multihash. */
export function cidForChunk (bytes: Uint8Array): CID {
  return CID.createV1(RAW_CODE, Digest.create(SHA2_256_CODE, sha256(bytes)))
}

/** Node's synchronous hash runs in native code; the async Web Crypto path only adds a hop. */
export function sha256 (bytes: Uint8Array): Uint8Array {
  return createHash('sha256').update(bytes).digest()
}

export function digestMatches (cid: CID, digest: Uint8Array): boolean {
  return equals(cid.multihash.digest, digest)
}

export function bytesMatch (cid: CID, bytes: Uint8Array): boolean {
  return digestMatches(cid, sha256(bytes))
}

/**
 * go-ipfs's next-to-last/2 sharding: the characters just before the last one
 * vary uniformly, while a CID's leading characters are the same for every chunk.
 */
export function shardOf (key: string): string {
  return key.slice(-3, -1)
}

/** The chunk a file in a shard folder holds, or undefined for sidecars, strays and misplaced files. */
export function chunkFileCid (shard: string, name: string): CID | undefined {
  try {
    const cid = CID.parse(name)
    checkCid(cid)
    return cid.toString() === name && shardOf(name) === shard ? cid : undefined
  } catch {
    return undefined
  }
}
