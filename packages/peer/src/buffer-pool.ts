/**
 * Buffers of one size handed out again once their holder is done with them. A put seals every chunk into a new
 * buffer, and each lives across the awaits of its sends, so V8 promotes it and frees it only in a full collection:
 * a 256 MiB put left 256 MiB of garbage, and the uploader spent its main thread in the full collections that V8 and
 * the memory governor ran for it (2–5 forced ones of 30–70 ms per put with one copy). Recycling the few buffers a
 * put's window holds leaves none.
 */
export class BufferPool {
  readonly #size: number
  readonly #keep: number
  readonly #free: Uint8Array[] = []

  /** Buffers of `size` bytes; at most `keep` of them wait between uses. */
  constructor (size: number, keep: number) {
    this.#size = size
    this.#keep = keep
  }

  /** A buffer of `bytes` bytes with arbitrary contents: a recycled one where it has that size, else a new one. */
  take (bytes: number): Uint8Array {
    if (bytes === this.#size) {
      const recycled = this.#free.pop()
      if (recycled !== undefined) return recycled
    }
    return Buffer.allocUnsafe(bytes)
  }

  /** Hands `buffer` back for a later `take`. Its giver must be done with it: nothing may read or write it again. */
  give (buffer: Uint8Array): void {
    if (buffer.byteLength === this.#size && this.#free.length < this.#keep) this.#free.push(buffer)
  }
}
