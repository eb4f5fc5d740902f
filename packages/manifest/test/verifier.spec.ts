import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { FileVerifier } from '../src/index.ts'
import { encodeToStore } from './helpers.ts'
import type { Manifest } from '../src/index.ts'

describe('FileVerifier', () => {
  const data = randomBytes(100)
  let manifest: Manifest
  before(async () => {
    manifest = (await encodeToStore([data], { chunkSize: 32 })).manifest
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

  it('verifies an empty file', async () => {
    const empty = (await encodeToStore([])).manifest
    const verifier = new FileVerifier(empty)
    assert.doesNotThrow(() => verifier.finish())
    const overfull = new FileVerifier(empty)
    assert.throws(() => overfull.update(Uint8Array.of(1)), { name: 'FileIntegrityError' })
  })
})
