import { createHash } from 'node:crypto'
import type { Hash } from 'node:crypto'
import { bytesEqual } from './cid.ts'
import { FileIntegrityError } from './errors.ts'
import type { Manifest } from './index.ts'

export class FileVerifier {
  readonly #size: number
  readonly #sha256: Uint8Array
  readonly #hash: Hash = createHash('sha256')
  #seen = 0
  #finished = false

  constructor (manifest: Manifest) {
    this.#size = manifest.size
    this.#sha256 = manifest.sha256
  }

  update (plain: Uint8Array): void {
    if (this.#finished) throw new Error('FileVerifier: update() after finish()')
    this.#seen += plain.byteLength
    // Fail at the first surplus byte rather than after streaming an unbounded tail.
    if (this.#seen > this.#size) throw new FileIntegrityError(`file is longer than the ${this.#size} bytes its manifest declares`)
    this.#hash.update(plain)
  }

  finish (): void {
    if (this.#finished) throw new Error('FileVerifier: finish() called twice')
    this.#finished = true
    if (this.#seen !== this.#size) throw new FileIntegrityError(`file has ${this.#seen} bytes, its manifest declares ${this.#size}`)
    if (!bytesEqual(this.#hash.digest(), this.#sha256)) throw new FileIntegrityError('file sha2-256 does not match its manifest')
  }
}
