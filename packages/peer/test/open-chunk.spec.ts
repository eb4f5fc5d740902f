import { expect } from 'chai'
import { randomBytes } from 'node:crypto'
import { encodeFile, walkChunks } from '@ionnet/manifest'
import { openChunk } from '../src/get.ts'
import type { ChunkRef, Manifest } from '@ionnet/manifest'

const CHUNK = 64 * 1024

describe('opening a fetched chunk in a get', () => {
  let plain: Uint8Array
  let manifest: Manifest
  let refs: ChunkRef[]
  const blocks = new Map<string, Uint8Array>()

  before(async () => {
    plain = randomBytes(3 * CHUNK)
    const encoded = encodeFile([plain], { chunkSize: CHUNK })
    for await (const block of encoded.blocks) blocks.set(block.cid.toString(), block.bytes)
    manifest = encoded.result().manifest
    refs = []
    for await (const ref of walkChunks(manifest, async cid => blocks.get(cid.toString())!)) refs.push(ref)
  })

  const sealed = (ref: ChunkRef): Uint8Array => blocks.get(ref.cid.toString())!

  it('returns the plaintext of the right bytes', () => {
    refs.forEach((ref, i) => {
      expect(openChunk(manifest, ref, sealed(ref))).to.deep.equal(plain.subarray(i * CHUNK, (i + 1) * CHUNK))
    })
  })

  it('blames the peer (undefined) for bytes that are not the chunk: a flipped bit, another chunk, a short copy', () => {
    const flipped = Uint8Array.from(sealed(refs[1]))
    flipped[100] ^= 1
    expect(openChunk(manifest, refs[1], flipped)).to.equal(undefined)
    expect(openChunk(manifest, refs[1], sealed(refs[2]))).to.equal(undefined)
    expect(openChunk(manifest, refs[1], sealed(refs[1]).subarray(1))).to.equal(undefined)
  })

  it('throws, blaming nobody, when the chunk\'s own bytes fail: the manifest sends them to the wrong place', () => {
    // a manifest listing chunk 0's CID in place 1: every honest holder sends bytes that match the CID, so no peer
    // is at fault and asking the others would only repeat the failure
    const misplaced = { ...refs[1], cid: refs[0].cid }
    expect(() => openChunk(manifest, misplaced, sealed(refs[0]))).to.throw().with.property('name', 'ChunkIntegrityError')
  })
})
