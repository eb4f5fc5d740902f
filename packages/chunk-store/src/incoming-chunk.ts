import { createHash } from 'node:crypto'
import { digestMatches } from './cid.ts'
import { ChunkMismatchError, ChunkTooLargeError } from './errors.ts'
import type { SpaceLedger } from './space-ledger.ts'
import type { CID } from 'multiformats/cid'

/**
 * A chunk arriving piece by piece: hashed, size-limited and charged against
 * capacity as it comes, so a stream is refused at the first byte too many
 * rather than after it has been buffered or written in full.
 */
export class IncomingChunk {
  readonly #cid: CID
  readonly #maxChunkSize: number
  readonly #ledger: SpaceLedger | undefined
  readonly #hash = createHash('sha256')
  #size = 0
  #reserved = 0

  /** Without a ledger nothing is reserved: the bytes are only checked, for a chunk already held. */
  constructor (cid: CID, maxChunkSize: number, ledger?: SpaceLedger) {
    this.#cid = cid
    this.#maxChunkSize = maxChunkSize
    this.#ledger = ledger
  }

  get size (): number {
    return this.#size
  }

  /** Passes the source through, checking each piece; throws at the end if the digest differs. */
  async * check (source: AsyncIterable<Uint8Array>, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
    for await (const piece of source) {
      signal?.throwIfAborted()
      this.#accept(piece)
      yield piece
    }
    if (!digestMatches(this.#cid, this.#hash.digest())) {
      throw new ChunkMismatchError(this.#cid.toString())
    }
  }

  commit (): void {
    this.#ledger?.commit(this.#reserved)
    this.#reserved = 0
  }

  /** Returns whatever is still reserved; harmless after commit. */
  release (): void {
    this.#ledger?.release(this.#reserved)
    this.#reserved = 0
  }

  #accept (piece: Uint8Array): void {
    const size = this.#size + piece.length
    if (size > this.#maxChunkSize) {
      throw new ChunkTooLargeError(size, this.#maxChunkSize)
    }
    this.#ledger?.reserve(piece.length)
    this.#reserved += piece.length
    this.#size = size
    this.#hash.update(piece)
  }
}
