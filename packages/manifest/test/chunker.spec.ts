import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { chunk } from '../src/chunker.ts'
import { prng, randomPieces } from './helpers.ts'

async function sizesAndBytes (source: Iterable<Uint8Array>, size: number): Promise<{ sizes: number[], bytes: Buffer, views: Uint8Array[] }> {
  const sizes: number[] = []
  const parts: Buffer[] = []
  const views: Uint8Array[] = []
  for await (const piece of chunk(source, size)) {
    sizes.push(piece.byteLength)
    // Copied because a staged piece is only valid until the next pull.
    parts.push(Buffer.from(piece))
    views.push(piece)
  }
  return { sizes, bytes: Buffer.concat(parts), views }
}

describe('chunker', () => {
  it('cuts any split of the input into exact chunk-size pieces, the last one shorter', async () => {
    const data = randomBytes(1000)
    for (let seed = 0; seed < 20; seed++) {
      const { sizes, bytes } = await sizesAndBytes(randomPieces(data, prng(seed), 150), 64)
      assert.deepEqual(sizes, [...Array(15).fill(64), 40])
      assert.ok(bytes.equals(data))
    }
  })

  it('yields nothing for an empty source or empty pieces', async () => {
    assert.deepEqual((await sizesAndBytes([], 8)).sizes, [])
    assert.deepEqual((await sizesAndBytes([new Uint8Array(0), new Uint8Array(0)], 8)).sizes, [])
  })

  it('passes whole chunks inside one source piece through as views, without copying', async () => {
    const data = randomBytes(4 * 64)
    const { views } = await sizesAndBytes([data], 64)
    assert.equal(views.length, 4)
    assert.ok(views.every(view => view.buffer === data.buffer))
  })

  it('copies only a chunk that straddles two pieces (negative control for the above)', async () => {
    const data = randomBytes(3 * 64)
    const { views, bytes } = await sizesAndBytes([data.subarray(0, 100), data.subarray(100)], 64)
    assert.ok(bytes.equals(data))
    assert.deepEqual(views.map(view => view.buffer === data.buffer), [true, false, true])
  })
})
