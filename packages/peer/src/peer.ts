import { logger } from '@libp2p/logger'
import { createChunkStore } from '@ionnet/chunk-store'
import { createHealer } from '@ionnet/healer'
import { decodeManifest, fileBlocks, MAX_NAME_BYTES, parseLink } from '@ionnet/manifest'
import { LevelDatastore } from 'datastore-level'
import { CID } from 'multiformats/cid'
import { Announcer } from './announcer.ts'
import { ChunkProtocol } from './chunk-protocol.ts'
import { CHUNK_OVERHEAD, DEFAULT_LISTEN, DEFAULT_REPLICAS, MAX_CHUNK_SIZE, MAX_REPLICAS, PEER_RECORD_FLUSH } from './constants.ts'
import { BadRequestError, KeyMissingError } from './errors.ts'
import { ChunkFetcher } from './fetcher.ts'
import { openFile } from './get.ts'
import { Joiner } from './joiner.ts'
import { Keyring } from './keyring.ts'
import { Membership } from './membership.ts'
import { PeerCacheDatastore } from './peer-cache-datastore.ts'
import { rankPeers } from './placement.ts'
import { createNode } from './node.ts'
import { TransferClock } from './watchdog.ts'
import { putFile, storeAlong } from './put.ts'
import { Repo } from './repo.ts'
import { readSwarmKey } from './swarm-key.ts'
import type { OpenedFile } from './get.ts'
import type { PeerRecord } from './membership.ts'
import type { IonNetNode } from './node.ts'
import type { ChunkStore } from '@ionnet/chunk-store'
import type { FileEntry, HealthReport, PeerIdentity, PeerSummary, PutResult } from '@ionnet/client'
import type { Healer, HealerInit } from '@ionnet/healer'
import type { Link } from '@ionnet/manifest'

/** Settings of a peer; everything but the repo has a default. */
export interface PeerInit {
  /** Repo folder: identity, chunks, datastore, keyring. */
  repo: string
  /** Multiaddrs to listen on. */
  listen?: string[]
  /** Multiaddrs (with /p2p/<id>) of peers to join through. */
  bootstrap?: string[]
  /** Bytes this peer offers to store; Infinity when unset. */
  capacity?: number
  /** Heartbeat interval in ms. */
  heartbeat?: number
  /** Missed heartbeats after which a peer counts as dead. */
  deadAfter?: number
  /** Live peers up to which `heartbeat` holds; beyond, the interval grows with their number (HEARTBEAT_PEERS, 20). */
  heartbeatPeers?: number
  /** Discover peers on the LAN with mDNS (multicast; off unless asked for). */
  mdns?: boolean
  /** Private swarm key (file contents); when unset, `<repo>/swarm.key` is used if it exists. */
  swarmKey?: Uint8Array
  /** ms a chunk request may take before its provider counts as stalled. */
  chunkTimeout?: number
  /** ms between libp2p's pings of each connection (CONNECTION_PING_INTERVAL, 30 s). */
  pingInterval?: number
  /** Healer settings (pass interval, repair concurrency and bandwidth, surplus margin, scrub rate). */
  healer?: HealerInit
}

/**
 * One IonNet peer: a libp2p node, its chunk store, the chunk protocol, heartbeats and the file operations.
 */
export class IonNetPeer {
  readonly repo: Repo
  readonly node: IonNetNode
  readonly store: ChunkStore
  readonly protocol: ChunkProtocol
  readonly membership: Membership
  readonly announcer: Announcer
  readonly fetcher: ChunkFetcher
  readonly keyring: Keyring
  readonly healer: Healer
  readonly #joiner: Joiner
  readonly #datastore: PeerCacheDatastore
  readonly #private: boolean
  readonly #log = logger('ionnet:peer')

