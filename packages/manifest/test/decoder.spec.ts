import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { encode } from 'cborg'
import { CID } from 'multiformats/cid'
import { cidForChunk, decodeManifest, decryptChunk, fileBlocks, walkChunks } from '../src/index.ts'
import { encodeToStore, fetchFrom, hkdf, rootRecord, sealBytes, sealRecord, sealRoot } from './helpers.ts'
import type { ChunkRef, Manifest } from '../src/index.ts'
import type { Encoded } from './helpers.ts'

const WRONG_KEY = 'cannot decrypt the manifest: wrong key, or the CID is not an IonNet manifest'

describe('decodeManifest', () => {
  let encoded: Encoded
  let rootBytes: Uint8Array
  before(async () => {
    encoded = await encodeToStore([randomBytes(50)], { chunkSize: 16, name: 'a.txt' })
    rootBytes = encoded.store.get(encoded.link.cid.toString())!
  })

  it('opens the root with the key of the link (control)', () => {
    const manifest = decodeManifest(encoded.link, rootBytes)
    assert.deepEqual(manifest, encoded.manifest)
  })

  it('throws WrongKeyError for any other key', () => {
    const link = { cid: encoded.link.cid, key: randomBytes(32) }
    assert.throws(() => decodeManifest(link, rootBytes), { name: 'WrongKeyError', code: 'ERR_WRONG_KEY', message: WRONG_KEY })
  })

  it('throws WrongKeyError when the link names a data chunk instead of a manifest', () => {
    const chunk = encoded.blocks[0]
    assert.equal(chunk.kind, 'data')
    assert.throws(() => decodeManifest({ cid: chunk.cid, key: encoded.link.key }, chunk.bytes), { name: 'WrongKeyError' })
  })

  it('throws ChunkIntegrityError for tampered bytes, before even trying the key', () => {
    const tampered = Uint8Array.from(rootBytes)
    tampered[10] ^= 1
    assert.throws(() => decodeManifest(encoded.link, tampered), { name: 'ChunkIntegrityError', code: 'ERR_CHUNK_INTEGRITY' })
    assert.throws(() => decodeManifest({ cid: encoded.link.cid, key: randomBytes(32) }, tampered), { name: 'ChunkIntegrityError' })
  })

  it('throws InvalidLinkError for a link object that could not name a manifest', () => {
    assert.throws(() => decodeManifest({ cid: encoded.link.cid, key: new Uint8Array(16) }, rootBytes), { name: 'InvalidLinkError' })
    const dagCbor = CID.create(1, 0x71, encoded.link.cid.multihash)
    assert.throws(() => decodeManifest({ cid: dagCbor, key: encoded.link.key }, rootBytes), { name: 'InvalidLinkError' })
  })

  describe('with valid encryption but a bad record', () => {
    const otherCid = (code: number): Uint8Array => CID.create(1, code, CID.decode(rootRecordLinks()[0]).multihash).bytes
    let record: Record<string, unknown>
    const rootRecordLinks = (): Uint8Array[] => record.links as Uint8Array[]
    before(() => { record = rootRecord(encoded) })

    it('decodes the untouched record re-sealed under a new key (control)', () => {
      const { link, bytes } = sealRecord(record)
      assert.equal(decodeManifest(link, bytes).name, 'a.txt')
    })

    it('decodes a record with the whole file\'s sha2-256, which writers before the option always added', () => {
      const sha256 = randomBytes(32)
      const { link, bytes } = sealRecord({ ...record, sha256 })
      assert.deepEqual(decodeManifest(link, bytes).sha256, new Uint8Array(sha256))
      const without = sealRecord(record)
      assert.equal(decodeManifest(without.link, without.bytes).sha256, undefined)
    })

    const changes: Array<[string, (r: Record<string, unknown>) => unknown, RegExp]> = [
      ['a newer format version', r => ({ ...r, v: 2 }), /version 2/],
      ['no version', r => { const { v: _, ...rest } = r; return rest }, /version/],
      ['the node type tag', r => ({ ...r, t: 'ionnet/node' }), /type/],
      ['an unknown field', r => ({ ...r, extra: 1 }), /unexpected field "extra"/],
      ['a missing secret', r => { const { secret: _, ...rest } = r; return rest }, /missing field "secret"/],
      ['a name with "/"', r => ({ ...r, name: '../etc/passwd' }), /"\/"/],
      ['a name with NUL', r => ({ ...r, name: 'a\0b' }), /NUL/],
      ['a name of 256 bytes', r => ({ ...r, name: 'x'.repeat(256) }), /255 bytes/],
      ['the name ".."', r => ({ ...r, name: '..' }), /must not be/],
      ['a name that is not a string', r => ({ ...r, name: 7 }), /string/],
      ['a negative size', r => ({ ...r, size: -1 }), /size/],
      ['a fractional size', r => ({ ...r, size: 1.5 }), /size/],
      ['a size as text', r => ({ ...r, size: '50' }), /size/],
      ['chunkSize 0', r => ({ ...r, chunkSize: 0 }), /chunkSize/],
      ['chunkSize over 16 MiB', r => ({ ...r, chunkSize: 16 * 1024 * 1024 + 1 }), /chunkSize/],
      ['a chunkCount that does not fit the size', r => ({ ...r, chunkCount: 3 }), /chunkCount 3/],
      ['fanout 1', r => ({ ...r, fanout: 1 }), /fanout/],
      ['a depth the chunk count does not need', r => ({ ...r, depth: 1 }), /depth 1 should be 0/],
      ['a 31-byte sha256', r => ({ ...r, sha256: new Uint8Array(31) }), /sha256 must be 32 bytes/],
      ['a secret that is text', r => ({ ...r, secret: 'secret' }), /secret must be 32 bytes/],
      ['another cipher', r => ({ ...r, cipher: 'chacha20-poly1305' }), /cipher/],
      ['one link too few', r => ({ ...r, links: rootRecordLinks().slice(1) }), /3 links, expected 4/],
      ['links that are not an array', r => ({ ...r, links: rootRecordLinks()[0] }), /array/],
      ['a link that is a string', r => ({ ...r, links: [...rootRecordLinks().slice(1), 'bafy'] }), /link 3/],
      ['a dag-cbor link', r => ({ ...r, links: [otherCid(0x71), ...rootRecordLinks().slice(1)] }), /link 0/],
      ['a link with trailing bytes', r => ({ ...r, links: [Uint8Array.of(...rootRecordLinks()[0], 0), ...rootRecordLinks().slice(1)] }), /link 0/],
      ['an array instead of a map', r => Object.values(r), /CBOR map/],
      ['a bare number', () => 1, /CBOR map/]
    ]
    for (const [what, change, reason] of changes) {
      it(`throws InvalidManifestError for ${what}`, () => {
        const { link, bytes } = sealRecord(change(record))
        assert.throws(() => decodeManifest(link, bytes), (err: Error) => {
          assert.equal(err.name, 'InvalidManifestError')
          assert.equal((err as Error & { code: string }).code, 'ERR_INVALID_MANIFEST')
          assert.match(err.message, reason)
          return true
        })
      })
    }

    const rawCases: Array<[string, () => Uint8Array]> = [
      ['bytes that are not CBOR', () => Uint8Array.of(0xff, 0x00, 0x13)],
      ['an empty plaintext', () => new Uint8Array(0)],
      ['trailing bytes after the record', () => Uint8Array.of(...encode(record), 0)],
      ['an indefinite-length map', () => Uint8Array.of(0xbf, 0x61, 0x76, 0x01, 0xff)],
      ['an undefined value', () => Uint8Array.of(0xa1, 0x61, 0x76, 0xf7)],
      ['a non-minimal integer', () => Uint8Array.of(0xa1, 0x61, 0x76, 0x18, 0x01)],
      ['a duplicate key', () => Uint8Array.of(0xa2, 0x61, 0x76, 0x01, 0x61, 0x76, 0x01)],
      ['a tagged CID (tag 42)', () => Uint8Array.of(0xa1, 0x61, 0x76, 0xd8, 0x2a, 0x41, 0x00)],
      ['a 64-bit integer beyond 2^53', () => Uint8Array.of(0xa1, 0x61, 0x76, 0x1b, 0xff, 0, 0, 0, 0, 0, 0, 0)],
      ['nesting 100 000 arrays deep', () => new Uint8Array(100_000).fill(0x81)]
    ]
    for (const [what, plain] of rawCases) {
      it(`throws InvalidManifestError for ${what}`, () => {
        const { link, bytes } = sealRoot(plain())
        assert.throws(() => decodeManifest(link, bytes), { name: 'InvalidManifestError' })
      })
    }
  })
})

