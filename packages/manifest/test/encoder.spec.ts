import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { decode } from 'cborg'
import { CID } from 'multiformats/cid'
import { DEFAULT_CHUNK_SIZE, encodeFile, formatLink, sealedSize } from '../src/index.ts'
import { encodeToStore, hkdf, openBytes, prng, randomPieces, readFile } from './helpers.ts'
import type { Block } from '../src/index.ts'
import type { Encoded } from './helpers.ts'

const CS = DEFAULT_CHUNK_SIZE

describe('encodeFile', () => {
  describe('round trip through link, manifest, chunks and verifier', () => {
    const sizes = [0, 1, CS - 1, CS, CS + 1, 3 * CS + 12345]
    for (const size of sizes) {
      it(`returns the same ${size} bytes, fed in random pieces`, async () => {
        const data = randomBytes(size)
        const encoded = await encodeToStore(randomPieces(data, prng(size), 300_000), { name: 'file.bin' })
        const { manifest, bytes } = await readFile(formatLink(encoded.link), encoded.store)
        assert.ok(Buffer.from(bytes).equals(data))
        assert.equal(manifest.name, 'file.bin')
        assert.equal(manifest.size, size)
        assert.equal(manifest.chunkCount, Math.ceil(size / CS))
        assert.equal(encoded.blocks.length, manifest.chunkCount + 1)
      })
    }

    it('round-trips a multi-level tree (fanout 4, chunkSize 16, 100 chunks)', async () => {
      const data = randomBytes(100 * 16 - 3)
      const encoded = await encodeToStore([data], { chunkSize: 16, fanout: 4 })
      const { manifest, bytes } = await readFile(formatLink(encoded.link), encoded.store)
      assert.ok(Buffer.from(bytes).equals(data))
      // 100 chunks → 25 → 7 → 2 top nodes in the root.
      assert.equal(manifest.depth, 3)
      assert.equal(manifest.links.length, 2)
      assert.equal(countKind(encoded.blocks, 'manifest'), 25 + 7 + 2 + 1)
    })

    it('round-trips with chunk and piece sizes that never align', async () => {
      const data = randomBytes(10_007)
      const encoded = await encodeToStore(randomPieces(data, prng(1), 97), { chunkSize: 61, fanout: 3 })
      const { bytes } = await readFile(formatLink(encoded.link), encoded.store)
      assert.ok(Buffer.from(bytes).equals(data))
    })
  })

  describe('tree shape', () => {
    const cases: Array<[chunks: number, depth: number, rootLinks: number]> = [
      [0, 0, 0], [1, 0, 1], [4, 0, 4], [5, 1, 2], [16, 1, 4], [17, 2, 2]
    ]
    for (const [chunks, depth, rootLinks] of cases) {
      it(`puts ${chunks} chunks at fanout 4 under a tree of depth ${depth} with ${rootLinks} root links`, async () => {
        const encoded = await encodeToStore([randomBytes(chunks * 8)], { chunkSize: 8, fanout: 4 })
        assert.equal(encoded.manifest.chunkCount, chunks)
        assert.equal(encoded.manifest.depth, depth)
        assert.equal(encoded.manifest.links.length, rootLinks)
      })
    }
  })

  describe('block stream', () => {
    let encoded: Encoded
    before(async () => {
      encoded = await encodeToStore([randomBytes(100 * 16)], { chunkSize: 16, fanout: 4 })
    })

    it('yields the root last, and only the root with root: true', () => {
      const roots = encoded.blocks.filter(block => block.root === true)
      assert.equal(roots.length, 1)
      assert.equal(encoded.blocks.at(-1), roots[0])
      assert.equal(roots[0].kind, 'manifest')
      assert.ok(roots[0].cid.equals(encoded.link.cid))
    })

    it('yields every block before any node that links to it, and nodes as soon as their level fills', () => {
      const order = new Map(encoded.blocks.map((block, i) => [block.cid.toString(), i]))
      const { secret, depth, links } = encoded.manifest
      // Walk by hand with the documented node keys, checking each node against its children.
      const visit = (cids: CID[], d: number, first: number, parentIndex: number): void => {
        cids.forEach((cid, i) => {
          const index = order.get(cid.toString())
          assert.ok(index !== undefined && index < parentIndex, `block ${cid} comes before its parent`)
          if (d === 0) return
          const position = first + i
          const record = decode(openBytes(hkdf(secret, `ionnet/node/${d}/${position}`), encoded.blocks[index].bytes)) as { depth: number, links: Uint8Array[] }
          assert.equal(record.depth, d)
          visit(record.links.map(bytes => CID.decode(bytes)), d - 1, position * 4, index)
        })
      }
      visit(links, depth, 0, encoded.blocks.length - 1)
      const firstNode = encoded.blocks.findIndex(block => block.kind === 'manifest')
      const lastData = encoded.blocks.findLastIndex(block => block.kind === 'data')
      assert.ok(firstNode < lastData, 'nodes are interleaved with data, not held back to the end')
    })

    it('makes result() available once the root block has been yielded, not before', async () => {
      const { blocks, result } = encodeFile([randomBytes(40)], { chunkSize: 16 })
      assert.throws(() => result(), /root block/)
      for await (const block of blocks) {
        if (block.root !== true) assert.throws(() => result())
      }
      assert.equal(result().manifest.size, 40)
    })

    it('can be iterated only once', async () => {
      const { blocks } = encodeFile([randomBytes(4)])
      for await (const _ of blocks) { /* drain */ }
      assert.throws(() => blocks[Symbol.asyncIterator]())
    })

    it('never shares a block between two encodings of the same file', async () => {
      const data = randomBytes(64)
      const a = await encodeToStore([data], { chunkSize: 16 })
      const b = await encodeToStore([data], { chunkSize: 16 })
      for (const cid of a.store.keys()) assert.ok(!b.store.has(cid))
    })
  })

  describe('sources', () => {
    it('accepts an async generator of Buffers and a sync array of Uint8Arrays alike', async () => {
      const data = randomBytes(1000)
      async function * source (): AsyncGenerator<Uint8Array> {
        yield data.subarray(0, 300)
        yield data.subarray(300)
      }
      for (const input of [source(), [new Uint8Array(data)]]) {
        const encoded = await encodeToStore(input, { chunkSize: 128 })
        const { bytes } = await readFile(formatLink(encoded.link), encoded.store)
        assert.ok(Buffer.from(bytes).equals(data))
      }
    })

    it('takes a source that reuses one buffer for every piece, overwritten as soon as the next is pulled', async () => {
      // what a file reader does to spare the collector; any piece held across a pull would come back corrupted
      const data = randomBytes(10_007)
      async function * reused (size: number): AsyncGenerator<Uint8Array> {
        const buffer = Buffer.alloc(size)
        for (let at = 0; at < data.length; at += size) {
          const n = data.copy(buffer, 0, at, Math.min(at + size, data.length))
          yield buffer.subarray(0, n)
          buffer.fill(0xee)
        }
      }
      // pieces of whole chunks, pieces that straddle chunks, and pieces smaller than a chunk
      for (const pieceSize of [61 * 3, 100, 40]) {
        const encoded = await encodeToStore(reused(pieceSize), { chunkSize: 61, fanout: 3 })
        const { bytes } = await readFile(formatLink(encoded.link), encoded.store)
        assert.ok(Buffer.from(bytes).equals(data), `pieces of ${pieceSize}`)
      }
    })

    it('rejects a source that yields something other than bytes', async () => {
      const { blocks } = encodeFile(['text' as unknown as Uint8Array])
      await assert.rejects(drain(blocks), TypeError)
    })
  })

  describe('options', () => {
    const bad: Array<[string, Parameters<typeof encodeFile>[1]]> = [
      ['chunkSize 0', { chunkSize: 0 }],
      ['chunkSize above 16 MiB', { chunkSize: 16 * 1024 * 1024 + 1 }],
      ['fractional chunkSize', { chunkSize: 1.5 }],
      ['fanout 1', { fanout: 1 }],
      ['name with "/"', { name: 'a/b' }],
      ['name ".."', { name: '..' }],
      ['name of 256 bytes', { name: 'x'.repeat(256) }]
    ]
    for (const [what, options] of bad) {
      it(`throws RangeError at once for ${what}`, () => {
        assert.throws(() => encodeFile([], options), RangeError)
      })
    }

    it('accepts the boundary values (control)', () => {
      assert.doesNotThrow(() => encodeFile([], { chunkSize: 1, fanout: 2, name: 'é'.repeat(127) }))
    })

    it('stops with the abort reason when the signal aborts', async () => {
      const controller = new AbortController()
      const { blocks } = encodeFile([randomBytes(1000)], { chunkSize: 10, signal: controller.signal })
      let seen = 0
      await assert.rejects(async () => {
        for await (const _ of blocks) {
          if (++seen === 3) controller.abort(new Error('stop here'))
        }
      }, /stop here/)
      assert.equal(seen, 3)
    })

    it('seals every data chunk into the buffer allocate gives, which may be one buffer reused once its block is dealt with', async () => {
      const data = randomBytes(5 * 64 + 7)
      const reused = new Uint8Array(sealedSize(64))
      const asked: number[] = []
      const allocate = (bytes: number): Uint8Array => {
        asked.push(bytes)
        return bytes === reused.byteLength ? reused : new Uint8Array(bytes)
      }
      const { blocks, result } = encodeFile([data], { chunkSize: 64, allocate })
      const store = new Map<string, Uint8Array>()
      let inReused = 0
      for await (const block of blocks) {
        if (block.bytes === reused) inReused++
        // what a put does before it hands the buffer back: the block is stored elsewhere
        store.set(block.cid.toString(), block.bytes.slice())
      }
      assert.deepEqual(asked, [80, 80, 80, 80, 80, 23])
      assert.equal(inReused, 5)
      const { bytes } = await readFile(formatLink(result().link), store)
      assert.ok(Buffer.from(bytes).equals(data))
    })

    it('throws RangeError when allocate gives a buffer of the wrong size', async () => {
      const { blocks } = encodeFile([randomBytes(100)], { chunkSize: 64, allocate: bytes => new Uint8Array(bytes - 1) })
      await assert.rejects(async () => { for await (const _ of blocks) { /* drain */ } }, RangeError)
    })
  })
})

function countKind (blocks: Block[], kind: Block['kind']): number {
  return blocks.filter(block => block.kind === kind).length
}

async function drain (blocks: AsyncIterable<Block>): Promise<void> {
  for await (const _ of blocks) { /* drain */ }
}
