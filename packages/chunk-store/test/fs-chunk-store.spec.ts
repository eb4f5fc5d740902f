import assert from 'node:assert/strict'
import * as fs from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FsChunkStore } from '../src/fs-chunk-store.ts'
import { createChunkStore } from '../src/index.ts'
import { collect, countedSource, describeChunkStore, makeChunk } from './chunk-store-suite.ts'
import type { ChunkFs } from '../src/fs-chunk-store.ts'
import type { ChunkStore } from '../src/index.ts'
import type { CID } from 'multiformats/cid'

let root: string
let dirs = 0

before(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'ionnet-chunk-store-'))
})

after(async () => {
  await fs.rm(root, { recursive: true, force: true })
})

function newDir (): string {
  return join(root, `store-${dirs++}`)
}

/** The documented layout: blocks/<next-to-last two characters of the CID>/<CID>. */
function chunkPath (dir: string, cid: CID): string {
  const name = cid.toString()
  return join(dir, 'blocks', name.slice(-3, -1), name)
}

/** Node's file system, with every chunk write (one writev of gathered pieces) going through `writev` instead. */
function withWritev (writev: (file: fs.FileHandle, pieces: Uint8Array[]) => Promise<{ bytesWritten: number }>): ChunkFs {
  return {
    ...fs,
    async open (path: string, flags: string) {
      const file = await fs.open(path, flags)
      return {
        writev: async (pieces: Uint8Array[]) => writev(file, pieces),
        sync: async () => file.sync(),
        close: async () => file.close()
      }
    }
  }
}

/** Node's file system, except that the next chunk write lands half its bytes and then fails with ENOSPC. */
function diskFillingUp (): ChunkFs & { failNextWrite: boolean } {
  const faulty = Object.assign(withWritev(async (file, pieces) => {
    if (!faulty.failNextWrite) return file.writev(pieces)
    faulty.failNextWrite = false
    const first = pieces[0]
    await file.write(first, 0, Math.floor(first.length / 2))
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
  }), { failNextWrite: false })
  return faulty
}

/** Node's file system, except that every gathered write lands at most `most` bytes, as writev may. */
function shortWrites (most: number): ChunkFs & { calls: number } {
  const short = Object.assign(withWritev(async (file, pieces) => {
    short.calls++
    const bytes = Buffer.concat(pieces)
    return file.write(bytes, 0, Math.min(most, bytes.length))
  }), { calls: 0 })
  return short
}

describeChunkStore('fs chunk store', init => createChunkStore({ ...init, dir: newDir() }))

