import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto'
import { decode, encode } from 'cborg'
import { FileVerifier, cidForChunk, decodeManifest, decryptChunk, encodeFile, parseLink, walkChunks } from '../src/index.ts'
import type { CID } from 'multiformats/cid'
import type { Block, EncodedFile, EncodeOptions, Link, Manifest } from '../src/index.ts'

/*
 * Test helpers. The sealing helpers re-implement the wire format from the
 * README with node:crypto directly, so tests check the format, not the code
 * against itself.
 */

export type Store = Map<string, Uint8Array>

export interface Encoded extends EncodedFile {
  store: Store
  blocks: Block[]
}

/** Encodes `source` and keeps every block (bytes included) in a Map keyed by CID string. */
export async function encodeToStore (source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, options?: EncodeOptions): Promise<Encoded> {
  const { blocks, result } = encodeFile(source, options)
  const store: Store = new Map()
  const seen: Block[] = []
  for await (const block of blocks) {
    store.set(block.cid.toString(), block.bytes)
    seen.push(block)
  }
  return { ...result(), store, blocks: seen }
}

export function fetchFrom (store: Store): (cid: CID) => Promise<Uint8Array> {
  return async (cid) => {
    const bytes = store.get(cid.toString())
    if (bytes === undefined) throw new Error(`test store has no block ${cid.toString()}`)
    return bytes
  }
}

/** Cuts `bytes` into pieces of random lengths, so chunk boundaries straddle pieces. */
export function * randomPieces (bytes: Uint8Array, random: () => number, maxPiece: number): Generator<Uint8Array> {
  for (let offset = 0; offset < bytes.byteLength;) {
    const length = 1 + Math.floor(random() * maxPiece)
    yield bytes.subarray(offset, offset + length)
    offset += length
  }
}

/** Deterministic PRNG (mulberry32), so a failing fuzz case can be replayed from its seed. */
export function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function randomBytesFrom (random: () => number, length: number): Uint8Array {
  const out = new Uint8Array(length)
  for (let i = 0; i < length; i++) out[i] = Math.floor(random() * 256)
  return out
}

export function hkdf (secret: Uint8Array, info: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', secret, new Uint8Array(0), info, 32))
}

/** AES-256-GCM, zero nonce, ciphertext || tag: the README's sealing rule. */
export function sealBytes (key: Uint8Array, plain: Uint8Array): Uint8Array {
  const cipher = createCipheriv('aes-256-gcm', key, new Uint8Array(12))
  return Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()])
}

/** Seals arbitrary plaintext as a root manifest block under a fixed key; returns its link and bytes. */
export function sealRoot (plain: Uint8Array, key: Uint8Array = new Uint8Array(32).fill(7)): { link: Link, bytes: Uint8Array } {
  const bytes = sealBytes(key, plain)
  return { link: { cid: cidForChunk(bytes), key }, bytes }
}

/** The root record of an encoded file as plain CBOR data, decrypted by hand. */
export function rootRecord (encoded: Encoded): Record<string, unknown> {
  const bytes = encoded.store.get(encoded.link.cid.toString())
  if (bytes === undefined) throw new Error('root block missing')
  return decode(openBytes(encoded.link.key, bytes)) as Record<string, unknown>
}

export function openBytes (key: Uint8Array, sealed: Uint8Array): Uint8Array {
  const decipher = createDecipheriv('aes-256-gcm', key, new Uint8Array(12))
  decipher.setAuthTag(sealed.subarray(sealed.byteLength - 16))
  return Buffer.concat([decipher.update(sealed.subarray(0, sealed.byteLength - 16)), decipher.final()])
}

/** Re-seals a (possibly altered) root record under a fixed key. */
export function sealRecord (record: unknown, key?: Uint8Array): { link: Link, bytes: Uint8Array } {
  return sealRoot(encode(record), key)
}

/** The whole read path a downloader runs: link text → manifest → chunks → verified bytes. */
export async function readFile (linkText: string, store: Store): Promise<{ manifest: Manifest, bytes: Uint8Array }> {
  const fetch = fetchFrom(store)
  const link = parseLink(linkText)
  const manifest = decodeManifest(link, await fetch(link.cid))
  const verifier = new FileVerifier(manifest)
  const parts: Uint8Array[] = []
  for await (const ref of walkChunks(manifest, fetch)) {
    const plain = decryptChunk(manifest, ref, await fetch(ref.cid))
    verifier.update(plain)
    parts.push(plain)
  }
  verifier.finish()
  return { manifest, bytes: Buffer.concat(parts) }
}
