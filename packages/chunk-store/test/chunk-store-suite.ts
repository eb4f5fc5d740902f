import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { cidForChunk } from '../src/index.ts'
import type { ChunkStore, MemoryChunkStoreInit } from '../src/index.ts'

export interface Chunk {
  cid: CID
  bytes: Uint8Array
}

export function makeChunk (size: number): Chunk {
  const bytes = randomBytes(size)
  return { cid: cidForChunk(bytes), bytes }
}

export async function collect <T> (source: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = []
  for await (const item of source) items.push(item)
  return items
}

/** Yields the pieces one by one, counting how many the store asked for. */
export function countedSource (pieces: Uint8Array[]): { source: AsyncIterable<Uint8Array>, pulled: () => number } {
  let pulled = 0
  async function * source (): AsyncGenerator<Uint8Array> {
    for (const piece of pieces) {
      pulled++
      yield piece
    }
  }
  return { source: source(), pulled: () => pulled }
}

export function split (bytes: Uint8Array, pieceSize: number): Uint8Array[] {
  const pieces: Uint8Array[] = []
  for (let offset = 0; offset < bytes.length; offset += pieceSize) {
    pieces.push(bytes.subarray(offset, offset + pieceSize))
  }
  return pieces
}

/**
 * The contract every ChunkStore keeps. `create` returns a new, unopened store;
 * the suite opens it and closes it after each test.
 */
