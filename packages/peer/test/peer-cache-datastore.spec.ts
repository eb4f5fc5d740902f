import assert from 'node:assert/strict'
import { MemoryDatastore } from 'datastore-core'
import { Key } from 'interface-datastore'
import { PeerCacheDatastore } from '../src/peer-cache-datastore.ts'

/** A memory datastore with the open/close a LevelDatastore has, counting writes so a test sees what reached it. */
class Disk extends MemoryDatastore {
  writes = 0
  closed = false
  async open (): Promise<void> {}
  async close (): Promise<void> { this.closed = true }
  override async put (key: Key, value: Uint8Array): Promise<Key> {
    this.writes++
    return super.put(key, value)
  }
}

async function collect<T> (source: AsyncIterable<T> | Iterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of source) out.push(item)
  return out
}

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)
const peerKey = (n: number): Key => new Key(`/peers/peer${n}`)

describe('peer cache datastore', () => {
  it('keeps peer records in memory and writes only the latest of each back on flush', async () => {
    const disk = new Disk()
    const store = new PeerCacheDatastore(disk, { flushInterval: 60_000 })
    await store.open()
    for (let i = 0; i < 100; i++) await store.put(peerKey(1), bytes(`v${i}`))
    assert.equal(disk.writes, 0)
    assert.deepEqual(await store.get(peerKey(1)), bytes('v99'))
    await store.flush()
    assert.equal(disk.writes, 1)
    assert.deepEqual(await disk.get(peerKey(1)), bytes('v99'))
    await store.close()
  })

  it('passes every other key straight through', async () => {
    const disk = new Disk()
    const store = new PeerCacheDatastore(disk, { flushInterval: 60_000 })
    await store.open()
    await store.put(new Key('/dht/provider/x'), bytes('p'))
    assert.deepEqual(await disk.get(new Key('/dht/provider/x')), bytes('p'))
    assert.equal(await store.has(new Key('/dht/provider/x')), true)
    await store.delete(new Key('/dht/provider/x'))
    assert.equal(await disk.has(new Key('/dht/provider/x')), false)
    await store.close()
  })

  it('answers gets, has and queries as the disk would, each record once', async () => {
    const disk = new Disk()
    await disk.put(peerKey(1), bytes('old'))
    await disk.put(new Key('/other/a'), bytes('a'))
    const store = new PeerCacheDatastore(disk, { flushInterval: 60_000 })
    await store.open()
    await store.put(peerKey(1), bytes('new'))
    await store.put(peerKey(2), bytes('two'))
    await assert.rejects(store.get(peerKey(3)), { name: 'NotFoundError' })
    assert.equal(await store.has(peerKey(3)), false)
    const peers = await collect(store.query({ prefix: '/peers/' }))
    assert.deepEqual(peers.map(p => [p.key.toString(), new TextDecoder().decode(p.value)]).sort(), [['/peers/peer1', 'new'], ['/peers/peer2', 'two']])
    const everything = (await collect(store.queryKeys({}))).map(k => k.toString()).sort()
    assert.deepEqual(everything, ['/other/a', '/peers/peer1', '/peers/peer2'])
    await store.close()
  })

  it('writes deletions back, and a reopened store finds what the last one flushed on close', async () => {
    const disk = new Disk()
    const first = new PeerCacheDatastore(disk, { flushInterval: 60_000 })
    await first.open()
    await first.put(peerKey(1), bytes('one'))
    await first.put(peerKey(2), bytes('two'))
    await first.flush()
    await first.delete(peerKey(1))
    await first.close()
    assert.equal(disk.closed, true)
    assert.equal(await disk.has(peerKey(1)), false)
    const second = new PeerCacheDatastore(disk, { flushInterval: 60_000 })
    await second.open()
    assert.deepEqual(await second.get(peerKey(2)), bytes('two'))
    assert.equal(await second.has(peerKey(1)), false)
    await second.close()
  })

  it('keeps records whose write-back failed and writes them on the next flush', async () => {
    const disk = new Disk()
    let failNext = true
    const batch = disk.batch.bind(disk)
    disk.batch = () => {
      const b = batch()
      const commit = b.commit.bind(b)
      b.commit = async (options) => {
        if (failNext) { failNext = false; throw new Error('EIO') }
        await commit(options)
      }
      return b
    }
    const store = new PeerCacheDatastore(disk, { flushInterval: 60_000 })
    await store.open()
    await store.put(peerKey(1), bytes('one'))
    await store.flush()
    assert.equal(await disk.has(peerKey(1)), false)
    await store.flush()
    assert.deepEqual(await disk.get(peerKey(1)), bytes('one'))
    await store.close()
  })
})
