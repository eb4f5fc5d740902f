import { decode, encode } from 'cborg'
import { CID } from 'multiformats/cid'
import { isChunkCidBytes } from './cid.ts'
import {
  CIPHER, DIGEST_BYTES, FORMAT_VERSION, KEY_BYTES, MAX_CHUNK_SIZE, MAX_FANOUT, MAX_NAME_BYTES,
  MIN_CHUNK_SIZE, MIN_FANOUT, NODE_TYPE, ROOT_TYPE
} from './constants.ts'
import { InvalidManifestError } from './errors.ts'
import { ceilDiv, levelWidth, nodeLinkCount, treeDepth } from './tree.ts'
import type { Manifest } from './index.ts'

/*
 * CBOR shapes of format version 1. CIDs travel as their 36 binary bytes
 * (not tag 42) to keep nodes compact and the decoder free of tags.
 */

const ROOT_FIELDS = ['v', 't', 'name', 'size', 'chunkSize', 'chunkCount', 'fanout', 'secret', 'cipher', 'depth', 'links'] as const
/** Writers record the whole file's hash only when asked (EncodeOptions.sha256); before that option, always. */
const ROOT_OPTIONAL = ['sha256'] as const
const NODE_FIELDS = ['v', 't', 'depth', 'links'] as const

/** Bytes come from strangers: refuse everything a version-1 writer never produces. */
const DECODE_OPTIONS = {
  strict: true,
  allowIndefinite: false,
  allowUndefined: false,
  allowInfinity: false,
  allowNaN: false,
  allowBigInt: false,
  rejectDuplicateMapKeys: true,
  useMaps: false
}

export function encodeRoot (manifest: Manifest): Uint8Array {
  return encode({
    v: FORMAT_VERSION,
    t: ROOT_TYPE,
    name: manifest.name,
    size: manifest.size,
    chunkSize: manifest.chunkSize,
    chunkCount: manifest.chunkCount,
    fanout: manifest.fanout,
    ...(manifest.sha256 != null ? { sha256: manifest.sha256 } : {}),
    secret: manifest.secret,
    cipher: manifest.cipher,
    depth: manifest.depth,
    links: manifest.links.map(cid => cid.bytes)
  })
}

export function encodeNode (depth: number, links: Uint8Array[]): Uint8Array {
  return encode({ v: FORMAT_VERSION, t: NODE_TYPE, depth, links })
}

/** Decodes and fully validates a root record; the result is safe to walk. */
export function decodeRoot (bytes: Uint8Array): Manifest {
  const record = fields(decodeCbor(bytes, 'root record'), ROOT_TYPE, ROOT_FIELDS, ROOT_OPTIONAL)
  const name = record.name
  const nameProblem = checkName(name)
  if (nameProblem !== undefined) throw new InvalidManifestError(nameProblem)
  if (record.cipher !== CIPHER) throw new InvalidManifestError(`unsupported cipher ${describe(record.cipher)}`)
  const chunkSize = integer(record, 'chunkSize', MIN_CHUNK_SIZE, MAX_CHUNK_SIZE)
  const size = integer(record, 'size', 0, Number.MAX_SAFE_INTEGER)
  const chunkCount = integer(record, 'chunkCount', 0, Number.MAX_SAFE_INTEGER)
  if (chunkCount !== ceilDiv(size, chunkSize)) {
    throw new InvalidManifestError(`chunkCount ${chunkCount} does not fit size ${size} in chunks of ${chunkSize}`)
  }
  const fanout = integer(record, 'fanout', MIN_FANOUT, MAX_FANOUT)
  const depth = integer(record, 'depth', 0, Number.MAX_SAFE_INTEGER)
  const expectedDepth = treeDepth(chunkCount, fanout)
  if (depth !== expectedDepth) {
    throw new InvalidManifestError(`depth ${depth} should be ${expectedDepth} for ${chunkCount} chunks and fanout ${fanout}`)
  }
  return {
    name: name as string,
    size,
    chunkSize,
    chunkCount,
    fanout,
    ...(Object.hasOwn(record, 'sha256') ? { sha256: byteField(record, 'sha256', DIGEST_BYTES) } : {}),
    secret: byteField(record, 'secret', KEY_BYTES),
    cipher: CIPHER,
    depth,
    links: links(record.links, levelWidth(chunkCount, fanout, depth), 'root record')
  }
}

