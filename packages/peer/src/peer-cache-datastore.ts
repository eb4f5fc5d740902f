import { BaseDatastore } from 'datastore-core'
import { Key } from 'interface-datastore'
import { NotFoundError } from 'interface-store'
import type { Datastore, Pair, Query, KeyQuery } from 'interface-datastore'
import type { AbortOptions } from '@libp2p/interface'

/** Where libp2p's peer store keeps its records. */
const PEERS = '/peers/'

/**
 * The repo's datastore with libp2p's peer records held in memory and written back in the background. The peer store
 * reads and rewrites a peer's record for every address it hears of, and kad-dht names up to 20 peers in every
 * answer: announcing 384 chunks on 5 peers spent a quarter of its CPU in LevelDB gets and puts of those records.
 * They stay on disk because kad-dht refills its routing table from them when a peer restarts; losing the last
 * `flushInterval` of changes to a crash only costs addresses that identify and the DHT relearn.
 */
export class PeerCacheDatastore extends BaseDatastore {
  readonly #inner: Datastore & { open(): Promise<void>, close(): Promise<void> }
  readonly #flushInterval: number
  readonly #records = new Map<string, Uint8Array>()
  readonly #dirty = new Set<string>()
  #timer?: ReturnType<typeof setInterval>
  #flushing = Promise.resolve()

  constructor (inner: Datastore & { open(): Promise<void>, close(): Promise<void> }, init: { flushInterval: number }) {
    super()
    this.#inner = inner
    this.#flushInterval = init.flushInterval
  }

  /** Opens the inner store and loads the peer records. */
  async open (): Promise<void> {
    await this.#inner.open()
    for await (const { key, value } of this.#inner.query({ prefix: PEERS })) this.#records.set(key.toString(), value)
    this.#timer = setInterval(() => { void this.flush() }, this.#flushInterval)
    this.#timer.unref()
  }

  /** Writes back what changed and closes the inner store. */
  async close (): Promise<void> {
    clearInterval(this.#timer)
    await this.flush()
    await this.#inner.close()
  }

  /** Writes the changed peer records to the inner store, one flush at a time. */
  async flush (): Promise<void> {
    this.#flushing = this.#flushing.then(async () => {
      const keys = [...this.#dirty]
      this.#dirty.clear()
      if (keys.length === 0) return
      const batch = this.#inner.batch()
      for (const k of keys) {
        const value = this.#records.get(k)
        if (value == null) batch.delete(new Key(k))
        else batch.put(new Key(k), value)
      }
      try {
        await batch.commit()
      } catch {
        // the next flush tries again; meanwhile the records in memory are the truth
        for (const k of keys) this.#dirty.add(k)
      }
    })
    await this.#flushing
  }

  async put (key: Key, value: Uint8Array, options?: AbortOptions): Promise<Key> {
    const k = key.toString()
    if (!k.startsWith(PEERS)) return this.#inner.put(key, value, options)
    this.#records.set(k, value)
    this.#dirty.add(k)
    return key
  }

  async get (key: Key, options?: AbortOptions): Promise<Uint8Array> {
    const k = key.toString()
    if (!k.startsWith(PEERS)) return this.#inner.get(key, options)
    const value = this.#records.get(k)
    if (value == null) throw new NotFoundError(`no record for ${k}`)
    return value
  }

  async has (key: Key, options?: AbortOptions): Promise<boolean> {
    const k = key.toString()
    return k.startsWith(PEERS) ? this.#records.has(k) : this.#inner.has(key, options)
  }

  async delete (key: Key, options?: AbortOptions): Promise<void> {
    const k = key.toString()
    if (!k.startsWith(PEERS)) { await this.#inner.delete(key, options); return }
    this.#records.delete(k)
    this.#dirty.add(k)
  }

  async * _all (q: Query, options?: AbortOptions): AsyncGenerator<Pair> {
    // the peer store lists its records often: those come from memory only, without reading the disk's stale copies
    if (q.prefix?.startsWith(PEERS) !== true) {
      for await (const pair of this.#inner.query({ prefix: q.prefix }, options)) {
        if (!pair.key.toString().startsWith(PEERS)) yield pair
      }
    }
    for (const [k, value] of this.#records) {
      if (q.prefix == null || k.startsWith(q.prefix)) yield { key: new Key(k), value }
    }
  }

  async * _allKeys (q: KeyQuery, options?: AbortOptions): AsyncGenerator<Key> {
    if (q.prefix?.startsWith(PEERS) !== true) {
      for await (const key of this.#inner.queryKeys({ prefix: q.prefix }, options)) {
        if (!key.toString().startsWith(PEERS)) yield key
      }
    }
    for (const k of this.#records.keys()) {
      if (q.prefix == null || k.startsWith(q.prefix)) yield new Key(k)
    }
  }
}
