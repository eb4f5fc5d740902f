import { DEFAULT_REPLICAS, cidForChunk } from '@ionnet/chunk-store'
import { FIND_PROVIDERS_TIMEOUT, MAX_PROVIDERS } from './constants.ts'
import { ChunkUnavailableError } from './errors.ts'
import { rankPeers, splitDoubtful } from './placement.ts'
import type { ChunkProtocol } from './chunk-protocol.ts'
import type { Membership } from './membership.ts'
import type { IonNetNode } from './node.ts'
import type { ChunkStore } from '@ionnet/chunk-store'
import type { Logger, PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

/** Options of a fetch. */
export interface FetchOptions {
  signal?: AbortSignal
  /** Skips the local store, e.g. to replace a local copy that went bad. */
  remoteOnly?: boolean
  /**
   * Bytes of the chunk, where known (its plaintext size will do): only peers with that much room could have taken
   * it lately. Unknown, any peer with room at all counts.
   */
  size?: number
}

export interface FetcherComponents {
  node: IonNetNode
  store: ChunkStore
  protocol: ChunkProtocol
  membership: Membership
  log: Logger
}

/** Placement candidates asked before the DHT: the nearest live peers usually hold the chunk. */
const PLACEMENT_CANDIDATES = 6

/**
 * Then the nearest live peers with room for the chunk, as many as a put makes copies by default: where a put or a
 * repair places a chunk when the peers nearest to it are full. Without them, a get right after such a put failed
 * until the holders had announced their copies on the DHT, and found every such chunk only by a DHT lookup.
 */
const ROOMY_CANDIDATES = DEFAULT_REPLICAS

/** Peers silent for less than this are still asked, after everyone else. */
const LATE_PEER_WINDOW = 60_000

/** Rounds over the candidates before a chunk counts as unavailable, and the pause between rounds (ms, grows). */
const FETCH_ATTEMPTS = 3
const RETRY_BACKOFF = 250

/**
 * Score bounds: a peer that lied or stalled sinks to the back of the line and climbs back slowly. Good service
 * only earns back lost trust and never lifts a peer above the others: a bonus would let whichever peer answered the
 * manifest first take every later request, so one holder would carry all the load and a bad one could hide.
 */
const SCORE_MAX = 0
const SCORE_PENALTY = 10
const SCORE_MIN = -100

/**
 * Errors only a misbehaving peer causes: bytes that do not hash to the CID, a size that does not match, a frame cut
 * short by the sender's own close (a crash or a lost connection resets the stream instead).
 */
const MISBEHAVIOUR = new Set(['ProtocolError', 'InvalidDataLengthError', 'InvalidDataLengthLengthError', 'InvalidMessageLengthError', 'UnexpectedEOFError'])

/**
 * Finds a chunk on the network and returns its verified bytes. Candidates come first from placement (the live
 * peers nearest the chunk, who hold it unless the network changed), then from DHT provider records. Peers that
 * sent bad bytes, broke the protocol or stalled are scored down and tried last next time.
 */
export class ChunkFetcher {
  readonly #components: FetcherComponents
  readonly #scores = new Map<string, number>()

  constructor (components: FetcherComponents) {
    this.#components = components
  }

  /** The chunk's bytes from the local store or the network; ChunkUnavailableError if nobody reachable has it. */
  async fetch (cid: CID, options: FetchOptions = {}): Promise<Uint8Array> {
    return this.#fetch(cid, undefined, options)
  }

  /**
   * Like `fetch`, but a chunk's bytes from the network are judged by `open` instead of by their hash: it returns what
   * they stand for, or undefined when they are not the chunk (the peer is blamed and the next one asked). An error
   * `open` throws ends the fetch. A get opens chunks by decrypting them, since authentication already rejects any
   * other bytes, and so saves hashing every byte a second time.
   */
  async fetchOpened<T> (cid: CID, open: (bytes: Uint8Array) => T | undefined, options: FetchOptions = {}): Promise<T> {
    return this.#fetch(cid, open, options)
  }

  /** Without `open`, the bytes themselves once they hash to `cid`. */
  async #fetch<T> (cid: CID, open: ((bytes: Uint8Array) => T | undefined) | undefined, options: FetchOptions): Promise<T> {
    const { store, log } = this.#components
    if (options.remoteOnly !== true && await store.has(cid)) {
      // bytes to be opened are checked by opening (authentication): the store need not hash them first
      const bytes = await store.get(cid, { signal: options.signal, verify: open == null }).catch((err: any) => {
        // a rotten local copy: the network still has good ones (scrub replaces ours)
        log('local copy of %s unusable: %s', cid, err.message)
      })
      const opened = bytes == null || open == null ? bytes as T | undefined : open(bytes)
      if (opened !== undefined) return opened
      if (bytes != null) log('local copy of %s does not match its CID', cid)
    }
    const judge = open ?? ((bytes: Uint8Array) => cidForChunk(bytes).equals(cid) ? bytes as T : undefined)
    // an error `open` throws is its verdict on right bytes, not the peer's fault: it ends the fetch
    let fatal: { error: unknown } | undefined
    const guarded = (bytes: Uint8Array): T | undefined => {
      try {
        return judge(bytes)
      } catch (error) {
        fatal = { error }
        throw error
      }
    }
    // peers that answered "not found" are not asked again; the others may have failed for a moment (a reset
    // stream, a busy peer), so they get another chance after a short pause
    const notFound = new Set<string>([this.#components.node.peerId.toString()])
    let errors: string[] = []
    for (let attempt = 0; attempt < FETCH_ATTEMPTS; attempt++) {
      if (attempt > 0) await sleep(RETRY_BACKOFF * attempt, options.signal)
      errors = []
      let transient = 0
      const answer = await this.#firstAnswer(cid, new Set(notFound), guarded, options, (peer, err) => {
        if (fatal != null) throw fatal.error
        options.signal?.throwIfAborted()
        if (err.remoteCode === 'ERR_CHUNK_NOT_FOUND') notFound.add(peer.toString())
        else {
          transient++
          this.#penalize(peer, err)
        }
        errors.push(`${peer.toString().slice(-8)}: ${err.remoteCode ?? err.name}`)
        log('fetching %s from %p failed: %s', cid, peer, err.message)
      })
      if (answer !== undefined) return answer.value
      if (transient === 0) break
    }
    throw new ChunkUnavailableError(`no reachable peer has chunk ${cid.toString()}${errors.length > 0 ? ` (tried ${errors.join(', ')})` : ''}`)
  }

  /**
   * Asks the candidates for the chunk one after the other until one answers with it. While the peer asked has sent
   * nothing at all since the request began, for the protocol's `hedgeAfter`, the next candidate is asked as well and
   * the first answer wins: a frozen holder never answers and never resets, and its exchange would hold the get until
   * the peer silence limit ended it. At most two peers are asked at once, and the exchange that did not win is ended.
   * Calls `failed` for each peer whose exchange failed (it may throw to end the fetch); resolves undefined when every
   * candidate failed.
   */
  async #firstAnswer<T> (cid: CID, tried: Set<string>, judge: (bytes: Uint8Array) => T | undefined, options: FetchOptions, failed: (peer: PeerId, err: any) => void): Promise<{ value: T } | undefined> {
    const { protocol } = this.#components
    // ends a DHT lookup for more candidates once an answer came
    const done = new AbortController()
    const signal = options.signal == null ? done.signal : AbortSignal.any([options.signal, done.signal])
    const candidates = this.#candidates(cid, tried, options.size, signal)
    const asking = new Map<PeerId, Asked<T>>()
    let pulling: Promise<Outcome<T>> | undefined
    let exhausted = false
    const pull = (): void => {
      if (pulling != null || exhausted) return
      pulling = candidates.next().then(
        next => next.done === true ? { kind: 'exhausted' } : { kind: 'candidate', peer: next.value },
        error => ({ kind: 'exhausted', error })
      )
    }
    const ask = (peer: PeerId): void => {
      const stop = new AbortController()
      const outcome: Promise<Outcome<T>> = protocol.fetch(peer, cid, judge, { signal: options.signal == null ? stop.signal : AbortSignal.any([options.signal, stop.signal]) })
        .then(value => ({ kind: 'answer', peer, value }), error => ({ kind: 'failed', peer, error }))
      asking.set(peer, { since: Date.now(), stop, outcome })
    }
    // nothing came from the peer since it was asked, nor for this long before
    const silentFor = ([peer, asked]: [PeerId, Asked<T>]): number => Math.min(Date.now() - asked.since, protocol.silenceOf(peer.toString()))
    pull()
    try {
      while (true) {
        const waits = [...asking.values()].map(a => a.outcome)
        if (pulling != null) waits.push(pulling)
        if (waits.length === 0) return undefined
        // one peer asked and no other on the way: look again when it would have been silent long enough, unless it
        // sends something meanwhile
        const [only] = asking.size === 1 && pulling == null && !exhausted ? asking : []
        const check = only != null ? delay(protocol.hedgeAfter - silentFor(only)) : undefined
        if (check != null) waits.push(check.done)
        const outcome = await Promise.race(waits)
        check?.cancel()
        if (outcome.kind === 'answer') {
          this.#reward(outcome.peer)
          return { value: outcome.value }
        } else if (outcome.kind === 'failed') {
          asking.delete(outcome.peer)
          failed(outcome.peer, outcome.error)
          if (asking.size === 0) pull()
        } else if (outcome.kind === 'candidate') {
          pulling = undefined
          options.signal?.throwIfAborted()
          ask(outcome.peer)
        } else if (outcome.kind === 'exhausted') {
          pulling = undefined
          exhausted = true
          options.signal?.throwIfAborted()
          if (outcome.error != null) throw outcome.error
        } else if (only != null && silentFor(only) >= protocol.hedgeAfter) {
          pull()
        }
      }
    } finally {
      done.abort()
      void candidates.return(undefined).catch(() => {})
      for (const [peer, asked] of asking) {
        asked.stop.abort()
        // it stayed silent while another peer answered: ask it after the others next time
        if (protocol.silenceOf(peer.toString()) >= protocol.hedgeAfter) this.#penalize(peer, new Error('silent while another peer answered'))
      }
    }
  }

  /** Forgets scores, e.g. after the network changed a lot. */
  resetScores (): void {
    this.#scores.clear()
  }

  async * #candidates (cid: CID, tried: Set<string>, size = 1, signal?: AbortSignal): AsyncGenerator<PeerId> {
    const ranked = rankPeers(cid, this.#components.membership.live())
    const roomy = ranked.filter(p => p.free >= size).slice(0, ROOMY_CANDIDATES)
    // a set: where nobody is full, the roomy peers are the nearest ones again
    const placed = [...new Set([...ranked.slice(0, PLACEMENT_CANDIDATES), ...roomy])].map(p => p.id)
    // a peer that stalled and has been silent since, or missed its last beat, is asked last: it may be frozen, or
    // the only holder
    const doubtful = (p: PeerId): boolean => this.#components.protocol.unresponsive(p) || this.#components.membership.isOverdue(p)
    const nearby = splitDoubtful(placed, doubtful)
    for (const peer of [...this.#byScore(nearby.sound), ...nearby.doubtful]) {
      if (tried.has(peer.toString())) continue
      tried.add(peer.toString())
      yield peer
    }
    const fromDht: PeerId[] = []
    for await (const peer of this.providers(cid, signal)) fromDht.push(peer)
    // last, peers that missed a few beats: a peer busy with a big transfer can be late, not gone
    const now = Date.now()
    const late = this.#components.membership.peers().filter(p => !p.alive && now - p.lastSeen < LATE_PEER_WINDOW)
    const lastResort = rankPeers(cid, late).slice(0, PLACEMENT_CANDIDATES).map(p => p.id)
    const recorded = splitDoubtful(fromDht, doubtful)
    for (const peer of [...this.#byScore(recorded.sound), ...recorded.doubtful, ...lastResort]) {
      if (tried.has(peer.toString())) continue
      tried.add(peer.toString())
      yield peer
    }
  }

  /** Providers of `cid` from DHT records (not checked: a record only says a peer once had it). */
  async * providers (cid: CID, signal?: AbortSignal): AsyncGenerator<PeerId> {
    const { node, log } = this.#components
    // with no connection the DHT has nobody to ask, and a query would only wait for its timeout
    if (node.getConnections().length === 0) return
    const timeout = AbortSignal.timeout(FIND_PROVIDERS_TIMEOUT)
    let n = 0
    try {
      for await (const info of node.contentRouting.findProviders(cid, { signal: signal == null ? timeout : AbortSignal.any([signal, timeout]) })) {
        yield info.id
        if (++n >= MAX_PROVIDERS) break
      }
    } catch (err: any) {
      signal?.throwIfAborted()
      log('finding providers of %s: %s', cid, err.message)
    }
  }

  #byScore (peers: PeerId[]): PeerId[] {
    // stable sort keeps placement order among equally trusted peers
    return peers.map((p, i) => ({ p, i, s: this.#scores.get(p.toString()) ?? 0 }))
      .sort((a, b) => b.s - a.s || a.i - b.i)
      .map(x => x.p)
  }

  #reward (peer: PeerId): void {
    const k = peer.toString()
    this.#scores.set(k, Math.min(SCORE_MAX, (this.#scores.get(k) ?? 0) + 1))
  }

  #penalize (peer: PeerId, err: Error): void {
    const k = peer.toString()
    // wrong bytes or a broken frame prove the peer misbehaved; a timeout or reset may be a busy peer or a bad moment
    const score = MISBEHAVIOUR.has(err.name) ? SCORE_MIN : (this.#scores.get(k) ?? 0) - SCORE_PENALTY
    this.#scores.set(k, Math.max(SCORE_MIN, score))
  }
}

/** A chunk request under way in a fetch. */
interface Asked<T> {
  since: number
  stop: AbortController
  outcome: Promise<Outcome<T>>
}

/**
 * What a fetch waits for next: a peer's answer or failure, the next candidate (or none left), or the time to look
 * whether its peer went silent.
 */
type Outcome<T> =
  | { kind: 'answer', peer: PeerId, value: T }
  | { kind: 'failed', peer: PeerId, error: any }
  | { kind: 'candidate', peer: PeerId }
  | { kind: 'exhausted', error?: any }
  | { kind: 'check' }

/** A timer to race against other promises, cancelled once the race is over. */
function delay (ms: number): { done: Promise<{ kind: 'check' }>, cancel: () => void } {
  let timer: ReturnType<typeof setTimeout> | undefined
  const done = new Promise<{ kind: 'check' }>(resolve => { timer = setTimeout(() => { resolve({ kind: 'check' }) }, ms) })
  return { done, cancel: () => { clearTimeout(timer) } }
}

async function sleep (ms: number, signal?: AbortSignal): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms)
    signal?.addEventListener('abort', () => { clearTimeout(t); reject(signal.reason) }, { once: true })
  })
}
