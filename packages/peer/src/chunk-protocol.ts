import { ChunkMismatchError, cidForChunk } from '@ionnet/chunk-store'
import { lpStream } from '@libp2p/utils'
import { CHUNK_PROTOCOL, CHUNK_TIMEOUT, MAX_HEADER_SIZE, PUT_PROGRESS_INTERVAL } from './constants.ts'
import { ProtocolError, RemoteError } from './errors.ts'
import { Stalls, TransferClock, Watchdog, hedgeSilence, peerSilence } from './watchdog.ts'
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from './messages.ts'
import type { ChunkStore } from '@ionnet/chunk-store'
import type { Request, Response } from './messages.ts'
import type { IonNetNode } from './node.ts'
import type { Connection, Logger, PeerId, Stream, StreamMessageEvent } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

export interface ChunkProtocolComponents {
  node: IonNetNode
  store: ChunkStore
  log: Logger
  /** Called after a chunk sent by another peer was stored, so it can be announced. */
  onStored(cid: CID, from: PeerId): void
  /** Called whenever chunk bytes move, so background work can yield to transfers (and meters can count them). */
  onTransfer?(direction: 'in' | 'out', bytes: number): void
  /**
   * Stores a chunk that a put asked this peer to pass on, along `chain` (put.ts, storeAlong); resolves how many of
   * those peers hold it. Without it, this peer passes nothing on and says so.
   */
  forward?(chain: PeerId[], cid: CID, bytes: Uint8Array, replicas: number, signal: AbortSignal): Promise<number>
  /** ms since any bytes came from `peer`, on any connection; chunk bytes alone count without it. */
  trafficSilence?(peer: string): number
}

/** What storing a chunk on a peer came to. */
export interface StoreResult {
  /** The peer held the chunk already. */
  had: boolean
  /** How many copies the peer and the peers it passed the chunk on to hold now. */
  copies: number
  /** False when the peer took no notice of the peers to pass it on to (it predates forwarding): copies is then 1. */
  forwarded: boolean
}

export interface ChunkProtocolInit {
  maxChunkSize: number
  timeout?: number
  /** ms between a put receiver's reports of its progress (PUT_PROGRESS_INTERVAL). */
  progressInterval?: number
}

/** Counters of what the protocol served, for the API and benchmarks. */
export interface ChunkProtocolStats {
  served: number
  servedBytes: number
  received: number
  receivedBytes: number
  rejected: number
  /** Chunk bytes that arrived, whichever side asked: fetched, and stored on us by others. */
  bytesIn: number
  /** Chunk bytes that left, whichever side asked: served to others, and stored by us on others. */
  bytesOut: number
}

/**
 * The chunk exchange over libp2p streams: one request per stream, so a slow chunk never holds up another and yamux
 * carries many in parallel over one connection.
 */
export class ChunkProtocol {
  readonly stats: ChunkProtocolStats = { served: 0, servedBytes: 0, received: 0, receivedBytes: 0, rejected: 0, bytesIn: 0, bytesOut: 0 }
  readonly #components: ChunkProtocolComponents
  readonly #maxChunkSize: number
  readonly #timeout: number
  readonly #progressInterval: number
  readonly #clock = new TransferClock()
  readonly #stalls = new Stalls()
  /** Chunk bytes this peer is sending now, in every exchange: they share its uplink. */
  #sending = 0
  /** The exchanges sending them: each must allow for the sends that begin while it runs, which share its link. */
  readonly #senders = new Set<Watchdog>()

  constructor (components: ChunkProtocolComponents, init: ChunkProtocolInit) {
    this.#components = components
    this.#maxChunkSize = init.maxChunkSize
    this.#timeout = init.timeout ?? CHUNK_TIMEOUT
    this.#progressInterval = init.progressInterval ?? PUT_PROGRESS_INTERVAL
  }