export function describeChunkStore (name: string, create: (init?: MemoryChunkStoreInit) => ChunkStore): void {
  describe(name, () => {
    const opened: ChunkStore[] = []

    async function openStore (init: MemoryChunkStoreInit = {}): Promise<ChunkStore> {
      const store = create(init)
      await store.open()
      opened.push(store)
      return store
    }

    afterEach(async () => {
      await Promise.all(opened.splice(0).map(async store => store.close()))
    })

    it('returns the bytes it was given', async () => {
      const store = await openStore()
      const held = makeChunk(1000)
      const other = makeChunk(1000)

      await store.put(held.cid, held.bytes)

      assert.deepEqual(new Uint8Array(await store.get(held.cid)), new Uint8Array(held.bytes))
      assert.equal(await store.has(held.cid), true)
      assert.equal(await store.has(other.cid), false)
    })

    it('throws ChunkNotFoundError for a chunk it does not hold', async () => {
      const store = await openStore()

      await assert.rejects(store.get(makeChunk(10).cid), { name: 'ChunkNotFoundError', code: 'ERR_CHUNK_NOT_FOUND' })
    })

    it('refuses bytes that do not hash to the CID, and stores nothing', async () => {
      const store = await openStore()
      const chunk = makeChunk(100)

      await assert.rejects(store.put(chunk.cid, makeChunk(100).bytes), { name: 'ChunkMismatchError' })

      assert.equal(await store.has(chunk.cid), false)
      assert.equal(store.size, 0)
      assert.equal(store.count, 0)
    })

    it('skips the hash on put with verify: false, where the caller vouches for the bytes; verify() still tells', async () => {
      const store = await openStore()
      const chunk = makeChunk(100)
      const other = makeChunk(100)

      await store.put(chunk.cid, chunk.bytes, { verify: false })
      await store.put(other.cid, chunk.bytes, { verify: false })

      assert.deepEqual(new Uint8Array(await store.get(chunk.cid)), new Uint8Array(chunk.bytes))
      assert.equal(await store.verify(chunk.cid), true)
      // a caller that broke its promise stored bytes under the wrong CID: reads refuse them and scrub finds them
      assert.equal(await store.verify(other.cid), false)
      await assert.rejects(store.get(other.cid), { name: 'ChunkCorruptError' })
    })

    it('accepts only CIDv1 raw sha2-256 CIDs', async () => {
      const store = await openStore()
      const chunk = makeChunk(10)
      const sha256 = Digest.create(0x12, chunk.cid.multihash.digest)
      const sha512 = Digest.create(0x13, randomBytes(64))

      await assert.rejects(store.put(CID.createV0(sha256), chunk.bytes), { name: 'InvalidCidError' })
      await assert.rejects(store.put(CID.createV1(0x71, sha256), chunk.bytes), { name: 'InvalidCidError' })
      await assert.rejects(store.get(CID.createV1(0x55, sha512)), { name: 'InvalidCidError' })
      await store.put(CID.createV1(0x55, sha256), chunk.bytes)
      assert.equal(store.count, 1)
    })

    it('refuses a chunk larger than maxChunkSize, and takes one exactly that size', async () => {
      const store = await openStore({ maxChunkSize: 100 })
      const tooLarge = makeChunk(101)
      const largest = makeChunk(100)

      await assert.rejects(store.put(tooLarge.cid, tooLarge.bytes), { name: 'ChunkTooLargeError' })
      await store.put(largest.cid, largest.bytes)

      assert.equal(await store.has(tooLarge.cid), false)
      assert.equal(await store.has(largest.cid), true)
    })

    it('refuses a chunk that would exceed capacity, while a smaller one still fits', async () => {
      const store = await openStore({ capacity: 100 })
      const first = makeChunk(60)
      const tooMuch = makeChunk(50)
      const fits = makeChunk(40)

      await store.put(first.cid, first.bytes)
      assert.equal(store.free, 40)
      await assert.rejects(store.put(tooMuch.cid, tooMuch.bytes), (err: Error) => {
        assert.equal(err.name, 'CapacityExceededError')
        assert.match(err.message, /60 bytes used.*50 more needed.*capacity is 100/)
        return true
      })
      await store.put(fits.cid, fits.bytes)

      assert.equal(store.size, 100)
      assert.equal(await store.has(tooMuch.cid), false)
      assert.equal(store.free, 0)
    })

    it('never overshoots capacity when puts run concurrently', async () => {
      const store = await openStore({ capacity: 100 })
      const chunks = Array.from({ length: 5 }, () => makeChunk(30))

      const results = await Promise.allSettled(chunks.map(async ({ cid, bytes }) => store.put(cid, bytes)))

      const refused = results.filter(result => result.status === 'rejected')
      assert.equal(refused.length, 2)
      for (const { reason } of refused) assert.equal(reason.name, 'CapacityExceededError')
      assert.equal(store.size, 90)
      assert.equal(store.count, 3)
    })

    it('deletes a chunk and reports whether it was there', async () => {
      const store = await openStore()
      const doomed = makeChunk(10)
      const kept = makeChunk(20)
      await store.put(doomed.cid, doomed.bytes)
      await store.put(kept.cid, kept.bytes)

      assert.equal(await store.delete(doomed.cid), true)
      assert.equal(await store.delete(doomed.cid), false)

      await assert.rejects(store.get(doomed.cid), { name: 'ChunkNotFoundError' })
      assert.equal(await store.replicas(doomed.cid), undefined)
      assert.equal(await store.has(kept.cid), true)
      assert.equal(store.size, 20)
      assert.equal(store.count, 1)
    })

    it('lists every chunk it holds with its size and replicas', async () => {
      const store = await openStore()
      const a = makeChunk(10)
      const b = makeChunk(20)
      const deleted = makeChunk(30)
      await store.put(a.cid, a.bytes, { replicas: 2 })
      await store.put(b.cid, b.bytes, { replicas: 5 })
      await store.put(deleted.cid, deleted.bytes)
      await store.delete(deleted.cid)

      const listed = (await collect(store.list()))
        .map(({ cid, size, replicas }) => ({ cid: cid.toString(), size, replicas }))
        .sort((x, y) => x.cid.localeCompare(y.cid))

      const expected = [
        { cid: a.cid.toString(), size: 10, replicas: 2 },
        { cid: b.cid.toString(), size: 20, replicas: 5 }
      ].sort((x, y) => x.cid.localeCompare(y.cid))
      assert.deepEqual(listed, expected)
    })

    it('keeps size and count exact across puts, repeated puts and deletes', async () => {
      const store = await openStore()
      const a = makeChunk(10)
      const b = makeChunk(20)

      await store.put(a.cid, a.bytes)
      await store.put(b.cid, b.bytes)
      await store.put(a.cid, a.bytes)
      assert.deepEqual([store.size, store.count], [30, 2])

      await store.delete(b.cid)
      assert.deepEqual([store.size, store.count], [10, 1])
    })

    it('records defaultReplicas when a put names no replica count', async () => {
      const store = await openStore({ defaultReplicas: 2 })
      const chunk = makeChunk(10)

      await store.put(chunk.cid, chunk.bytes)

      assert.equal(await store.replicas(chunk.cid), 2)
      assert.equal(await store.replicas(makeChunk(10).cid), undefined)
    })

    it('raises the replica count when a held chunk is put again, and never lowers it that way', async () => {
      const store = await openStore()
      const chunk = makeChunk(10)

      await store.put(chunk.cid, chunk.bytes, { replicas: 2 })
      await store.put(chunk.cid, chunk.bytes, { replicas: 4 })
      assert.equal(await store.replicas(chunk.cid), 4)

      await store.putStream(chunk.cid, countedSource([chunk.bytes]).source, { replicas: 1 })
      assert.equal(await store.replicas(chunk.cid), 4)
      assert.deepEqual([store.size, store.count], [10, 1])
    })

    it('sets the replica count of a held chunk, and refuses for a missing one', async () => {
      const store = await openStore()
      const chunk = makeChunk(10)
      await store.put(chunk.cid, chunk.bytes, { replicas: 4 })

      await store.setReplicas(chunk.cid, 1)

      assert.equal(await store.replicas(chunk.cid), 1)
      await assert.rejects(store.setReplicas(makeChunk(10).cid, 3), { name: 'ChunkNotFoundError' })
      await assert.rejects(store.setReplicas(chunk.cid, 0), { name: 'RangeError' })
    })

    it('stores a chunk streamed in several pieces', async () => {
      const store = await openStore()
      const chunk = makeChunk(10_000)

      await store.putStream(chunk.cid, countedSource(split(chunk.bytes, 3000)).source)

      assert.deepEqual(new Uint8Array(await store.get(chunk.cid)), new Uint8Array(chunk.bytes))
      assert.deepEqual([store.size, store.count], [10_000, 1])
    })

    it('stops reading a stream at the first piece past maxChunkSize, and stores nothing', async () => {
      const store = await openStore({ maxChunkSize: 1000 })
      const tooLarge = makeChunk(2000)
      const { source, pulled } = countedSource(split(tooLarge.bytes, 400))

      await assert.rejects(store.putStream(tooLarge.cid, source), { name: 'ChunkTooLargeError' })

      assert.equal(pulled(), 3)
      assert.equal(await store.has(tooLarge.cid), false)
      assert.deepEqual([store.size, store.count], [0, 0])
    })

    it('stops reading a stream once it would exceed capacity, and frees what it reserved', async () => {
      const store = await openStore({ capacity: 1000 })
      const tooLarge = makeChunk(2000)
      const fits = makeChunk(1000)
      const { source, pulled } = countedSource(split(tooLarge.bytes, 400))

      await assert.rejects(store.putStream(tooLarge.cid, source), { name: 'CapacityExceededError' })
      assert.equal(pulled(), 3)

      await store.putStream(fits.cid, countedSource(split(fits.bytes, 400)).source)
      assert.equal(store.size, 1000)
    })

    it('refuses a stream whose bytes do not hash to the CID, and frees what it reserved', async () => {
      const store = await openStore({ capacity: 1000 })
      const chunk = makeChunk(1000)

      await assert.rejects(store.putStream(chunk.cid, countedSource([makeChunk(1000).bytes]).source), { name: 'ChunkMismatchError' })

      assert.equal(await store.has(chunk.cid), false)
      await store.put(chunk.cid, chunk.bytes)
      assert.equal(store.size, 1000)
    })

    it('stores nothing when a put is aborted', async () => {
      const store = await openStore()
      const chunk = makeChunk(10)
      const controller = new AbortController()
      controller.abort()

      await assert.rejects(store.put(chunk.cid, chunk.bytes, { signal: controller.signal }), { name: 'AbortError' })
      await assert.rejects(store.putStream(chunk.cid, countedSource([chunk.bytes]).source, { signal: controller.signal }), { name: 'AbortError' })

      assert.equal(await store.has(chunk.cid), false)
    })

    it('verifies an intact chunk, and throws ChunkNotFoundError for a missing one', async () => {
      const store = await openStore()
      const chunk = makeChunk(10)
      await store.put(chunk.cid, chunk.bytes)

      assert.equal(await store.verify(chunk.cid), true)
      await assert.rejects(store.verify(makeChunk(10).cid), { name: 'ChunkNotFoundError' })
    })

    it('refuses calls before open() and after close()', async () => {
      const chunk = makeChunk(10)
      const store = create()

      await assert.rejects(store.put(chunk.cid, chunk.bytes), { name: 'StoreNotOpenError' })
      await store.open()
      await store.put(chunk.cid, chunk.bytes)
      await store.close()
      await assert.rejects(store.get(chunk.cid), { name: 'StoreNotOpenError' })
    })
  })
}
