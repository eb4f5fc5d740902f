import { createHash } from 'node:crypto'
import type { Hash } from 'node:crypto'
import { bytesEqual } from './cid.ts'
import { FileIntegrityError } from './errors.ts'
import { chunkPlainSize } from './tree.ts'
import type { FileVerifierOptions, Manifest } from './index.ts'

export class FileVerifier {
  readonly #size: number
  readonly #chunkSize: number
  /** The whole-file hash under way and what it must come to; absent when there is none to check. */
  readonly #digest: { hash: Hash, expected: Uint8Array } | undefined
  #seen = 0
  #finished = false

  constructor (manifest: Manifest, options: FileVerifierOptions = {}) {
    this.#size = manifest.size
    this.#chunkSize = manifest.chunkSize
    this.#digest = options.sha256 === false || manifest.sha256 == null ? undefined : { hash: createHash('sha256'), expected: manifest.sha256 }
  }

  update (plain: Uint8Array): void {
    if (this.#finished) throw new Error('FileVerifier: update() after finish()')
    this.#seen += plain.byteLength
    // Fail at the first surplus byte rather than after streaming an unbounded tail.
    if (this.#seen > this.#size) throw new FileIntegrityError(`file is longer than the ${this.#size} bytes its manifest declares`)
    this.#digest?.hash.update(plain)
  }

  updateChunk (index: number, plain: Uint8Array): void {
    // a chunk belongs where the bytes before it end: one out of order, repeated or skipped lands elsewhere
    const at = index * this.#chunkSize
    if (at !== this.#seen) throw new FileIntegrityError(`chunk ${index} arrived at byte ${this.#seen}, it belongs at byte ${at}`)
    const size = at < this.#size ? chunkPlainSize(this.#size, this.#chunkSize, index) : 0
    if (plain.byteLength !== size) throw new FileIntegrityError(`chunk ${index} has ${plain.byteLength} bytes, the manifest declares ${size}`)
    this.update(plain)
  }

  finish (): void {
    if (this.#finished) throw new Error('FileVerifier: finish() called twice')
    this.#finished = true
    if (this.#seen !== this.#size) throw new FileIntegrityError(`file has ${this.#seen} bytes, its manifest declares ${this.#size}`)
    if (this.#digest != null && !bytesEqual(this.#digest.hash.digest(), this.#digest.expected)) throw new FileIntegrityError('file sha2-256 does not match its manifest')
  }
}