  constructor (parts: { repo: Repo, node: IonNetNode, store: ChunkStore, datastore: PeerCacheDatastore, private: boolean, connectionBytes: TransferClock }, init: PeerInit) {
    this.repo = parts.repo
    this.node = parts.node
    this.store = parts.store
    this.#datastore = parts.datastore
    this.#private = parts.private
    const log = this.#log
    this.keyring = new Keyring(this.repo.keyringPath)
    this.#joiner = new Joiner({ node: this.node, log: logger('ionnet:joiner') }, { bootstrap: init.bootstrap })
    this.announcer = new Announcer({ node: this.node, log: logger('ionnet:announcer'), livePeers: () => this.membership.live().length })
    this.membership = new Membership({
      node: this.node,
      store: this.store,
      log: logger('ionnet:membership'),
      // chunk bytes, or any bytes on a connection whose TLS runs on the socket: a slow link delivers records long
      // before it delivers a whole yamux frame
      trafficSilence: (peer) => this.protocol.silenceOf(peer)
    }, { interval: init.heartbeat, deadAfter: init.deadAfter, scaleFrom: init.heartbeatPeers })
    this.protocol = new ChunkProtocol({
      node: this.node,
      store: this.store,
      log: logger('ionnet:chunk-protocol'),
      onStored: (cid) => { this.announcer.announce(cid) },
      onTransfer: () => { this.announcer.busy() },
      forward: async (chain, cid, bytes, replicas, signal) => (await storeAlong(chain, { cid, bytes }, replicas, this.#putComponents(), signal)).copies,
      trafficSilence: (peer) => parts.connectionBytes.silenceOf(peer)
    }, { maxChunkSize: MAX_CHUNK_SIZE, timeout: init.chunkTimeout })
    this.fetcher = new ChunkFetcher({ node: this.node, store: this.store, protocol: this.protocol, membership: this.membership, log })
    this.healer = createHealer({
      peerId: this.node.peerId,
      store: this.store,
      livePeers: () => this.membership.live().map(p => ({ id: p.id, free: p.free })),
      onMembershipChange: (fn) => {
        this.membership.addEventListener('peer:alive', fn)
        this.membership.addEventListener('peer:dead', fn)
        return () => {
          this.membership.removeEventListener('peer:alive', fn)
          this.membership.removeEventListener('peer:dead', fn)
        }
      },
      has: async (peer, cids, options) => this.protocol.has(peer, cids, options),
      findProviders: (cid, options) => this.fetcher.providers(cid, options?.signal),
      send: async (peer, cid, bytes, replicas, options) => (await this.protocol.store(peer, cid, bytes, replicas, options)).had ? 'had' : 'stored',
      fetchRemote: async (cid, options) => this.fetcher.fetch(cid, { ...options, remoteOnly: true }),
      announce: (cid) => { this.announcer.announce(cid) },
      withdraw: (cid) => { this.announcer.withdraw(cid) },
      rank: rankPeers,
      log: logger('ionnet:healer')
    }, init.healer)
  }

  get peerId (): string {
    return this.node.peerId.toString()
  }

  async start (): Promise<void> {
    await this.protocol.start()
    this.announcer.start()
    this.membership.start()
    this.healer.start()
    // provider records on other peers may have expired while we were away
    void this.#reannounce()
    this.#joiner.start()
  }

  async stop (): Promise<void> {
    this.#joiner.stop()
    await this.healer.stop()
    this.membership.stop()
    this.announcer.stop()
    await this.protocol.stop()
    await this.node.stop()
    await this.store.close()
    await this.#datastore.close()
    await this.repo.unlock()
  }

  identity (): PeerIdentity {
    return {
      peerId: this.peerId,
      addrs: this.node.getMultiaddrs().map(a => a.toString()),
      chunks: this.store.count,
      bytes: this.store.size,
      capacity: Number.isFinite(this.store.capacity) ? this.store.capacity : null,
      private: this.#private,
      heartbeatMs: this.membership.currentInterval,
      heartbeatsDropped: this.membership.dropped,
      announcing: this.announcer.pending
    }
  }

  /** Puts a file from a stream of its bytes, records its link in the keyring, and returns the link. */
  async put (source: AsyncIterable<Uint8Array>, options: { name?: string, replicas?: number, chunkSize?: number, signal?: AbortSignal, onProgress?(bytes: number): void } = {}): Promise<PutResult> {
    const replicas = options.replicas ?? DEFAULT_REPLICAS
    if (!Number.isSafeInteger(replicas) || replicas < 1 || replicas > MAX_REPLICAS) {
      throw new BadRequestError(`replicas must be an integer from 1 to ${MAX_REPLICAS}`)
    }
    // a chunk must fit the chunk protocol's frame once encrypted (tag and nonce), or no other peer could take it
    const maxPlain = MAX_CHUNK_SIZE - CHUNK_OVERHEAD
    if (options.chunkSize != null && (!Number.isSafeInteger(options.chunkSize) || options.chunkSize < 1 || options.chunkSize > maxPlain)) {
      throw new BadRequestError(`chunkSize must be an integer from 1 to ${maxPlain} bytes`)
    }
    if (options.name != null && Buffer.byteLength(options.name) > MAX_NAME_BYTES) {
      throw new BadRequestError(`name is ${Buffer.byteLength(options.name)} bytes long; at most ${MAX_NAME_BYTES} are kept in a manifest`)
    }
    const result = await putFile(source, this.#putComponents(), { ...options, replicas })
    await this.keyring.add({ link: result.link, cid: result.cid, name: result.name, size: result.size, chunks: result.chunks, replicas, added: new Date().toISOString() })
    this.#log('put %s (%d bytes, %d chunks, min copies %d)', result.cid, result.size, result.chunks, result.minCopies)
    return result
  }

  /** Opens a file by link, or by manifest CID alone when this peer put it (its keyring has the key). */
  async open (linkOrCid: string, options: { signal?: AbortSignal } = {}): Promise<OpenedFile> {
    return openFile(await this.resolveLink(linkOrCid), this.fetcher, { ...options, census: async (cids, signal) => this.#liveCopies(cids, signal) })
  }

  /** Counts the live copies of every block of a file (manifest blocks included). */
  async health (linkOrCid: string, options: { signal?: AbortSignal } = {}): Promise<HealthReport> {
    const link = await this.resolveLink(linkOrCid)
    const fetch = async (cid: CID, signal?: AbortSignal): Promise<Uint8Array> => this.fetcher.fetch(cid, { signal: signal ?? options.signal })
    const manifest = decodeManifest(link, await fetch(link.cid))
    const copies: number[] = []
    let replicas = (await this.keyring.get(link.cid.toString()))?.replicas ?? 0
    let batch: CID[] = []
    const flush = async (): Promise<void> => {
      const counted = await this.healer.census(batch.map(cid => ({ cid, replicas })), { signal: options.signal, probe: DEFAULT_REPLICAS })
      for (const c of counted) {
        copies.push(c.holders.length)
        replicas = Math.max(replicas, c.replicas)
      }
      batch = []
    }
    for await (const cid of fileBlocks(link, manifest, fetch, options)) {
      batch.push(cid)
      if (batch.length >= 4096) await flush()
    }
    await flush()
    replicas = replicas > 0 ? replicas : DEFAULT_REPLICAS
    const sorted = [...copies].sort((a, b) => a - b)
    return {
      cid: link.cid.toString(),
      name: manifest.name,
      size: manifest.size,
      blocks: copies.length,
      replicas,
      min: sorted[0] ?? 0,
      median: sorted[Math.floor((sorted.length - 1) / 2)] ?? 0,
      max: sorted[sorted.length - 1] ?? 0,
      underReplicated: copies.filter(n => n < replicas).length,
      missing: copies.filter(n => n === 0).length,
      copies
    }
  }

  async #liveCopies (cids: CID[], signal?: AbortSignal): Promise<number[]> {
    return (await this.healer.census(cids.map(cid => ({ cid, replicas: 0 })), { signal, probe: DEFAULT_REPLICAS })).map(c => c.holders.length)
  }

  /** Turns user input into a link: a full link, or a bare manifest CID known to the keyring. */
  async resolveLink (text: string): Promise<Link> {
    const trimmed = text.trim()
    if (!trimmed.includes('#')) {
      let cid: CID | undefined
      try {
        cid = CID.parse(trimmed.replace(/^ionnet:\/\//, ''))
      } catch {}
      if (cid != null) {
        const entry = await this.keyring.get(cid.toString())
        if (entry == null) throw new KeyMissingError(`no key for ${cid.toString()}: this peer did not put that file; use the full link (<CID>#<key>)`)
        return parseLink(entry.link)
      }
    }
    return parseLink(trimmed)
  }

  /** Every peer known from heartbeats, alive or dead. */
  peers (): PeerSummary[] {
    const now = Date.now()
    const connected = new Set(this.node.getPeers().map(p => p.toString()))
    return this.membership.peers().map((p: PeerRecord) => ({
      peerId: p.id.toString(),
      alive: p.alive,
      overdue: this.membership.isOverdue(p.id),
      connected: connected.has(p.id.toString()),
      lastSeenMs: now - p.lastSeen,
      heartbeatMs: p.interval,
      addrs: p.addrs,
      chunks: p.chunks,
      bytes: p.bytes,
      free: Number.isFinite(p.free) ? p.free : null
    })).sort((a, b) => a.peerId.localeCompare(b.peerId))
  }

  /** The files this peer put. */
  async files (): Promise<FileEntry[]> {
    return this.keyring.list()
  }

  #putComponents (): Parameters<typeof putFile>[1] {
    return { node: this.node, store: this.store, protocol: this.protocol, membership: this.membership, announcer: this.announcer, log: this.#log }
  }

  async #reannounce (): Promise<void> {
    try {
      for await (const { cid } of this.store.list()) this.announcer.announce(cid)
    } catch (err: any) {
      this.#log('re-announcing stored chunks failed: %s', err.message)
    }
  }
}

/** Opens the repo (taking its lock), the stores and the libp2p node, and starts the peer. */
export async function createPeer (init: PeerInit): Promise<IonNetPeer> {
  const repo = new Repo(init.repo)
  await repo.init()
  await repo.lock()
  const cleanup: Array<() => Promise<unknown>> = [async () => repo.unlock()]
  try {
    const store = createChunkStore({ dir: repo.chunksDir, capacity: init.capacity, maxChunkSize: MAX_CHUNK_SIZE })
    await store.open()
    cleanup.unshift(async () => store.close())
    const datastore = new PeerCacheDatastore(new LevelDatastore(repo.datastoreDir), { flushInterval: PEER_RECORD_FLUSH })
    await datastore.open()
    cleanup.unshift(async () => datastore.close())
    const swarmKey = init.swarmKey ?? await readSwarmKey(repo.swarmKeyPath, true)
    const connectionBytes = new TransferClock()
    const node = await createNode({
      swarmKey,
      privateKey: await repo.identity(),
      datastore,
      listen: init.listen ?? DEFAULT_LISTEN,
      mdns: init.mdns ?? false,
      pingInterval: init.pingInterval,
      onBytesFrom: (peer) => { connectionBytes.heard(peer) }
    })
    cleanup.unshift(async () => node.stop())
    const peer = new IonNetPeer({ repo, node, store, datastore, private: swarmKey != null, connectionBytes }, init)
    await peer.start()
    return peer
  } catch (err) {
    for (const fn of cleanup) await fn().catch(() => {})
    throw err
  }
}