describe('decryptChunk', () => {
  let encoded: Encoded
  let refs: ChunkRef[]
  const bytesOf = (ref: ChunkRef): Uint8Array => encoded.store.get(ref.cid.toString())!
  before(async () => {
    encoded = await encodeToStore([randomBytes(16 * 3 + 5)], { chunkSize: 16 })
    refs = await collect(walkChunks(encoded.manifest, fetchFrom(encoded.store)))
  })

  it('returns each chunk\'s plaintext with its declared size (control)', () => {
    assert.deepEqual(refs.map(ref => decryptChunk(encoded.manifest, ref, bytesOf(ref)).byteLength), [16, 16, 16, 5])
  })

  it('throws ChunkIntegrityError for a single flipped bit', () => {
    const tampered = Uint8Array.from(bytesOf(refs[1]))
    tampered[0] ^= 0x80
    assert.throws(() => decryptChunk(encoded.manifest, refs[1], tampered), { name: 'ChunkIntegrityError', message: /chunk 1 does not match its CID/ })
  })

  it('throws ChunkIntegrityError for the bytes of chunk 2 presented as chunk 1', () => {
    assert.throws(() => decryptChunk(encoded.manifest, refs[1], bytesOf(refs[2])), { name: 'ChunkIntegrityError' })
  })

  it('throws ChunkIntegrityError for chunk 2 presented as chunk 1 under its own valid CID', () => {
    const swapped = { ...refs[1], cid: refs[2].cid }
    assert.throws(() => decryptChunk(encoded.manifest, swapped, bytesOf(refs[2])), { name: 'ChunkIntegrityError', message: /chunk 1 fails authentication/ })
  })

  it('skips the hash for bytes the caller verified, and still fails another chunk\'s bytes on authentication', () => {
    assert.deepEqual(decryptChunk(encoded.manifest, refs[1], bytesOf(refs[1]), { verified: true }), decryptChunk(encoded.manifest, refs[1], bytesOf(refs[1])))
    assert.throws(() => decryptChunk(encoded.manifest, refs[1], bytesOf(refs[2]), { verified: true }), { name: 'ChunkIntegrityError', message: /chunk 1 fails authentication/ })
  })

  it('throws ChunkIntegrityError for a chunk of the wrong length under its own valid CID', () => {
    const last = { ...refs[3], cid: refs[2].cid }
    assert.throws(() => decryptChunk(encoded.manifest, last, bytesOf(refs[2])), { name: 'ChunkIntegrityError', message: /bytes, expected/ })
  })

  it('throws RangeError for a ref that is not a chunk of this manifest', () => {
    assert.throws(() => decryptChunk(encoded.manifest, { ...refs[0], index: 4 }, bytesOf(refs[0])), RangeError)
    assert.throws(() => decryptChunk(encoded.manifest, { ...refs[0], size: 15 }, bytesOf(refs[0])), RangeError)
  })
})

