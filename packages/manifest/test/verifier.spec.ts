import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { FileVerifier } from '../src/index.ts'
import { encodeToStore } from './helpers.ts'
import type { Manifest } from '../src/index.ts'

describe('FileVerifier', () => {
  const data = randomBytes(100)
  let manifest: Manifest
  before(async () => {
    manifest = (await encodeToStore([data], { chunkSize: 32, sha256: true })).manifest
  })

  it('accepts the file in any split (control)', () => {
    const verifier = new FileVerifier(manifest)
    verifier.update(data.subarray(0, 1))
    verifier.update(data.subarray(1, 77))
    verifier.update(data.subarray(77))
    assert.doesNotThrow(() => verifier.finish())
  })

  it('throws FileIntegrityError from finish for a short file', () => {
    const verifier = new FileVerifier(manifest)
    verifier.update(data.subarray(0, 99))
    assert.throws(() => verifier.finish(), { name: 'FileIntegrityError', code: 'ERR_FILE_INTEGRITY', message: /99 bytes/ })
  })

  it('throws FileIntegrityError from update at the first byte past the declared size', () => {
    const verifier = new FileVerifier(manifest)
    verifier.update(data)
    assert.throws(() => verifier.update(Uint8Array.of(0)), { name: 'FileIntegrityError', message: /longer than the 100 bytes/ })
  })

  it('throws FileIntegrityError from finish when one byte differs', () => {
    const altered = Uint8Array.from(data)
    altered[50] ^= 1
    const verifier = new FileVerifier(manifest)
    verifier.update(altered)
    assert.throws(() => verifier.finish(), { name: 'FileIntegrityError', message: /sha2-256/ })
  })

  it('takes the chunks in order, each whole (control)', () => {
    const verifier = new FileVerifier(manifest)
    for (let i = 0; i < 4; i++) verifier.updateChunk(i, data.subarray(i * 32, (i + 1) * 32))
    assert.doesNotThrow(() => verifier.finish())
  })

  it('throws FileIntegrityError from updateChunk for a chunk out of place: swapped, repeated or skipped', () => {
    const chunk = (i: number): Uint8Array => data.subarray(i * 32, (i + 1) * 32)
    const swapped = new FileVerifier(manifest, { sha256: false })
    assert.throws(() => swapped.updateChunk(1, chunk(1)), { name: 'FileIntegrityError', message: /chunk 1 arrived at byte 0, it belongs at byte 32/ })
    const repeated = new FileVerifier(manifest, { sha256: false })
    repeated.updateChunk(0, chunk(0))
    assert.throws(() => repeated.updateChunk(0, chunk(0)), { name: 'FileIntegrityError' })
    const skipped = new FileVerifier(manifest, { sha256: false })
    skipped.updateChunk(0, chunk(0))
    assert.throws(() => skipped.updateChunk(2, chunk(2)), { name: 'FileIntegrityError' })
  })

  it('throws FileIntegrityError from updateChunk for a chunk of the wrong length, and for one past the last', () => {
    const short = new FileVerifier(manifest, { sha256: false })
    assert.throws(() => short.updateChunk(0, data.subarray(0, 31)), { name: 'FileIntegrityError', message: /chunk 0 has 31 bytes, the manifest declares 32/ })
    const last = new FileVerifier(manifest, { sha256: false })
    for (let i = 0; i < 3; i++) last.updateChunk(i, data.subarray(i * 32, (i + 1) * 32))
    assert.throws(() => last.updateChunk(3, data.subarray(96, 99)), { name: 'FileIntegrityError', message: /chunk 3 has 3 bytes, the manifest declares 4/ })
    last.updateChunk(3, data.subarray(96))
    assert.throws(() => last.updateChunk(4, Uint8Array.of(0)), { name: 'FileIntegrityError' })
  })

  it('without sha256 still checks the size, and only then leaves the bytes to authentication', () => {
    const altered = Uint8Array.from(data)
    altered[50] ^= 1
    const unhashed = new FileVerifier(manifest, { sha256: false })
    unhashed.update(altered)
    assert.doesNotThrow(() => unhashed.finish())
    const short = new FileVerifier(manifest, { sha256: false })
    short.update(data.subarray(0, 99))
    assert.throws(() => short.finish(), { name: 'FileIntegrityError', message: /99 bytes/ })
  })

  it('of a manifest without a sha2-256, checks the size and the order of chunks only', async () => {
    const plain = (await encodeToStore([data], { chunkSize: 32 })).manifest
    assert.equal(plain.sha256, undefined)
    const altered = Uint8Array.from(data)
    altered[50] ^= 1
    const verifier = new FileVerifier(plain)
    verifier.update(altered)
    assert.doesNotThrow(() => verifier.finish())
    const short = new FileVerifier(plain)
    short.update(data.subarray(0, 99))
    assert.throws(() => short.finish(), { name: 'FileIntegrityError', message: /99 bytes/ })
    const swapped = new FileVerifier(plain)
    assert.throws(() => swapped.updateChunk(1, data.subarray(32, 64)), { name: 'FileIntegrityError', message: /belongs at byte 32/ })
  })

  it('verifies an empty file', async () => {
    const empty = (await encodeToStore([])).manifest
    const verifier = new FileVerifier(empty)
    assert.doesNotThrow(() => verifier.finish())
    const overfull = new FileVerifier(empty)
    assert.throws(() => overfull.update(Uint8Array.of(1)), { name: 'FileIntegrityError' })
  })
})