/** Decodes a tree node whose place in the tree, and so its exact link count, the caller knows. */
export function decodeNode (bytes: Uint8Array, manifest: Manifest, depth: number, position: number): CID[] {
  const where = `node at depth ${depth} position ${position}`
  const record = fields(decodeCbor(bytes, where), NODE_TYPE, NODE_FIELDS)
  if (record.depth !== depth) throw new InvalidManifestError(`${where} claims depth ${describe(record.depth)}`)
  const expected = nodeLinkCount(manifest.chunkCount, manifest.fanout, depth, position)
  return links(record.links, expected, where)
}

/** Why `name` cannot be a file name, or undefined when it can. */
export function checkName (name: unknown): string | undefined {
  if (typeof name !== 'string') return `name must be a string, got ${describe(name)}`
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) return `name is longer than ${MAX_NAME_BYTES} bytes`
  if (name.includes('/') || name.includes('\0')) return 'name must not contain "/" or NUL'
  // Someone will join the name to a directory; these two would escape it.
  if (name === '.' || name === '..') return `name must not be "${name}"`
  return undefined
}

function decodeCbor (bytes: Uint8Array, what: string): unknown {
  try {
    return decode(bytes, DECODE_OPTIONS)
  } catch (err) {
    // cborg throws plain Errors, and deep nesting can exhaust the stack: all mean "not our CBOR".
    throw new InvalidManifestError(`${what} is not valid CBOR (${(err as Error)?.message ?? String(err)})`)
  }
}

function fields<K extends string> (value: unknown, type: string, keys: readonly K[], optional: readonly string[] = []): Record<K, unknown> {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) {
    throw new InvalidManifestError(`expected a CBOR map, got ${describe(value)}`)
  }
  const record = value as Record<string, unknown>
  const version = Object.hasOwn(record, 'v') ? record.v : undefined
  if (version !== FORMAT_VERSION) throw new InvalidManifestError(`unsupported format version ${describe(version)}`)
  if (record.t !== type) throw new InvalidManifestError(`expected type "${type}", got ${describe(record.t)}`)
  for (const key of Object.keys(record)) {
    if (!(keys as readonly string[]).includes(key) && !optional.includes(key)) throw new InvalidManifestError(`unexpected field ${JSON.stringify(key.slice(0, 32))}`)
  }
  for (const key of keys) {
    if (!Object.hasOwn(record, key)) throw new InvalidManifestError(`missing field "${key}"`)
  }
  return record as Record<K, unknown>
}

function integer (record: Record<string, unknown>, key: string, min: number, max: number): number {
  const value = record[key]
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidManifestError(`${key} must be an integer from ${min} to ${max}, got ${describe(value)}`)
  }
  return value
}

function byteField (record: Record<string, unknown>, key: string, length: number): Uint8Array {
  const value = record[key]
  if (!(value instanceof Uint8Array) || value.byteLength !== length) {
    throw new InvalidManifestError(`${key} must be ${length} bytes, got ${describe(value)}`)
  }
  return value
}

function links (value: unknown, expected: number, where: string): CID[] {
  if (!Array.isArray(value)) throw new InvalidManifestError(`${where}: links must be an array, got ${describe(value)}`)
  if (value.length !== expected) {
    throw new InvalidManifestError(`${where} has ${value.length} links, expected ${expected}`)
  }
  return value.map((bytes: unknown, i) => {
    if (!isChunkCidBytes(bytes)) throw new InvalidManifestError(`${where}: link ${i} is not a CIDv1 raw sha2-256`)
    return CID.decode(bytes)
  })
}

function describe (value: unknown): string {
  if (value === null) return 'null'
  if (value instanceof Uint8Array) return `${value.byteLength} bytes`
  if (Array.isArray(value)) return `an array of ${value.length}`
  if (typeof value === 'string') return JSON.stringify(value.length > 32 ? `${value.slice(0, 32)}…` : value)
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return typeof value
}