  async start (): Promise<void> {
    await this.#components.node.handle(CHUNK_PROTOCOL, async (stream, connection) => {
      await this.#serve(stream, connection)
    }, { maxInboundStreams: 512, maxOutboundStreams: 512 })
  }

  async stop (): Promise<void> {
    await this.#components.node.unhandle(CHUNK_PROTOCOL)
  }

  /**
   * Fetches a chunk from `peer` and hands its bytes to `open`, which returns what they stand for (the bytes, once they
   * hash to `cid`; the plaintext, once it decrypts), or undefined when they are not the chunk: then the peer sent bad
   * bytes and ProtocolError is thrown.
   */
  async fetch<T> (peer: PeerId, cid: CID, open: (bytes: Uint8Array) => T | undefined, options: { signal?: AbortSignal } = {}): Promise<T> {
    // the chunk's bytes come to us, so a slow link is fine as long as they keep coming
    return this.#exchange(peer, options.signal, this.#maxChunkSize, false, true, async (lp, signal) => {
      await lp.write(encodeRequest({ op: 'get', cid }), { signal })
      const res = await readResponse(lp, signal)
      if (res.size == null || res.size > this.#maxChunkSize) throw new ProtocolError('get response without a valid size')
      const bytes = (await lp.read({ signal })).subarray()
      if (bytes.length !== res.size) throw new ProtocolError(`peer sent ${bytes.length} bytes, announced ${res.size}`)
      const opened = open(bytes)
      if (opened === undefined) throw new ProtocolError(`peer sent bytes that do not match ${String(cid)}`)
      this.#moved('in', bytes.length)
      return opened
    })
  }

  /**
   * Stores a chunk on `peer`, which passes it on along `forward` (each peer there passing it on to the ones after it),
   * so that a put with several copies sends the chunk over this peer's uplink once. The request and the bytes go in
   * one write, without waiting for the peer to accept them first: every put has a secret of its own, so a peer that
   * already holds a chunk, or is too full for it, is rare (placement skips peers whose heartbeat says they are full),
   * while waiting cost every chunk a round trip between two busy processes: 5.9 ms of 34 (medians) in a put with
   * one copy. Three alternating runs of 256 MiB puts: with one copy 106.6–151.8 MiB/s against 103.4–134.7, with
   * three 64.4–78 against 58.9–75.7.
   */
  async store (peer: PeerId, cid: CID, bytes: Uint8Array, replicas: number, options: { signal?: AbortSignal, forward?: PeerId[] } = {}): Promise<StoreResult> {
    const forward = options.forward ?? []
    // libp2p does not say when our bytes leave, but the receiver reports them arriving: silence means a stall, as in
    // a get, while a slow link, or a chunk queued behind others, keeps being heard of
    return this.#exchange(peer, options.signal, bytes.byteLength, true, true, async (lp, signal, watchdog) => {
      // the answer waits for every peer down the chain, each sending the chunk once more over its own link
      watchdog.extend(bytes.byteLength * forward.length)
      await lp.writeV([encodeRequest({ op: 'put', cid, size: bytes.byteLength, replicas, forward }), bytes], { signal })
      let res = await readResponse(lp, signal)
      while (res.progress !== undefined) res = await readResponse(lp, signal)
      if (res.have !== true) this.#moved('out', bytes.byteLength)
      return { had: res.have === true, copies: res.copies ?? 1, forwarded: res.copies !== undefined }
    })
  }

  /** Asks `peer` which of `cids` it holds, and the replica count it recorded for each (0 when not held). */
  async has (peer: PeerId, cids: CID[], options: { signal?: AbortSignal } = {}): Promise<{ has: boolean[], replicas: number[] }> {
    return this.#exchange(peer, options.signal, 0, false, true, async (lp, signal) => {
      await lp.write(encodeRequest({ op: 'has', cids }), { signal })
      const res = await readResponse(lp, signal)
      if (res.has?.length !== cids.length) throw new ProtocolError('has response does not match the request')
      return { has: res.has, replicas: res.replicas?.length === cids.length ? res.replicas : cids.map(() => 0) }
    })
  }

  /**
   * ms since anything last came from `peer`: chunk bytes, or any bytes on a connection where `trafficSilence` counts
   * them (Infinity if nothing ever did). A peer sending us chunks is alive even when its heartbeats are late: they
   * queue behind those very bytes on a busy link.
   */
  silenceOf (peer: string): number {
    return Math.min(this.#clock.silenceOf(peer), this.#components.trafficSilence?.(peer) ?? Infinity)
  }

  /** ms of silence from a fetch's peer after which the fetch asks another peer as well (`hedgeSilence`). */
  get hedgeAfter (): number {
    return hedgeSilence(this.#timeout)
  }

  /**
   * Whether an exchange with `peer` ran out of time and nothing at all has come from it since: frozen rather than
   * slow. Puts leave it out until it talks again.
   */
  unresponsive (peer: PeerId | string): boolean {
    const key = peer.toString()
    return this.#stalls.silentSince(key, this.silenceOf(key))
  }

  /**
   * The exchange `watchdog` watches sends `bytes` from now until the returned function is called. They share this
   * peer's uplink with every other send: its ceiling counts every byte being sent, its own included, and the
   * exchanges already sending allow for these. A put's first chunk, claimed when nothing else was queued, waited
   * behind the copies claimed just after it, past the limit its own bytes set, before they counted (netlab,
   * 1 Mbit/s: `took more than 9001 ms` in 1 of 5 CI runs).
   */
  #sendUnder (watchdog: Watchdog, bytes: number): () => void {
    this.#sending += bytes
    for (const sender of this.#senders) sender.extend(bytes)
    watchdog.allow(this.#sending)
    this.#senders.add(watchdog)
    return () => {
      this.#sending -= bytes
      this.#senders.delete(watchdog)
    }
  }

  #moved (direction: 'in' | 'out', bytes: number): void {
    if (direction === 'in') this.stats.bytesIn += bytes
    else this.stats.bytesOut += bytes
    this.#components.onTransfer?.(direction, bytes)
  }

  /**
   * One request on a stream of its own. `bytes` sets the exchange's ceiling (Watchdog.allow); where it `sends` them,
   * so do all the bytes this peer sends meanwhile (#sendUnder). `incoming` says whether it hears from the other side
   * while it runs (chunk bytes, or a put's progress), so that silence fails it.
   */
  async #exchange<T> (peer: PeerId, outer: AbortSignal | undefined, bytes: number, sends: boolean, incoming: boolean, fn: (lp: LpStream, signal: AbortSignal, watchdog: Watchdog) => Promise<T>): Promise<T> {
    const watchdog = new Watchdog({ idle: this.#timeout, bytes, signal: outer })
    // from now on, so that sends begun while this one dials count too
    const sent = sends ? this.#sendUnder(watchdog, bytes) : undefined
    const { signal } = watchdog
    try {
      // silence counts from the start: a frozen peer never answers the negotiation either, and a get waited there
      // until the exchange's ceiling (test/frozen-peer.spec.ts: 131 s, against its 3 s of allowed silence)
      // a fetch also gives up on a peer that has sent nothing at all for a while, though others keep sending
      const key = peer.toString()
      const alone = sends ? undefined : { limit: peerSilence(this.#timeout), silence: () => this.silenceOf(key) }
      if (incoming) watchdog.expect(undefined, this.#clock, key, alone)
      // an exchange that sends proposes the protocol with its request and bytes, without waiting for the answer: the
      // wait was a round trip between two busy processes on every chunk of a put (11 ms median, 34 at p90, of the
      // 70 ms a chunk with one copy took). Alternating 256 MiB puts on one network: with one copy 174.2–193.5 MiB/s
      // against 113.3–170, every peer's CPU 2.16–2.41 s against 2.37–3.77 (4 puts each); with three copies
      // 61.5–79.1 against 64.1–72.1. Other exchanges negotiate fully: with the optimistic kind a 512 MiB get left a
      // serving peer holding 234 MiB of buffers (205 MiB negotiated)
      const stream = await this.#components.node.dialProtocol(peer, CHUNK_PROTOCOL, { signal, negotiateFully: !sends })
      if (incoming) watchdog.expect(stream, this.#clock, key, alone)
      try {
        const result = await fn(this.#lp(stream), signal, watchdog)
        await stream.close({ signal })
        return result
      } catch (err: any) {
        stream.abort(err)
        throw err
      }
    } finally {
      sent?.()
      if (watchdog.expired) this.#stalls.record(peer.toString())
      watchdog.done()
    }
  }

  #lp (stream: Stream): LpStream {
    const max = this.#maxChunkSize + MAX_HEADER_SIZE
    return lpStream(stream, { maxDataLength: max, maxBufferSize: max })
  }

  async #serve (stream: Stream, connection: Connection): Promise<void> {
    // a put's bytes follow its request: both are watched as they arrive
    const watchdog = new Watchdog({ idle: this.#timeout, bytes: this.#maxChunkSize })
    watchdog.expect(stream, this.#clock, connection.remotePeer.toString())
    try {
      await this.#answer(stream, connection, watchdog)
    } finally {
      watchdog.done()
    }
  }

  async #answer (stream: Stream, connection: Connection, watchdog: Watchdog): Promise<void> {
    const { store, log } = this.#components
    const { signal } = watchdog
    const lp = this.#lp(stream)
    let req: Request
    try {
      req = decodeRequest((await lp.read({ signal })).subarray(), this.#maxChunkSize)
    } catch (err: any) {
      this.stats.rejected++
      log('bad request from %p: %s', connection.remotePeer, err.message)
      await lp.write(encodeResponse(failure(err)), { signal }).catch(() => {})
      stream.abort(err)
      return
    }
    let sent: (() => void) | undefined
    try {
      if (req.op === 'get') {
        // whoever asked checks every byte (hash or authentication), so hashing here too was a second pass over each
        // byte served: a fifth of a holder's CPU in a get. A copy rotted on disk is rejected there, and scrub finds it
        watchdog.quiet()
        const bytes = await store.get(req.cid, { signal, verify: false })
        // from here this side sends, unwatched: the reader catches a stall, and the bytes this peer is sending bound
        // how long it may take
        sent = this.#sendUnder(watchdog, bytes.length)
        await lp.writeV([encodeResponse({ ok: true, size: bytes.length }), bytes], { signal })
        this.stats.served++
        this.stats.servedBytes += bytes.length
        this.#moved('out', bytes.length)
      } else if (req.op === 'has') {
        watchdog.quiet()
        const replicas = await Promise.all(req.cids.map(async cid => await store.replicas(cid) ?? 0))
        await lp.write(encodeResponse({ ok: true, has: replicas.map(r => r > 0), replicas }), { signal })
      } else {
        await this.#receive(stream, lp, req, connection.remotePeer, watchdog)
      }
      await stream.close({ signal })
    } catch (err: any) {
      log('%s request from %p failed: %s', req.op, connection.remotePeer, err.message)
      if (stream.writeStatus === 'writable') await lp.write(encodeResponse(failure(err)), { signal }).catch(() => {})
      await stream.close({ signal }).catch(() => stream.abort(err))
    } finally {
      sent?.()
    }
  }

  async #receive (stream: Stream, lp: LpStream, req: Request & { op: 'put' }, from: PeerId, watchdog: Watchdog): Promise<void> {
    // until the answer, the sender hears from us: it cannot see its bytes leave, nor our disk at work, nor the peers
    // we pass the chunk on to
    const stopReports = this.#reportProgress(stream, lp, watchdog.signal)
    let taken: { answer: Response, stored: boolean }
    try {
      taken = await this.#take(lp, req, from, watchdog)
    } finally {
      stopReports()
    }
    await lp.write(encodeResponse(taken.answer), { signal: watchdog.signal })
    if (taken.stored) this.#components.onStored(req.cid, from)
  }

  /** Reads a put's bytes, stores them and passes them on; resolves the answer to send. */
  async #take (lp: LpStream, req: Request & { op: 'put' }, from: PeerId, watchdog: Watchdog): Promise<{ answer: Response, stored: boolean }> {
    const { store } = this.#components
    const { signal } = watchdog
    // the bytes follow the request at once, and are read before any answer, a refusal too: one answer per put
    const [had, data] = await Promise.all([store.has(req.cid), lp.read({ signal })])
    // storing is this peer's own work, within the time the chunk's bytes were allowed
    watchdog.quiet()
    if (data.byteLength !== req.size) throw new ProtocolError(`got ${data.byteLength} bytes, announced ${req.size}`)
    const chain = this.#chain(req, from)
    if (had) {
      // a repeated store may raise the replica count, never lower it
      if ((await store.replicas(req.cid) ?? 0) < req.replicas) await store.setReplicas(req.cid, req.replicas)
      const passed = chain.length === 0 ? 0 : await this.#passOn(chain, req, checked(req.cid, data.subarray()), watchdog)
      return { answer: { ok: true, have: true, copies: 1 + passed }, stored: false }
    }
    if (req.size > store.free) {
      this.stats.rejected++
      const why = Number.isFinite(store.capacity) ? `${store.size} of ${store.capacity} bytes used` : 'its disk is full'
      return { answer: { ok: false, code: 'ERR_CAPACITY_EXCEEDED', message: `peer is full (${why})` }, stored: false }
    }
    let passed = 0
    if (chain.length === 0) {
      // the store hashes and writes the pieces as they arrived: no copy of the whole chunk
      await store.putStream(req.cid, pieces(data), { replicas: req.replicas, signal })
    } else {
      // checked once, here, so the chunk goes on while it is written and synced rather than after, when every hop of
      // a chain added a write and an fsync to each chunk's time; the next peer checks it again as it arrives
      const bytes = checked(req.cid, data.subarray())
      const [own, along] = await Promise.allSettled([
        store.put(req.cid, bytes, { replicas: req.replicas, signal, verify: false }),
        this.#passOn(chain, req, bytes, watchdog)
      ])
      if (own.status === 'rejected') throw own.reason
      passed = along.status === 'fulfilled' ? along.value : 0
    }
    this.stats.received++
    this.stats.receivedBytes += data.byteLength
    this.#moved('in', data.byteLength)
    return { answer: { ok: true, copies: 1 + passed }, stored: true }
  }

  /**
   * The peers a put asks this one to pass its chunk on to: neither this peer nor the sender, each once (a chain that
   * loops would store nothing more), and none where this peer cannot pass chunks on.
   */
  #chain (req: Request & { op: 'put' }, from: PeerId): PeerId[] {
    if (this.#components.forward == null) return []
    const self = this.#components.node.peerId
    return (req.forward ?? []).filter((id, i, all) => !id.equals(self) && !id.equals(from) && all.findIndex(o => o.equals(id)) === i)
  }

  /** Stores a put's chunk along `chain`; resolves how many of its peers hold it. */
  async #passOn (chain: PeerId[], req: Request & { op: 'put' }, bytes: Uint8Array, watchdog: Watchdog): Promise<number> {
    // every peer down the chain sends the chunk once more, each over its own link
    watchdog.extend(req.size * chain.length)
    return await this.#components.forward!(chain, req.cid, bytes, req.replicas, watchdog.signal)
  }

  /**
   * Tells a put's sender every progress interval, until the answer, how many of its bytes arrived: it cannot see them
   * leave, and without word it could not tell a slow link, or a slow disk, from a stalled peer. An exchange shorter
   * than the interval (any on loopback) sends none. Returns what stops the reports.
   */
  #reportProgress (stream: Stream, lp: LpStream, signal: AbortSignal): () => void {
    let arrived = 0
    const onMessage = (evt: StreamMessageEvent): void => { arrived += evt.data.byteLength }
    stream.addEventListener('message', onMessage)
    const timer = setInterval(() => {
      // the answer is queued behind a report; a report that fails leaves the answer, or its absence, to say why
      lp.write(encodeResponse({ ok: true, progress: arrived }), { signal }).catch(() => {})
    }, this.#progressInterval)
    return () => {
      clearInterval(timer)
      stream.removeEventListener('message', onMessage)
    }
  }
}

type LpStream = ReturnType<typeof lpStream<Stream>>

/** `bytes` when they hash to `cid`; a chunk is passed on only once it is known to be the chunk. */
function checked (cid: CID, bytes: Uint8Array): Uint8Array {
  if (!cidForChunk(bytes).equals(cid)) throw new ChunkMismatchError(String(cid))
  return bytes
}

async function * pieces (list: Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield * list
}

async function readResponse (lp: LpStream, signal: AbortSignal): Promise<Response & { ok: true }> {
  const res = decodeResponse((await lp.read({ signal })).subarray())
  if (!res.ok) throw new RemoteError(res.message, res.code)
  return res
}

function failure (err: any): Response {
  const code = typeof err?.code === 'string' && err.code.startsWith('ERR_') ? err.code : 'ERR_INTERNAL'
  return { ok: false, code, message: String(err?.message ?? err).slice(0, 500) }
}
