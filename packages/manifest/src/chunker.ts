/**
 * Cuts a byte stream into pieces of exactly `size` bytes (the last one
 * shorter). Source pieces are passed through as views wherever a whole chunk
 * lies inside one of them; only chunks that straddle source pieces are copied,
 * into one reused staging buffer. A yielded view is valid until the next pull.
 */
export async function * chunk (source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, size: number): AsyncGenerator<Uint8Array, void, undefined> {
  let staging: Uint8Array | undefined
  let filled = 0

  for await (const piece of source) {
    if (!(piece instanceof Uint8Array)) throw new TypeError('encodeFile: the source must yield Uint8Array pieces')
    let offset = 0

    if (filled > 0 && staging !== undefined) {
      offset = Math.min(size - filled, piece.byteLength)
      staging.set(piece.subarray(0, offset), filled)
      filled += offset
      if (filled < size) continue
      filled = 0
      yield staging
    }

    for (; piece.byteLength - offset >= size; offset += size) {
      yield piece.subarray(offset, offset + size)
    }

    if (offset < piece.byteLength) {
      staging ??= Buffer.allocUnsafe(size)
      staging.set(piece.subarray(offset), 0)
      filled = piece.byteLength - offset
    }
  }

  if (filled > 0 && staging !== undefined) yield staging.subarray(0, filled)
}
