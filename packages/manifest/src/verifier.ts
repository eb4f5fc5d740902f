import { createHash } from 'node:crypto'
import type { Hash } from 'node:crypto'
import { bytesEqual } from './cid.ts'
import { FileIntegrityError } from './errors.ts'
import type { Manifest } from './index.ts'

export class FileVerifier {
  readonly #size: number
  readonly #manifest: Manifest
  readonly #hash: Hash | undefined
  #seen = 0
  #finished = false

  constructor (manifest: Manifest, options: { hash?: boolean } = {}) {
    this.#size = manifest.size
    this.#manifest = manifest
    this.#hash = options.hash === false ? undefined : createHash('sha256')
  }

  update (plain: Uint8Array): void {
    if (this.#finished) throw new Error('FileVerifier: update() after finish()')
    this.#seen += plain.byteLength
    // Fail at the first surplus byte rather than after streaming an unbounded tail.
    if (this.#seen > this.#size) throw new FileIntegrityError(`file is longer than the ${this.#size} bytes its manifest declares`)
    this.#hash?.update(plain)
  }

  finish (): void {
    if (this.#finished) throw new Error('FileVerifier: finish() called twice')
    this.#finished = true
    if (this.#seen !== this.#size) throw new FileIntegrityError(`file has ${this.#seen} bytes, its manifest declares ${this.#size}`)
    if (this.#hash != null) checkFileDigest(this.#manifest, this.#hash.digest())
  }
}

export function checkFileDigest (manifest: Manifest, sha256: Uint8Array): void {
  if (!bytesEqual(sha256, manifest.sha256)) throw new FileIntegrityError('file sha2-256 does not match its manifest')
}
