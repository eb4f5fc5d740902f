import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { decode } from 'cborg'
import { CID } from 'multiformats/cid'
import { cidForChunk } from '../src/index.ts'
import { encodeToStore, hkdf, openBytes, rootRecord } from './helpers.ts'

/*
 * The on-wire format, checked with node:crypto and cborg by hand as the
 * README describes it, so a reader in another language can rely on it.
 */
describe('wire format', () => {
  it('seals the root under the manifest key as CBOR with exactly the documented fields', async () => {
    const data = randomBytes(50)
    const encoded = await encodeToStore([data], { chunkSize: 16, name: 'notes.txt' })
    const record = rootRecord(encoded)
    assert.deepEqual(Object.keys(record).sort(), ['chunkCount', 'chunkSize', 'cipher', 'depth', 'fanout', 'links', 'name', 'secret', 'size', 't', 'v'])
    assert.equal(record.v, 1)
    assert.equal(record.t, 'ionnet/manifest')
    assert.equal(record.name, 'notes.txt')
    assert.equal(record.size, 50)
    assert.equal(record.chunkSize, 16)
    assert.equal(record.chunkCount, 4)
    assert.equal(record.fanout, 16384)
    assert.equal(record.cipher, 'aes-256-gcm')
    assert.equal(record.depth, 0)
    assert.equal((record.secret as Uint8Array).byteLength, 32)
    assert.deepEqual((record.links as Uint8Array[]).map(bytes => CID.decode(bytes).toString()), encoded.manifest.links.map(String))
  })

  it('records the whole file\'s sha2-256 as "sha256" only when asked', async () => {
    const data = randomBytes(50)
    const record = rootRecord(await encodeToStore([data], { chunkSize: 16, sha256: true }))
    assert.deepEqual(record.sha256, new Uint8Array(createHash('sha256').update(data).digest()))
    assert.equal(Object.keys(record).length, 12)
  })

  it('seals chunk i with AES-256-GCM under HKDF-SHA256(secret, no salt, "ionnet/chunk/<i>") and a zero nonce', async () => {
    const data = randomBytes(40)
    const encoded = await encodeToStore([data], { chunkSize: 16 })
    const secret = rootRecord(encoded).secret as Uint8Array
    const chunks = encoded.blocks.filter(block => block.kind === 'data')
    const plain = chunks.map((block, i) => openBytes(hkdf(secret, `ionnet/chunk/${i}`), block.bytes))
    assert.ok(Buffer.concat(plain).equals(data))
    assert.deepEqual(chunks.map(block => block.bytes.byteLength), [16 + 16, 16 + 16, 8 + 16])
    // Negative control: a neighbour's key does not open the chunk.
    assert.throws(() => openBytes(hkdf(secret, 'ionnet/chunk/1'), chunks[0].bytes))
  })

  it('seals node (d, p) under HKDF-SHA256(secret, no salt, "ionnet/node/<d>/<p>") as { v, t, depth, links }', async () => {
    const encoded = await encodeToStore([randomBytes(5 * 8)], { chunkSize: 8, fanout: 4 })
    const { secret, links } = encoded.manifest
    const node = encoded.blocks.find(block => block.cid.equals(links[1]))
    assert.ok(node !== undefined)
    const record = decode(openBytes(hkdf(secret, 'ionnet/node/1/1'), node.bytes)) as Record<string, unknown>
    assert.deepEqual(Object.keys(record).sort(), ['depth', 'links', 't', 'v'])
    assert.equal(record.t, 'ionnet/node')
    assert.equal(record.depth, 1)
    assert.equal((record.links as Uint8Array[]).length, 1)
    assert.throws(() => openBytes(hkdf(secret, 'ionnet/node/1/0'), node.bytes))
  })

  it('names every block by CIDv1, raw codec, sha2-256 of its bytes', async () => {
    const encoded = await encodeToStore([randomBytes(100)], { chunkSize: 16, fanout: 2 })
    for (const block of encoded.blocks) {
      assert.equal(block.cid.version, 1)
      assert.equal(block.cid.code, 0x55)
      assert.equal(block.cid.multihash.code, 0x12)
      assert.deepEqual(block.cid.multihash.digest, new Uint8Array(createHash('sha256').update(block.bytes).digest()))
      assert.ok(cidForChunk(block.bytes).equals(block.cid))
    }
  })

  it('never lets plaintext through: no block holds a 32-byte run of a repetitive file, and equal chunks differ', async () => {
    const data = Buffer.alloc(64 * 1024, 'A')
    const encoded = await encodeToStore([data], { chunkSize: 4096 })
    const run = Buffer.alloc(32, 'A')
    for (const block of encoded.blocks) {
      assert.equal(Buffer.from(block.bytes).indexOf(run), -1)
    }
    const cids = new Set(encoded.blocks.map(block => block.cid.toString()))
    assert.equal(cids.size, encoded.blocks.length)
    // Negative control: the check does find the run where it is.
    assert.notEqual(data.indexOf(run), -1)
  })
})
