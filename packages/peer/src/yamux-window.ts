import { StreamState, YamuxStream } from '@chainsafe/libp2p-yamux/stream'

const PATCHED = Symbol.for('ionnet.yamux-window-updates')

/**
 * The share of a stream's receive window left unused when we top it up. go-yamux and rust-yamux wait for half, but a
 * chunk stream carries one chunk of 2 MiB and a few bytes more, just over half the 4 MiB window: under that rule the
 * reader of every chunk sent one last update that the sender, done by then, never used (128 frames through yamux,
 * TLS and a socket write per 256 MiB get). With a quarter, the largest chunk a peer takes (4 MiB) still gets its
 * update with 1 MiB of window to spare. Alternating 256 MiB gets, three runs of three: first gets 168.4–193 MiB/s
 * against 160.8–166.3, the reader's CPU 1.18–1.42 s against 1.40–1.50.
 */
const TOP_UP_BELOW = 1 / 4

/**
 * js-yamux (8.0.1) answers every data frame it reads with a window update, so each small message on a long-lived
 * stream (a gossip frame, a DHT reply) costs a second frame back through yamux, TLS and a socket write: 10% of an
 * idle peer's CPU samples in a 50-peer network were that reply. Like go-yamux and rust-yamux, this tops the window
 * up only once most of it is used (TOP_UP_BELOW), which the yamux spec allows (it leaves the timing to the
 * receiver), on every yamux stream of the process. A stream opening or closing (its flags) and a paused stream keep
 * js-yamux's own handling.
 */
export function batchYamuxWindowUpdates (): void {
  const proto = YamuxStream.prototype as any
  if (proto[PATCHED] === true) return
  const original: () => void = proto.sendWindowUpdate
  // a js-yamux whose streams no longer look like this one keeps its own behaviour
  if (typeof original !== 'function') return
  proto.sendWindowUpdate = function (this: any): void {
    if (this.state === StreamState.Established && typeof this.recvWindow === 'number' && this.recvWindowCapacity > this.recvWindow * TOP_UP_BELOW) return
    original.call(this)
  }
  proto[PATCHED] = true
}
