import { decode, encode } from 'cborg'
import { MAX_HEARTBEAT_INTERVAL, PROTOCOL_VERSION } from './constants.ts'

/** What a peer says about itself every heartbeat interval. */
export interface Heartbeat {
  /** Protocol version of the sender's software. */
  version: number
  /** Sender's peer ID (must match the gossipsub signer). */
  peer: string
  addrs: string[]
  /** Grows with every beat and across restarts, so replays and reordering are ignored. */
  seq: number
  /** The sender's interval in ms: receivers judge its silence by its own pace. */
  interval: number
  chunks: number
  bytes: number
  /** Free capacity in bytes, -1 when unlimited. */
  free: number
}

const MAX_ADDRS = 32
const MAX_ADDR_LENGTH = 300

export function encodeHeartbeat (hb: Heartbeat): Uint8Array {
  return encode({ v: hb.version, p: hb.peer, a: hb.addrs, s: hb.seq, i: hb.interval, c: hb.chunks, b: hb.bytes, f: hb.free })
}

/** Parses a heartbeat from the network; returns undefined for anything off-shape (it is then dropped and counted). */
export function decodeHeartbeat (bytes: Uint8Array): Heartbeat | undefined {
  let m: any
  try {
    m = decode(bytes, { strict: true, rejectDuplicateMapKeys: true, allowUndefined: false })
  } catch {
    return undefined
  }
  if (m == null || typeof m !== 'object' || Array.isArray(m)) return undefined
  const ints = [m.s, m.i, m.c, m.b]
  if (!ints.every(n => Number.isSafeInteger(n) && n >= 0)) return undefined
  if (!Number.isSafeInteger(m.f) || m.f < -1) return undefined
  if (!Number.isSafeInteger(m.v) || m.v < PROTOCOL_VERSION) return undefined
  if (typeof m.p !== 'string' || m.p.length > 100) return undefined
  if (!Array.isArray(m.a) || m.a.length > MAX_ADDRS || !m.a.every((a: unknown) => typeof a === 'string' && a.length <= MAX_ADDR_LENGTH)) return undefined
  if (m.i < 10 || m.i > MAX_HEARTBEAT_INTERVAL) return undefined
  return { version: m.v, peer: m.p, addrs: m.a, seq: m.s, interval: m.i, chunks: m.c, bytes: m.b, free: m.f }
}

/**
 * The interval a peer beats at with `peers` live peers counted (itself included): its set interval up to `scaleFrom`
 * peers, then growing in proportion, so the network's beats per interval stay near `scaleFrom` (see HEARTBEAT_PEERS).
 */
export function scaledInterval (interval: number, peers: number, scaleFrom: number): number {
  return Math.min(MAX_HEARTBEAT_INTERVAL, Math.max(interval, Math.round(interval * peers / scaleFrom)))
}
