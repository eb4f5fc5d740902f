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

const CAPPED = Symbol.for('ionnet.yamux-frame-cap')

/**
 * Largest yamux data frame we send. js-yamux (8.0.1) lets a stream send frames as large as its window, so a chunk left
 * in frames of a MiB or more, and the reader, which takes a frame in only once all of it is there, heard nothing of a
 * chunk for seconds on a slow link (1 MiB frames at 4 Mbit/s: 2 s each, 4 s with two connections sharing the link).
 * Its watchdog then took a busy peer for silent, and so did membership, whose heartbeats queue behind the same frames:
 * netlab's 4 Mbit/s get took 11.1–13.6 s, and 22.3 and 43.7 s in 2 of 17 runs (it also failed once in CI), against
 * 11.3–12.1 s in 5 runs with 256 KiB frames. 64 KiB frames, yamux's default for a connection, did as well there
 * (11.2–11.4 s in 14 runs) but cost an uploader 0.8–1.2 more CPU-seconds per 256 MiB put with 3 copies; 256 KiB
 * frames cost nothing measurable (2.97–3.39 CPU-seconds against 3.30–3.31, two runs each).
 */
export const MAX_FRAME = 256 * 1024

/** Makes every yamux stream of the process send its data in frames of at most MAX_FRAME bytes. */
export function capYamuxFrames (): void {
  const proto = YamuxStream.prototype as any
  if (proto[CAPPED] === true) return
  const original: (buf: any) => { sentBytes: number, canSendMore: boolean } = proto.sendData
  if (typeof original !== 'function') return
  proto.sendData = function (this: any, buf: any): { sentBytes: number, canSendMore: boolean } {
    if (buf.byteLength <= MAX_FRAME) return original.call(this, buf)
    // what js-yamux would have sent as one frame goes as several, all at once, as the one frame would have: a
    // busy muxer is told so after the last of them (waiting for it after every frame cost the sender CPU)
    let sentBytes = 0
    let canSendMore = true
    while (buf.byteLength > 0) {
      const piece = buf.sublist(0, Math.min(MAX_FRAME, buf.byteLength))
      const size = piece.byteLength
      const result = original.call(this, piece)
      buf.consume(result.sentBytes)
      sentBytes += result.sentBytes
      canSendMore = result.canSendMore
      // the send window ran out: the caller keeps the rest for later, as with one frame
      if (result.sentBytes < size) break
    }
    return { sentBytes, canSendMore }
  }
  proto[CAPPED] = true
}
