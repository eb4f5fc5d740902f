import { CHUNK_TIMEOUT, HEDGE_SILENCE, MIN_TRANSFER_RATE, PEER_SILENCE } from './constants.ts'
import type { Stream } from '@libp2p/interface'

/**
 * When chunk bytes last arrived, from any peer. A chunk may wait in silence for reasons that are not its peer's
 * fault: streams to one peer share a connection, and yamux sends what each stream was given in the order it was
 * given, so a chunk waits behind those queued before it; and where connections to several peers share a slow link,
 * TCP may starve one of them for seconds while another fills the link (netlab, 4 Mbit/s: in the gets watched, single
 * peers went silent for over 4 s). Silence therefore counts for this peer as a whole, across all its chunk streams:
 * a stalled peer is caught once the other transfers are done, or at the latest by the exchange's time limit.
 */
export class TransferClock {
  #heard = -Infinity
  readonly #from = new Map<string, number>()

  /** Chunk bytes, or a put's report of their progress, arrived from `peer`. */
  heard (peer: string): void {
    this.#heard = performance.now()
    this.#from.set(peer, this.#heard)
  }

  /** ms since chunk bytes last arrived from anyone. */
  silence (): number {
    return performance.now() - this.#heard
  }

  /** ms since chunk bytes last arrived from `peer`; Infinity if they never did. */
  silenceOf (peer: string): number {
    return performance.now() - (this.#from.get(peer) ?? -Infinity)
  }
}

/**
 * How long a fetch waits on a peer that sends nothing at all, given the idle time (`--chunk-timeout`): PEER_SILENCE,
 * or longer in the same proportion where a longer idle time asks for patience (a slow or lossy link).
 */
export function peerSilence (idle: number): number {
  return Math.max(PEER_SILENCE, idle * PEER_SILENCE / CHUNK_TIMEOUT)
}

/** How long a fetch's peer may be silent before the next candidate is asked too, given the idle time: HEDGE_SILENCE, scaled as peerSilence is. */
export function hedgeSilence (idle: number): number {
  return Math.max(HEDGE_SILENCE, idle * HEDGE_SILENCE / CHUNK_TIMEOUT)
}

/**
 * Peers that let an exchange run out of time and have sent nothing since. A frozen peer (a suspended laptop, a hung
 * process) keeps its connections open and answers nothing, and membership counts it alive until it has missed its
 * heartbeats for the dead-after time (15 s on a small network, 37.5 s at 50 peers): until then a put chose it for
 * chunk after chunk, and each waited out the stall again (test/frozen-peer.spec.ts: a 16 MiB put with 3 copies, and
 * the get after it, took 13 s, now 4). Any bytes from the peer, on any connection, clear its record: a slow peer
 * still talks, and a thawed one is chosen again at once.
 */
export class Stalls {
  /** When an exchange with each peer last ran out of time (performance.now() ms). */
  readonly #at = new Map<string, number>()

  /** An exchange with `peer` ran out of time just now. */
  record (peer: string): void {
    this.#at.set(peer, performance.now())
  }

  /** Whether `peer` stalled and has been silent ever since: `silence` is ms since any bytes came from it. */
  silentSince (peer: string, silence: number): boolean {
    const at = this.#at.get(peer)
    if (at === undefined) return false
    if (performance.now() - silence > at) {
      this.#at.delete(peer)
      return false
    }
    return true
  }
}

/**
 * The time limits of one chunk exchange. A chunk takes as long as its bytes need on the link it crosses, so a fixed
 * deadline per chunk failed every get through a 1 Mbit/s link: three 2 MiB chunks in flight needed about 50 s each,
 * against 20 s. Instead, while bytes are expected from the other side, the exchange fails once none arrived for
 * `idle` ms (a stalled peer is still caught as fast as before); and it fails in any case after `idle` plus the time
 * its bytes need at MIN_TRANSFER_RATE, which bounds what an exchange holds when its progress cannot be seen (bytes
 * we send leave through buffers that libp2p does not report on).
 */
export class Watchdog {
  /** Aborts when the exchange stalled or ran out of time, or when the caller's signal aborts. */
  readonly signal: AbortSignal
  readonly #controller = new AbortController()
  readonly #idle: number
  /** When the exchange runs out of time (performance.now() ms), Infinity once done; and how long it was allowed. */
  #deadline = Infinity
  #allowed = 0
  #ceiling?: ReturnType<typeof setTimeout>
  #silence?: ReturnType<typeof setTimeout>
  #stream?: Stream
  #onMessage = (): void => {}