describe('fs chunk store on disk', () => {
  const opened: ChunkStore[] = []

  async function openStore (store: ChunkStore): Promise<ChunkStore> {
    await store.open()
    opened.push(store)
    return store
  }

  afterEach(async () => {
    await Promise.all(opened.splice(0).map(async store => store.close()))
  })

  it('keeps each chunk at blocks/<shard>/<cid> with a replica sidecar beside it', async () => {
    const dir = newDir()
    const store = await openStore(createChunkStore({ dir }))
    const chunk = makeChunk(100)

    await store.put(chunk.cid, chunk.bytes, { replicas: 4 })

    assert.deepEqual(new Uint8Array(await fs.readFile(chunkPath(dir, chunk.cid))), new Uint8Array(chunk.bytes))
    assert.deepEqual(JSON.parse(await fs.readFile(chunkPath(dir, chunk.cid) + '.meta', 'utf8')), { replicas: 4 })
    assert.equal(store.count, 1)
  })

  it('throws ChunkCorruptError for a chunk corrupted on disk, and verify() tells corrupt from intact', async () => {
    const dir = newDir()
    const store = await openStore(createChunkStore({ dir }))
    const corrupted = makeChunk(100)
    const intact = makeChunk(100)
    await store.put(corrupted.cid, corrupted.bytes)
    await store.put(intact.cid, intact.bytes)

    const rotten = Uint8Array.from(corrupted.bytes)
    rotten[50] ^= 0xff
    await fs.writeFile(chunkPath(dir, corrupted.cid), rotten)

    await assert.rejects(store.get(corrupted.cid), { name: 'ChunkCorruptError', code: 'ERR_CHUNK_CORRUPT' })
    // unchecked, for a caller that checks the bytes itself: it gets what the disk holds
    assert.deepEqual(new Uint8Array(await store.get(corrupted.cid, { verify: false })), rotten)
    assert.deepEqual(new Uint8Array(await store.get(intact.cid, { verify: false })), new Uint8Array(intact.bytes))
    assert.equal(await store.verify(corrupted.cid), false)
    assert.equal(await store.verify(intact.cid), true)
    assert.equal(await store.has(corrupted.cid), true, 'verify leaves a corrupt chunk in place')
  })

  it('removes temp files left by a crash when it opens', async () => {
    const dir = newDir()
    await openStore(createChunkStore({ dir }))
    const leftover = makeChunk(100)
    await fs.writeFile(join(dir, 'tmp', `${leftover.cid}.abc123`), leftover.bytes.subarray(0, 50))

    const reopened = await openStore(createChunkStore({ dir }))

    assert.deepEqual(await fs.readdir(join(dir, 'tmp')), [])
    assert.equal(await reopened.has(leftover.cid), false)
    assert.equal(reopened.count, 0)
  })

  it('finds its chunks again when reopened, with the same size, count and replicas', async () => {
    const dir = newDir()
    const first = await openStore(createChunkStore({ dir }))
    const a = makeChunk(100)
    const b = makeChunk(250)
    await first.put(a.cid, a.bytes, { replicas: 7 })
    await first.put(b.cid, b.bytes)
    await first.close()

    const reopened = await openStore(createChunkStore({ dir }))

    assert.deepEqual([reopened.size, reopened.count], [350, 2])
    assert.deepEqual(new Uint8Array(await reopened.get(b.cid)), new Uint8Array(b.bytes))
    assert.equal(await reopened.replicas(a.cid), 7)
    assert.equal((await collect(reopened.list())).length, 2)
  })

  it('falls back to defaultReplicas when a replica record is lost', async () => {
    const dir = newDir()
    const store = await openStore(createChunkStore({ dir, defaultReplicas: 2 }))
    const chunk = makeChunk(100)
    await store.put(chunk.cid, chunk.bytes, { replicas: 6 })

    // as a crash between writing a chunk and its record would leave it; the open store remembers what it wrote
    await store.close()
    await fs.unlink(chunkPath(dir, chunk.cid) + '.meta')
    const reopened = await openStore(createChunkStore({ dir, defaultReplicas: 2 }))

    assert.equal(await reopened.replicas(chunk.cid), 2)
  })

  it('reads each replica record from disk once, and still notices a chunk file that vanished', async () => {
    const dir = newDir()
    let reads = 0
    const counting = {
      ...fs,
      readFile: async (path: string, options?: { signal?: AbortSignal }) => {
        if (path.endsWith('.meta')) reads++
        return fs.readFile(path, options)
      }
    } as ChunkFs
    const chunk = makeChunk(100)
    const first = await openStore(createChunkStore({ dir }))
    await first.put(chunk.cid, chunk.bytes, { replicas: 4 })
    await first.close()

    const store = await openStore(new FsChunkStore({ fs: counting }, { dir }))
    for (let pass = 0; pass < 3; pass++) {
      assert.equal(await store.replicas(chunk.cid), 4)
      assert.deepEqual((await collect(store.list())).map(c => c.replicas), [4])
    }
    assert.equal(reads, 1)

    // its own changes it knows without reading them back
    await store.setReplicas(chunk.cid, 6)
    assert.equal(await store.replicas(chunk.cid), 6)
    await store.delete(chunk.cid)
    assert.equal(await store.replicas(chunk.cid), undefined)
    await store.put(chunk.cid, chunk.bytes, { replicas: 2 })
    assert.equal(await store.replicas(chunk.cid), 2)

    // a chunk file removed behind the store's back is not counted as held
    await fs.unlink(chunkPath(dir, chunk.cid))
    assert.equal(await store.has(chunk.cid), false)
    assert.equal(await store.replicas(chunk.cid), undefined)
    assert.deepEqual(await collect(store.list()), [])
  })

  it('removes a replica record whose chunk never landed when it opens', async () => {
    const dir = newDir()
    const store = await openStore(createChunkStore({ dir }))
    const landed = makeChunk(100)
    const lost = makeChunk(100)
    await store.put(landed.cid, landed.bytes)
    await store.put(lost.cid, lost.bytes)
    await store.close()
    await fs.unlink(chunkPath(dir, lost.cid))

    const reopened = await openStore(createChunkStore({ dir }))

    await assert.rejects(fs.access(chunkPath(dir, lost.cid) + '.meta'), { code: 'ENOENT' })
    await fs.access(chunkPath(dir, landed.cid) + '.meta')
    assert.equal(reopened.count, 1)
  })

  it('throws StorageError when the disk fills mid-write, leaving no chunk and no temp file', async () => {
    const dir = newDir()
    const faultyFs = diskFillingUp()
    const held = makeChunk(1000)
    const chunk = makeChunk(1000)
    const store = await openStore(new FsChunkStore({ fs: faultyFs }, { dir, capacity: 2000 }))
    await store.put(held.cid, held.bytes)

    faultyFs.failNextWrite = true
    await assert.rejects(store.put(chunk.cid, chunk.bytes), (err: Error) => {
      assert.equal(err.name, 'StorageError')
      assert.equal((err.cause as NodeJS.ErrnoException).code, 'ENOSPC')
      return true
    })

    assert.equal(await store.has(chunk.cid), false)
    assert.deepEqual(await fs.readdir(join(dir, 'tmp')), [])
    assert.deepEqual([store.size, store.count], [1000, 1])
    // a full disk stays full until space is freed: say so rather than fail every write the same way
    assert.equal(store.free, 0)
    await assert.rejects(store.put(chunk.cid, chunk.bytes), { name: 'DiskFullError', code: 'ERR_DISK_FULL' })
    await store.delete(held.cid)
    // the failed write gave back its reservation: the whole capacity is free again
    assert.equal(store.free, 2000)
    await store.put(chunk.cid, chunk.bytes)
    assert.equal(store.size, 1000)
  })

  it('stores a chunk streamed in many pieces whole, even when the file system takes fewer bytes than asked', async () => {
    const dir = newDir()
    const shortFs = shortWrites(700)
    const store = await openStore(new FsChunkStore({ fs: shortFs }, { dir }))
    const chunk = makeChunk(10_000)
    // uneven pieces, so short writes end inside a piece as well as between two
    const ends = [1, 333, 1000, 1001, 4096, 9999, 10_000]
    const pieces = ends.map((end, i) => chunk.bytes.subarray(i === 0 ? 0 : ends[i - 1], end))

    await store.putStream(chunk.cid, countedSource(pieces).source)

    assert.deepEqual(new Uint8Array(await fs.readFile(chunkPath(dir, chunk.cid))), new Uint8Array(chunk.bytes))
    assert.deepEqual(new Uint8Array(await store.get(chunk.cid)), new Uint8Array(chunk.bytes))
    assert.ok(shortFs.calls >= 15, `${shortFs.calls} writes of at most 700 bytes`)
  })

  it('passes on the error of a stream that fails midway, leaving no chunk and no temp file', async () => {
    const dir = newDir()
    const store = await openStore(createChunkStore({ dir }))
    const chunk = makeChunk(1000)
    const broken = new Error('connection reset')
    async function * source (): AsyncGenerator<Uint8Array> {
      yield chunk.bytes.subarray(0, 500)
      throw broken
    }

    await assert.rejects(store.putStream(chunk.cid, source()), err => err === broken)

    assert.equal(await store.has(chunk.cid), false)
    assert.deepEqual(await fs.readdir(join(dir, 'tmp')), [])
    await store.putStream(chunk.cid, countedSource([chunk.bytes]).source)
    assert.equal(await store.has(chunk.cid), true)
  })
})