describe('walkChunks and fileBlocks over a manifest tree', () => {
  // 20 chunks at fanout 4: 5 depth-1 nodes, 2 depth-2 nodes in the root.
  let encoded: Encoded
  let record: Record<string, unknown>
  before(async () => {
    encoded = await encodeToStore([randomBytes(20 * 8)], { chunkSize: 8, fanout: 4 })
    record = rootRecord(encoded)
  })

  /** A copy of the file whose root is re-sealed with `links`, plus extra blocks. */
  const forge = (links: Uint8Array[], extra: Uint8Array[] = []): { manifest: Manifest, fetch: ReturnType<typeof fetchFrom> } => {
    const store = new Map(encoded.store)
    for (const bytes of extra) store.set(cidForChunk(bytes).toString(), bytes)
    const { link, bytes } = sealRecord({ ...record, links })
    return { manifest: decodeManifest(link, bytes), fetch: fetchFrom(store) }
  }
  const sealNode = (depth: number, position: number, value: unknown): Uint8Array =>
    sealBytes(hkdf(encoded.manifest.secret, `ionnet/node/${depth}/${position}`), encode(value))
  const topLinks = (): Uint8Array[] => record.links as Uint8Array[]

  it('yields refs for every chunk in order, with sizes (control)', async () => {
    const refs = await collect(walkChunks(encoded.manifest, fetchFrom(encoded.store)))
    assert.deepEqual(refs.map(ref => ref.index), [...Array(20).keys()])
    const data = encoded.blocks.filter(block => block.kind === 'data')
    assert.deepEqual(refs.map(ref => ref.cid.toString()), data.map(block => block.cid.toString()))
    assert.ok(refs.every(ref => ref.size === 8))
  })

  it('fetches lazily: one node per level before the first chunk', async () => {
    const fetched: string[] = []
    const fetch = fetchFrom(encoded.store)
    const walk = walkChunks(encoded.manifest, async cid => { fetched.push(cid.toString()); return await fetch(cid) })[Symbol.asyncIterator]()
    await walk.next()
    assert.equal(fetched.length, 2)
    await walk.return?.()
  })

  it('throws InvalidManifestError for a node with no links, sealed with the right key', async () => {
    const node = sealNode(2, 0, { v: 1, t: 'ionnet/node', depth: 2, links: [] })
    const { manifest, fetch } = forge([cidBytes(node), topLinks()[1]], [node])
    await assert.rejects(collect(walkChunks(manifest, fetch)), { name: 'InvalidManifestError', message: /0 links, expected 4/ })
  })

  it('throws InvalidManifestError for a node that claims another depth', async () => {
    const node = sealNode(2, 1, { v: 1, t: 'ionnet/node', depth: 1, links: [] })
    const { manifest, fetch } = forge([topLinks()[0], cidBytes(node)], [node])
    await assert.rejects(collect(walkChunks(manifest, fetch)), { name: 'InvalidManifestError', message: /claims depth 1/ })
  })

  it('throws ChunkIntegrityError for nodes swapped into each other\'s places', async () => {
    const { manifest, fetch } = forge([topLinks()[1], topLinks()[0]])
    await assert.rejects(collect(walkChunks(manifest, fetch)), { name: 'ChunkIntegrityError', message: /fails authentication/ })
  })

  it('throws ChunkIntegrityError when fetch returns tampered node bytes', async () => {
    const fetch = fetchFrom(encoded.store)
    const tampering = async (cid: CID): Promise<Uint8Array> => {
      const bytes = Uint8Array.from(await fetch(cid))
      bytes[0] ^= 1
      return bytes
    }
    await assert.rejects(collect(walkChunks(encoded.manifest, tampering)), { name: 'ChunkIntegrityError', message: /does not match its CID/ })
  })

  it('stops with the abort reason', async () => {
    const controller = new AbortController()
    controller.abort(new Error('gone'))
    await assert.rejects(collect(walkChunks(encoded.manifest, fetchFrom(encoded.store), { signal: controller.signal })), /gone/)
  })

  it('lists every block of the file exactly once with fileBlocks, root first, without fetching data', async () => {
    const fetched = new Set<string>()
    const fetch = fetchFrom(encoded.store)
    const cids = await collect(fileBlocks(encoded.link, encoded.manifest, async cid => { fetched.add(cid.toString()); return await fetch(cid) }))
    assert.ok(cids[0].equals(encoded.link.cid))
    assert.deepEqual(new Set(cids.map(String)), new Set(encoded.store.keys()))
    assert.equal(cids.length, encoded.store.size)
    const nodes = encoded.blocks.filter(block => block.kind === 'manifest' && block.root !== true)
    assert.deepEqual([...fetched].sort(), nodes.map(block => block.cid.toString()).sort())
  })
})

describe('a manifest that lists chunk 2 where chunk 1 belongs', () => {
  it('walks, but decryptChunk refuses the misplaced chunk', async () => {
    const encoded = await encodeToStore([randomBytes(16 * 3)], { chunkSize: 16 })
    const record = rootRecord(encoded)
    const links = record.links as Uint8Array[]
    const { link, bytes } = sealRecord({ ...record, links: [links[0], links[2], links[2]] })
    const manifest = decodeManifest(link, bytes)
    const refs = await collect(walkChunks(manifest, fetchFrom(encoded.store)))
    const decrypt = (ref: ChunkRef): Uint8Array => decryptChunk(manifest, ref, encoded.store.get(ref.cid.toString())!)
    assert.doesNotThrow(() => decrypt(refs[0]))
    assert.throws(() => decrypt(refs[1]), { name: 'ChunkIntegrityError' })
    assert.doesNotThrow(() => decrypt(refs[2]))
  })
})

function cidBytes (bytes: Uint8Array): Uint8Array {
  return cidForChunk(bytes).bytes
}

async function collect<T> (items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of items) out.push(item)
  return out
}
