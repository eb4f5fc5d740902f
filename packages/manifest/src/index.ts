/**
 * @packageDocumentation
 *
 * Turns a file into encrypted, content-addressed blocks and one link that
 * names and unlocks them, and turns them back into the verified file.
 *
 * A file is cut into fixed-size chunks, each sealed with AES-256-GCM under its
 * own key derived from a per-file secret. The chunk CIDs, the secret and the
 * whole-file sha2-256 go into a CBOR manifest (a tree of manifest nodes when
 * there are more chunks than fit in one), itself sealed under a random
 * manifest key. The link `ionnet://<root CID>#<manifest key>` is all a reader
 * needs; stores see only ciphertext addressed by hash.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict'
 * import type { CID } from 'multiformats/cid'
 * import { encodeFile, formatLink, parseLink, decodeManifest, walkChunks, decryptChunk, FileVerifier } from '@ionnet/manifest'
 *
 * // Write: stream the blocks into any store, keep the link.
 * const store = new Map<string, Uint8Array>()
 * const { blocks, result } = encodeFile([new TextEncoder().encode('hello, world')], { name: 'hello.txt' })
 * for await (const block of blocks) store.set(block.cid.toString(), block.bytes)
 * const text = formatLink(result().link)
 *
 * // Read: the link is enough.
 * const fetch = async (cid: CID): Promise<Uint8Array> => store.get(cid.toString())!
 * const link = parseLink(text)
 * const manifest = decodeManifest(link, await fetch(link.cid))
 * const verifier = new FileVerifier(manifest)
 * const parts: Uint8Array[] = []
 * for await (const ref of walkChunks(manifest, fetch)) {
 *   const plain = decryptChunk(manifest, ref, await fetch(ref.cid))
 *   verifier.update(plain)
 *   parts.push(plain)
 * }
 * verifier.finish()
 * assert.equal(manifest.name, 'hello.txt')
 * assert.equal(Buffer.concat(parts).toString(), 'hello, world')
 * ```
 */

import type { CID } from 'multiformats/cid'

import { cidForChunk as cidForChunkImpl } from './cid.ts'
import { TAG_BYTES } from './constants.ts'
import { decodeManifest as decodeManifestImpl, decryptChunk as decryptChunkImpl, fileBlocks as fileBlocksImpl, walkChunks as walkChunksImpl } from './decoder.ts'
import { encodeFile as encodeFileImpl } from './encoder.ts'
import { formatLink as formatLinkImpl, parseLink as parseLinkImpl } from './link.ts'
import { FileVerifier as FileVerifierImpl } from './verifier.ts'

/** Defaults and limits of chunkSize, fanout and the file name; constants.ts gives the reason for each. */
export { DEFAULT_CHUNK_SIZE, DEFAULT_FANOUT, MAX_CHUNK_SIZE, MAX_FANOUT, MAX_NAME_BYTES } from './constants.ts'
/** The named errors; match on `name` (or `code`), as the table in the README lists them. */
export { ChunkIntegrityError, FileIntegrityError, InvalidLinkError, InvalidManifestError, WrongKeyError } from './errors.ts'

/** One encrypted block ready to store under its CID. */
export interface Block {
  /** CIDv1, raw codec, sha2-256 of `bytes`. */
  cid: CID
  /** Ciphertext followed by the 16-byte GCM tag. */
  bytes: Uint8Array
  /** `data` for file chunks; `manifest` for tree nodes and the root record. */
  kind: 'data' | 'manifest'
  /** True only on the root manifest block, the one the link names. */
  root?: boolean
}

/** What a link carries: where the root manifest is, and the key that opens it. */
export interface Link {
  /** CID of the sealed root manifest block. */
  cid: CID
  /** 32-byte AES-256 manifest key. */
  key: Uint8Array
}

/** A decrypted, fully validated root manifest record. */
export interface Manifest {
  /** File name: no "/", no NUL, at most 255 UTF-8 bytes, not "." or "..". May be empty. */
  name: string
  /** Plaintext size in bytes. */
  size: number
  /** Plaintext bytes per chunk; the last chunk may be shorter. */
  chunkSize: number
  /** ceil(size / chunkSize); 0 for an empty file. */
  chunkCount: number
  /** Most links one manifest node (or the root) holds; with chunkCount, fixes the tree shape. */
  fanout: number
  /** sha2-256 of the whole plaintext, when its writer recorded it ({@link EncodeOptions}'s `sha256`). */
  sha256?: Uint8Array
  /** 32-byte per-file secret from which every chunk and node key is derived. */
  secret: Uint8Array
  /** Always 'aes-256-gcm' in format version 1. */
  cipher: 'aes-256-gcm'
  /** Tree height: 0 when `links` are the data chunks themselves. */
  depth: number
  /** Data chunk CIDs when depth is 0, otherwise the CIDs of the top-level manifest nodes. */
  links: CID[]
}

/** A data chunk's place in the file. */
export interface ChunkRef {
  /** Position of the chunk in the file, from 0. */
  index: number
  /** CID of the sealed chunk. */
  cid: CID
  /** Plaintext bytes in this chunk. */
  size: number
}