  constructor (init: { idle: number, bytes: number, signal?: AbortSignal }) {
    this.#idle = init.idle
    this.signal = init.signal == null ? this.#controller.signal : AbortSignal.any([init.signal, this.#controller.signal])
    this.allow(init.bytes)
  }

  /** From now on the exchange may take `idle` plus what `bytes` need at the slowest rate it allows. */
  allow (bytes: number): void {
    this.#allowed = this.#idle + bytes / MIN_TRANSFER_RATE * 1000
    this.#arm(performance.now() + this.#allowed)
  }

  /**
   * `bytes` more share the link with this exchange from now on (another send of this peer began): its time limit
   * moves out by what they need at the slowest rate allowed. Nothing once the exchange is done.
   */
  extend (bytes: number): void {
    if (this.#deadline === Infinity) return
    const more = bytes / MIN_TRANSFER_RATE * 1000
    this.#allowed += more
    this.#arm(this.#deadline + more)
  }

  #arm (deadline: number): void {
    clearTimeout(this.#ceiling)
    this.#deadline = deadline
    const ms = Math.ceil(this.#allowed)
    this.#ceiling = setTimeout(() => { this.#abort(`took more than ${ms} ms`) }, Math.max(0, deadline - performance.now()))
    this.#ceiling.unref()
  }

  /**
   * Fails the exchange once no chunk bytes arrived, on `stream` or any other, for the idle time, until `quiet` or
   * `done`. Bytes on `stream` count as heard from `peer`. Without a stream, while one is being opened and its
   * protocol agreed, silence counts all the same: a frozen peer keeps its connection open and never answers. With
   * `alone`, the exchange also fails once `alone.silence()` (ms since anything came from the peer itself) reaches
   * `alone.limit`, whatever other peers send.
   */
  expect (stream: Stream | undefined, clock: TransferClock, peer: string, alone?: { limit: number, silence(): number }): void {
    this.quiet()
    if (stream != null) {
      this.#stream = stream
      this.#onMessage = () => { clock.heard(peer) }
      stream.addEventListener('message', this.#onMessage)
    }
    const started = performance.now()
    const check = (): void => {
      const since = performance.now() - started
      const silent = Math.min(clock.silence(), since)
      if (silent >= this.#idle) {
        this.#abort(`heard no chunk bytes for ${Math.round(silent)} ms`)
        return
      }
      let next = this.#idle - silent
      if (alone != null) {
        const quiet = Math.min(alone.silence(), since)
        if (quiet >= alone.limit) {
          this.#abort(`heard nothing from the peer for ${Math.round(quiet)} ms`)
          return
        }
        next = Math.min(next, alone.limit - quiet)
      }
      this.#silence = setTimeout(check, next)
      this.#silence.unref()
    }
    this.#silence = setTimeout(check, Math.min(this.#idle, alone?.limit ?? Infinity))
    this.#silence.unref()
  }

  /** Nothing is expected from the other side for now (this side is busy, or sending). */
  quiet (): void {
    clearTimeout(this.#silence)
    this.#silence = undefined
    this.#stream?.removeEventListener('message', this.#onMessage)
    this.#stream = undefined
  }

  /** Whether the exchange stalled or ran out of time (not whether the caller gave up). */
  get expired (): boolean {
    return this.#controller.signal.aborted
  }

  /** Clears the timers: call it when the exchange ends, whichever way. */
  done (): void {
    this.quiet()
    clearTimeout(this.#ceiling)
    this.#deadline = Infinity
  }

  #abort (why: string): void {
    this.done()
    // the name AbortSignal.timeout gives, which callers already treat as a timeout rather than misbehaviour
    this.#controller.abort(new DOMException(`chunk exchange ${why}`, 'TimeoutError'))
  }
}
