import { hash } from 'node:crypto'
import { CID } from 'multiformats/cid'
import { DIGEST_BYTES, RAW_CODE, SHA2_256_CODE } from './constants.ts'

/** Every IonNet CID starts with these bytes: version 1, raw, sha2-256, 32-byte digest (each varint fits one byte). */
const PREFIX = Uint8Array.of(1, RAW_CODE, SHA2_256_CODE, DIGEST_BYTES)

/** Length of the binary form of an IonNet CID. */
export const CID_BYTES = PREFIX.length + DIGEST_BYTES

export function sha256 (bytes: Uint8Array): Uint8Array {
  return hash('sha256', bytes, 'buffer')
}

export function cidForChunk (bytes: Uint8Array): CID {
  const cid = new Uint8Array(CID_BYTES)
  cid.set(PREFIX, 0)
  cid.set(sha256(bytes), PREFIX.length)
  return CID.decode(cid)
}

/** Checks binary CID bytes without letting a parser see hostile input. */
export function isChunkCidBytes (bytes: unknown): bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength !== CID_BYTES) return false
  for (let i = 0; i < PREFIX.length; i++) {
    if (bytes[i] !== PREFIX[i]) return false
  }
  return true
}

export function isChunkCid (cid: unknown): cid is CID {
  const parsed = CID.asCID(cid)
  return parsed != null && isChunkCidBytes(parsed.bytes)
}

/** True when `bytes` hash to the digest `cid` names. */
export function matchesCid (cid: CID, bytes: Uint8Array): boolean {
  return isChunkCid(cid) && bytesEqual(cid.multihash.digest, sha256(bytes))
}

export function bytesEqual (a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b)
}