/** Settings for {@link encodeFile}; all optional. */
export interface EncodeOptions {
  /** File name recorded in the manifest; default "". */
  name?: string
  /** Plaintext bytes per chunk, 1 B to 16 MiB; default {@link DEFAULT_CHUNK_SIZE} (2 MiB). */
  chunkSize?: number
  /** Links per manifest node, 2 to 65536; default {@link DEFAULT_FANOUT} (16384). */
  fanout?: number
  /**
   * Record the whole file's sha2-256 in the manifest, a checksum for readers that want one; default false. It costs
   * a second pass over the plaintext on the writer's thread, and readers need it for nothing: every chunk is
   * authenticated under its position's key.
   */
  sha256?: boolean
  /**
   * Gives the buffer each data chunk is sealed into, of exactly `bytes` bytes (the chunk's plaintext plus its 16-byte
   * tag); by default a new one per chunk. A caller that knows when it is done with a block's bytes can hand the same
   * few buffers out again and again: a file's ciphertext then leaves no garbage for the collector, which otherwise
   * holds up the writer's thread to sweep a chunk's worth per chunk. The buffer must not be in use elsewhere until
   * its block has been dealt with. Manifest nodes and the root always get buffers of their own.
   */
  allocate?: (bytes: number) => Uint8Array
  /** Aborts the block stream with the signal's reason. */
  signal?: AbortSignal
}

/** What an encoding produces besides its blocks. */
export interface EncodedFile {
  /** The link to share; format it with {@link formatLink}. */
  link: Link
  /** The manifest as sealed in the root block. */
  manifest: Manifest
}

/** Reads one block's bytes by CID; the bytes are verified again by the caller of this function. */
export type FetchBlock = (cid: CID, signal?: AbortSignal) => Promise<Uint8Array>

/**
 * Encrypts a file into blocks. `blocks` yields, in order, every data chunk as
 * it is produced, the manifest nodes as tree levels fill, and the root
 * manifest last (`root: true`). Memory stays bounded by one chunk plus one
 * node per tree level, whatever the file size. `blocks` can be iterated once;
 * `result()` throws until the root block has been yielded. The source may
 * reuse a piece's memory once the next piece is pulled: each is hashed,
 * sealed or copied before then.
 *
 * Throws RangeError at once for a bad name, chunkSize or fanout.
 */
export function encodeFile (source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, options?: EncodeOptions): { blocks: AsyncIterable<Block>, result: () => EncodedFile } {
  return encodeFileImpl(source, options)
}

/** `ionnet://<root CID, base32>#<manifest key, base58btc multibase>`. Throws InvalidLinkError for a malformed Link. */
export function formatLink (link: Link): string {
  return formatLinkImpl(link)
}

/**
 * Parses a link, with or without the `ionnet://` prefix, ignoring
 * surrounding whitespace. Throws InvalidLinkError saying what is wrong.
 */
export function parseLink (text: string): Link {
  return parseLinkImpl(text)
}

/**
 * Opens and validates the root manifest block that `link` names. Throws, in
 * this order of checks: ChunkIntegrityError if `bytes` do not hash to the
 * link's CID, WrongKeyError if the key does not open them, and
 * InvalidManifestError if the record is not a valid version-1 manifest.
 */
export function decodeManifest (link: Link, bytes: Uint8Array): Manifest {
  return decodeManifestImpl(link, bytes)
}

/**
 * Yields every data chunk of the file in order, fetching manifest nodes
 * lazily through `fetch`; holds one node per tree level. Each node is checked
 * against its CID and its key (ChunkIntegrityError) and its exact expected
 * shape (InvalidManifestError).
 */
export function walkChunks (manifest: Manifest, fetch: FetchBlock, options?: { signal?: AbortSignal }): AsyncIterable<ChunkRef> {
  return walkChunksImpl(manifest, fetch, options)
}

/**
 * Yields every CID of the file: the root first, then each manifest node
 * followed by what it lists (depth first), data chunks in file order. For
 * pinning, repair and health checks. Fetches and verifies nodes like
 * {@link walkChunks}, but never data chunks.
 */
export function fileBlocks (link: Link, manifest: Manifest, fetch: FetchBlock, options?: { signal?: AbortSignal }): AsyncIterable<CID> {
  return fileBlocksImpl(link, manifest, fetch, options)
}

/**
 * Verifies a chunk's bytes against its CID, decrypts them and checks the
 * plaintext length; throws ChunkIntegrityError on any mismatch. Throws
 * RangeError if `ref` does not describe a chunk of this manifest. With
 * `verified: true` the caller vouches that the bytes already matched
 * `ref.cid` and the hash is skipped; GCM authentication still catches any
 * other bytes, since every chunk has a key of its own.
 */
export function decryptChunk (manifest: Manifest, ref: ChunkRef, bytes: Uint8Array, options?: { verified?: boolean }): Uint8Array {
  return decryptChunkImpl(manifest, ref, bytes, options)
}

/** Bytes a data chunk of `plainBytes` takes once sealed: its ciphertext plus the 16-byte GCM tag. */
export function sealedSize (plainBytes: number): number {
  return plainBytes + TAG_BYTES
}

/** The CID of block bytes: CIDv1, raw codec, sha2-256, computed synchronously. */
export function cidForChunk (bytes: Uint8Array): CID {
  return cidForChunkImpl(bytes)
}

/** Settings for {@link FileVerifier}. */
export interface FileVerifierOptions {
  /**
   * Hash the whole file and compare it with the manifest's sha2-256 at
   * `finish` (default true; a manifest without a sha2-256 has nothing to
   * compare with, and then only the size and order are checked). A reader that feeds every chunk through
   * `updateChunk` right after `decryptChunk` may turn it off: authentication
   * under each position's own key has checked every byte, and `updateChunk`
   * checks that the chunks come out in order and whole, which is what the
   * hash would add, without a second pass over the file.
   */
  sha256?: boolean
}

/**
 * Checks the reassembled plaintext against the manifest: feed the file in
 * order to `update` (in pieces of any size), or chunk by chunk to
 * `updateChunk(ref.index, plain)`, which also throws FileIntegrityError when
 * a chunk comes out of place or with the wrong length; then call `finish`.
 * Throws FileIntegrityError as soon as the file runs longer than declared,
 * and from `finish` on a short file or a whole-file sha2-256 mismatch.
 */
export class FileVerifier extends FileVerifierImpl {}
