import type { CID } from 'multiformats/cid'
import { chunkKey, nodeKey, open } from './cipher.ts'
import { matchesCid } from './cid.ts'
import { TAG_BYTES } from './constants.ts'
import { ChunkIntegrityError, WrongKeyError } from './errors.ts'
import { decodeNode, decodeRoot } from './format.ts'
import { checkLink } from './link.ts'
import { chunkPlainSize } from './tree.ts'
import type { ChunkRef, FetchBlock, Link, Manifest } from './index.ts'

/** One step of a depth-first, in-order walk: a tree node as it is entered, or a data chunk. */
type Visit = { kind: 'manifest', cid: CID } | { kind: 'data', ref: ChunkRef }

export function decodeManifest (link: Link, bytes: Uint8Array): Manifest {
  checkLink(link)
  if (!(bytes instanceof Uint8Array)) throw new TypeError('decodeManifest: bytes must be a Uint8Array')
  if (!matchesCid(link.cid, bytes)) throw new ChunkIntegrityError('the manifest bytes do not match the CID of the link')
  const plain = open(link.key, bytes)
  if (plain === undefined) throw new WrongKeyError()
  return decodeRoot(plain)
}

export async function * walkChunks (manifest: Manifest, fetch: FetchBlock, options: { signal?: AbortSignal } = {}): AsyncGenerator<ChunkRef, void, undefined> {
  for await (const visit of walk(manifest, fetch, options.signal)) {
    if (visit.kind === 'data') yield visit.ref
  }
}

export async function * fileBlocks (link: Link, manifest: Manifest, fetch: FetchBlock, options: { signal?: AbortSignal } = {}): AsyncGenerator<CID, void, undefined> {
  yield link.cid
  for await (const visit of walk(manifest, fetch, options.signal)) {
    yield visit.kind === 'data' ? visit.ref.cid : visit.cid
  }
}

export function decryptChunk (manifest: Manifest, ref: ChunkRef, bytes: Uint8Array, options: { verified?: boolean } = {}): Uint8Array {
  const { index } = ref
  if (!Number.isSafeInteger(index) || index < 0 || index >= manifest.chunkCount) {
    throw new RangeError(`decryptChunk: chunk index ${index} is outside 0..${manifest.chunkCount - 1}`)
  }
  const size = chunkPlainSize(manifest.size, manifest.chunkSize, index)
  if (ref.size !== size) throw new RangeError(`decryptChunk: chunk ${index} holds ${size} bytes, not ${ref.size}`)
  if (!(bytes instanceof Uint8Array)) throw new TypeError('decryptChunk: bytes must be a Uint8Array')
  // a caller that already hashed the bytes against the CID saves a second pass; authentication still checks them
  if (options.verified !== true && !matchesCid(ref.cid, bytes)) throw new ChunkIntegrityError(`chunk ${index} does not match its CID`)
  // A CID match with the wrong length means the manifest itself lists a foreign block.
  if (bytes.byteLength !== size + TAG_BYTES) throw new ChunkIntegrityError(`chunk ${index} has ${bytes.byteLength} bytes, expected ${size + TAG_BYTES}`)
  const plain = open(chunkKey(manifest.secret, index), bytes)
  if (plain === undefined) throw new ChunkIntegrityError(`chunk ${index} fails authentication`)
  return plain
}

/**
 * Depth-first over the tree, so only the nodes on the current path are held:
 * one per level. Node (d, p) lists the items p * fanout .. of level d - 1.
 */
async function * walk (manifest: Manifest, fetch: FetchBlock, signal?: AbortSignal): AsyncGenerator<Visit, void, undefined> {
  signal?.throwIfAborted()
  yield * visitLinks(manifest, fetch, manifest.depth, 0, manifest.links, signal)
}

async function * visitLinks (manifest: Manifest, fetch: FetchBlock, depth: number, first: number, links: CID[], signal?: AbortSignal): AsyncGenerator<Visit, void, undefined> {
  for (let i = 0; i < links.length; i++) {
    const position = first + i
    if (depth === 0) {
      yield { kind: 'data', ref: { index: position, cid: links[i], size: chunkPlainSize(manifest.size, manifest.chunkSize, position) } }
      continue
    }
    yield { kind: 'manifest', cid: links[i] }
    const children = await readNode(manifest, fetch, depth, position, links[i], signal)
    yield * visitLinks(manifest, fetch, depth - 1, position * manifest.fanout, children, signal)
  }
}

async function readNode (manifest: Manifest, fetch: FetchBlock, depth: number, position: number, cid: CID, signal?: AbortSignal): Promise<CID[]> {
  signal?.throwIfAborted()
  const bytes = await fetch(cid, signal)
  signal?.throwIfAborted()
  if (!(bytes instanceof Uint8Array)) throw new TypeError('walkChunks: fetch must resolve to a Uint8Array')
  const where = `manifest node at depth ${depth} position ${position}`
  if (!matchesCid(cid, bytes)) throw new ChunkIntegrityError(`${where} does not match its CID`)
  const plain = open(nodeKey(manifest.secret, depth, position), bytes)
  if (plain === undefined) throw new ChunkIntegrityError(`${where} fails authentication`)
  return decodeNode(plain, manifest, depth, position)
}
