import assert from 'node:assert/strict'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { cidForChunk } from '../src/index.ts'

describe('cidForChunk', () => {
  it('names bytes by a CIDv1 with the raw codec and a sha2-256 multihash', async () => {
    const bytes = new TextEncoder().encode('hello ionnet')

    const cid = cidForChunk(bytes)

    assert.equal(cid.version, 1)
    assert.equal(cid.code, 0x55)
    assert.equal(cid.multihash.code, 0x12)
    assert.ok(cid.equals(CID.createV1(0x55, await sha256.digest(bytes))))
  })

  it('gives the well-known CID of the empty chunk', () => {
    assert.equal(cidForChunk(new Uint8Array()).toString(), 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku')
  })

  it('gives different bytes different CIDs', () => {
    assert.notEqual(cidForChunk(Uint8Array.of(1)).toString(), cidForChunk(Uint8Array.of(2)).toString())
  })
})
