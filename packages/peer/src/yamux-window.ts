import { StreamState, YamuxStream } from '@chainsafe/libp2p-yamux/stream'

const PATCHED = Symbol.for('ionnet.yamux-window-updates')

/**
 * js-yamux (8.0.1) answers every data frame it reads with a window update, so each small message on a long-lived
 * stream (a gossip frame, a DHT reply) costs a second frame back through yamux, TLS and a socket write: 10% of an
 * idle peer's CPU samples in a 50-peer network were that reply. go-yamux and rust-yamux top the window up only once
 * half of it is used, which the yamux spec allows (it leaves the timing to the receiver); this applies that rule to
 * every yamux stream of the process. A stream opening or closing (its flags) and a paused stream keep js-yamux's
 * own handling, and the sender never holds less than half a window, so it never waits on us.
 */
export function batchYamuxWindowUpdates (): void {
  const proto = YamuxStream.prototype as any
  if (proto[PATCHED] === true) return
  const original: () => void = proto.sendWindowUpdate
  // a js-yamux whose streams no longer look like this one keeps its own behaviour
  if (typeof original !== 'function') return
  proto.sendWindowUpdate = function (this: any): void {
    if (this.state === StreamState.Established && typeof this.recvWindow === 'number' && this.recvWindowCapacity > this.recvWindow / 2) return
    original.call(this)
  }
  proto[PATCHED] = true
}
