import { peerIdFromString } from '@libp2p/peer-id'
import { decode, encode } from 'cborg'
import { CID } from 'multiformats/cid'
import { MAX_REPLICAS } from './constants.ts'
import { ProtocolError } from './errors.ts'
import type { PeerId } from '@libp2p/interface'

/**
 * The chunk protocol's messages. Every request and response is one CBOR header frame, optionally followed by one
 * frame of chunk bytes. A put sends its bytes with the request, without waiting to be accepted: refusals (full, already
 * has it) are rare, and the wait cost every chunk a round trip.
 *
 *   get:  → {op:'get', cid}                    ← {ok:true, size} [bytes]       | {ok:false, code, message}
 *   put:  → {op:'put', cid, size, replicas, forward?} [bytes]
 *                                              ← {ok:true, progress}* then {ok:true, have, copies} | {ok:false, …}
 *         (progress: bytes of the put that arrived so far, reported every second until the answer; forward: peers
 *         the receiver passes the chunk on to, one after the other, each passing it on to the rest; copies: how many
 *         of the receiver and those peers hold the chunk now. A peer that predates forwarding ignores `forward` and
 *         answers without `copies`)
 *   has:  → {op:'has', cids}                    ← {ok:true, has:boolean[], replicas:number[]}
 */
export type Request =
  | { op: 'get', cid: CID }
  | { op: 'put', cid: CID, size: number, replicas: number, forward?: PeerId[] }
  | { op: 'has', cids: CID[] }

export type Response =
  | { ok: true, size?: number, have?: boolean, copies?: number, has?: boolean[], replicas?: number[], progress?: number }
  | { ok: false, code: string, message: string }

/** Largest `has` batch; keeps one header frame small. */
export const MAX_HAS_BATCH = 256

export function encodeRequest (req: Request): Uint8Array {
  switch (req.op) {
    case 'get': return encode({ op: 'get', cid: req.cid.bytes })
    case 'put': return encode({ op: 'put', cid: req.cid.bytes, size: req.size, replicas: req.replicas, ...(req.forward != null && req.forward.length > 0 ? { forward: req.forward.map(String) } : {}) })
    case 'has': return encode({ op: 'has', cids: req.cids.map(c => c.bytes) })
  }
}

/** Decodes a request from an untrusted peer; anything off-shape is a ProtocolError. */
export function decodeRequest (bytes: Uint8Array, maxChunkSize: number): Request {
  const msg = decodeMap(bytes)
  switch (msg.op) {
    case 'get':
      return { op: 'get', cid: toCid(msg.cid) }
    case 'put': {
      const size = msg.size
      const replicas = msg.replicas
      if (!Number.isSafeInteger(size) || size < 0 || size > maxChunkSize) throw new ProtocolError(`chunk size ${String(size)} out of range (max ${maxChunkSize})`)
      if (!Number.isSafeInteger(replicas) || replicas < 1 || replicas > MAX_REPLICAS) throw new ProtocolError(`replicas ${String(replicas)} out of range 1..${MAX_REPLICAS}`)
      if (msg.forward === undefined) return { op: 'put', cid: toCid(msg.cid), size, replicas }
      // the receiver and the peers it passes the chunk on to never outnumber the copies asked for
      if (!Array.isArray(msg.forward) || msg.forward.length >= replicas) throw new ProtocolError('bad forward list')
      return { op: 'put', cid: toCid(msg.cid), size, replicas, forward: msg.forward.map(toPeerId) }
    }
    case 'has': {
      if (!Array.isArray(msg.cids) || msg.cids.length > MAX_HAS_BATCH) throw new ProtocolError('bad has request')
      return { op: 'has', cids: msg.cids.map(toCid) }
    }
    default:
      throw new ProtocolError(`unknown request ${JSON.stringify(String(msg.op)).slice(0, 40)}`)
  }
}

export function encodeResponse (res: Response): Uint8Array {
  return encode(res)
}

/** Decodes a response from an untrusted peer. */
export function decodeResponse (bytes: Uint8Array): Response {
  const msg = decodeMap(bytes)
  if (msg.ok === true) {
    const res: Response = { ok: true }
    if (msg.size !== undefined) {
      if (!Number.isSafeInteger(msg.size) || msg.size < 0) throw new ProtocolError('bad size in response')
      res.size = msg.size
    }
    if (msg.have !== undefined) res.have = msg.have === true
    if (msg.copies !== undefined) {
      if (!Number.isSafeInteger(msg.copies) || msg.copies < 0 || msg.copies > MAX_REPLICAS) throw new ProtocolError('bad copies in response')
      res.copies = msg.copies
    }
    if (msg.progress !== undefined) {
      if (!Number.isSafeInteger(msg.progress) || msg.progress < 0) throw new ProtocolError('bad progress in response')
      res.progress = msg.progress
    }
    if (msg.has !== undefined) {
      if (!Array.isArray(msg.has) || msg.has.length > MAX_HAS_BATCH) throw new ProtocolError('bad has response')
      res.has = msg.has.map((h: unknown) => h === true)
    }
    if (msg.replicas !== undefined) {
      if (!Array.isArray(msg.replicas) || msg.replicas.length > MAX_HAS_BATCH) throw new ProtocolError('bad has response')
      res.replicas = msg.replicas.map((r: unknown) => Number.isSafeInteger(r) && (r as number) >= 0 && (r as number) <= MAX_REPLICAS ? r as number : 0)
    }
    return res
  }
  if (msg.ok === false && typeof msg.code === 'string' && typeof msg.message === 'string') {
    return { ok: false, code: msg.code.slice(0, 64), message: msg.message.slice(0, 500) }
  }
  throw new ProtocolError('malformed response')
}

function decodeMap (bytes: Uint8Array): Record<string, any> {
  let msg: unknown
  try {
    msg = decode(bytes, { strict: true, rejectDuplicateMapKeys: true, allowUndefined: false, useMaps: false })
  } catch (err: any) {
    throw new ProtocolError(`undecodable message: ${String(err.message).slice(0, 100)}`)
  }
  if (msg == null || typeof msg !== 'object' || Array.isArray(msg) || msg instanceof Uint8Array) {
    throw new ProtocolError('message is not a map')
  }
  return msg as Record<string, any>
}

function toPeerId (value: unknown): PeerId {
  if (typeof value !== 'string' || value.length > MAX_PEER_ID_CHARS) throw new ProtocolError('peer ID must be a string')
  try {
    return peerIdFromString(value)
  } catch {
    throw new ProtocolError('unparsable peer ID')
  }
}

/** Longer than any peer ID in its usual text form (an Ed25519 key's is 52 characters). */
const MAX_PEER_ID_CHARS = 128

function toCid (value: unknown): CID {
  if (!(value instanceof Uint8Array)) throw new ProtocolError('CID must be bytes')
  try {
    return CID.decode(value)
  } catch {
    throw new ProtocolError('undecodable CID')
  }
}
