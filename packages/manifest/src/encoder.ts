import { createHash, randomBytes } from 'node:crypto'
import { CID } from 'multiformats/cid'
import { chunk } from './chunker.ts'
import { chunkKey, nodeKey, seal } from './cipher.ts'
import { cidForChunk } from './cid.ts'
import {
  CIPHER, DEFAULT_CHUNK_SIZE, DEFAULT_FANOUT, DEFAULT_RECORD_SHA256, KEY_BYTES, MAX_CHUNK_SIZE, MAX_FANOUT, MIN_CHUNK_SIZE, MIN_FANOUT,
  TAG_BYTES
} from './constants.ts'
import { checkName, encodeNode, encodeRoot } from './format.ts'
import type { Block, EncodedFile, EncodeOptions, Manifest } from './index.ts'

type Source = AsyncIterable<Uint8Array> | Iterable<Uint8Array>

interface Settings {
  name: string
  chunkSize: number
  fanout: number
  sha256: boolean
  allocate?: (bytes: number) => Uint8Array
  signal?: AbortSignal
}

export function encodeFile (source: Source, options: EncodeOptions = {}): { blocks: AsyncIterable<Block>, result: () => EncodedFile } {
  const settings = resolve(options)
  let encoded: EncodedFile | undefined
  let started = false

  const blocks: AsyncIterable<Block> = {
    [Symbol.asyncIterator] () {
      // A second pass would mint a second secret and key: a different file.
      if (started) throw new Error('encodeFile: blocks can be iterated only once')
      started = true
      return encode(source, settings, (done) => { encoded = done })
    }
  }

  const result = (): EncodedFile => {
    if (encoded === undefined) throw new Error('encodeFile: result() is available only once blocks has yielded the root block')
    return encoded
  }

  return { blocks, result }
}

function resolve (options: EncodeOptions): Settings {
  const name = options.name ?? ''
  const nameProblem = checkName(name)
  if (nameProblem !== undefined) throw new RangeError(`encodeFile: ${nameProblem}`)
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE
  if (!Number.isSafeInteger(chunkSize) || chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
    throw new RangeError(`encodeFile: chunkSize must be an integer from ${MIN_CHUNK_SIZE} to ${MAX_CHUNK_SIZE}`)
  }
  const fanout = options.fanout ?? DEFAULT_FANOUT
  if (!Number.isSafeInteger(fanout) || fanout < MIN_FANOUT || fanout > MAX_FANOUT) {
    throw new RangeError(`encodeFile: fanout must be an integer from ${MIN_FANOUT} to ${MAX_FANOUT}`)
  }
  return { name, chunkSize, fanout, sha256: options.sha256 ?? DEFAULT_RECORD_SHA256, allocate: options.allocate, signal: options.signal }
}

async function * encode (source: Source, settings: Settings, done: (encoded: EncodedFile) => void): AsyncGenerator<Block, void, undefined> {
  const { signal } = settings
  signal?.throwIfAborted()
  const secret = new Uint8Array(randomBytes(KEY_BYTES))
  const fileHash = settings.sha256 ? createHash('sha256') : undefined
  const tree = new TreeBuilder(secret, settings.fanout)
  let size = 0
  let index = 0

  for await (const plain of chunk(source, settings.chunkSize)) {
    signal?.throwIfAborted()
    fileHash?.update(plain)
    size += plain.byteLength
    const bytes = seal(chunkKey(secret, index++), plain, settings.allocate?.(plain.byteLength + TAG_BYTES))
    const cid = cidForChunk(bytes)
    yield { cid, bytes, kind: 'data' }
    yield * tree.add(cid.bytes)
  }

  const top = yield * tree.finish()
  signal?.throwIfAborted()
  const manifest: Manifest = {
    name: settings.name,
    size,
    chunkSize: settings.chunkSize,
    chunkCount: index,
    fanout: settings.fanout,
    ...(fileHash != null ? { sha256: new Uint8Array(fileHash.digest()) } : {}),
    secret,
    cipher: CIPHER,
    depth: top.depth,
    links: top.links.map(bytes => CID.decode(bytes))
  }
  const key = new Uint8Array(randomBytes(KEY_BYTES))
  const bytes = seal(key, encodeRoot(manifest))
  const cid = cidForChunk(bytes)
  // Recorded before the last yield so a consumer may call result() as soon as it holds the root.
  done({ link: { cid, key }, manifest })
  yield { cid, bytes, kind: 'manifest', root: true }
}

/**
 * Builds the manifest tree bottom-up while chunks stream past, holding at most
 * one unfinished node (`fanout` CIDs) per level. A level is sealed into a node
 * only when one more item arrives after it is full, because until then the
 * items might all fit in the level above (ultimately the root record).
 */
class TreeBuilder {
  readonly #secret: Uint8Array
  readonly #fanout: number
  /** #levels[d] holds the CIDs waiting for a node at depth d + 1; level 0 is data chunks. */
  readonly #levels: Uint8Array[][] = [[]]
  readonly #positions: number[] = []

  constructor (secret: Uint8Array, fanout: number) {
    this.#secret = secret
    this.#fanout = fanout
  }

  * add (cid: Uint8Array, level = 0): Generator<Block, void, undefined> {
    if (this.#levels[level].length === this.#fanout) yield * this.#seal(level)
    this.#levels[level].push(cid)
  }

  /** Seals every level below the top; what remains on top becomes the root's links. */
  * finish (): Generator<Block, { depth: number, links: Uint8Array[] }, undefined> {
    // #seal may add a level, so the bound is re-read on every pass.
    for (let level = 0; level < this.#levels.length - 1; level++) yield * this.#seal(level)
    const depth = this.#levels.length - 1
    return { depth, links: this.#levels[depth] }
  }

  * #seal (level: number): Generator<Block, void, undefined> {
    const links = this.#levels[level]
    this.#levels[level] = []
    const depth = level + 1
    const position = this.#positions[level] ?? 0
    this.#positions[level] = position + 1
    const bytes = seal(nodeKey(this.#secret, depth, position), encodeNode(depth, links))
    const cid = cidForChunk(bytes)
    yield { cid, bytes, kind: 'manifest' }
    if (this.#levels.length === depth) this.#levels.push([])
    yield * this.add(cid.bytes, depth)
  }
}
