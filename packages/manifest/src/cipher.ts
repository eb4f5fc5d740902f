import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto'
import { KEY_BYTES, NONCE_BYTES, TAG_BYTES } from './constants.ts'

/**
 * Every key seals exactly one message (one chunk, one node, one root), so a
 * fixed nonce never repeats under any key and need not be stored.
 */
const ZERO_NONCE = new Uint8Array(NONCE_BYTES)
const NO_SALT = new Uint8Array(0)

export function chunkKey (secret: Uint8Array, index: number): Uint8Array {
  return derive(secret, `ionnet/chunk/${index}`)
}

export function nodeKey (secret: Uint8Array, depth: number, position: number): Uint8Array {
  return derive(secret, `ionnet/node/${depth}/${position}`)
}

function derive (secret: Uint8Array, info: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', secret, NO_SALT, info, KEY_BYTES))
}

/**
 * AES-256-GCM; returns ciphertext || tag in one buffer: `into` when given (it must hold exactly that many bytes),
 * otherwise a new one.
 */
export function seal (key: Uint8Array, plain: Uint8Array, into?: Uint8Array): Uint8Array {
  const cipher = createCipheriv('aes-256-gcm', key, ZERO_NONCE, { authTagLength: TAG_BYTES })
  const sealed = into ?? Buffer.allocUnsafe(plain.byteLength + TAG_BYTES)
  if (sealed.byteLength !== plain.byteLength + TAG_BYTES) throw new RangeError(`seal: a chunk of ${plain.byteLength} bytes seals into ${plain.byteLength + TAG_BYTES}, not ${sealed.byteLength}`)
  const body = cipher.update(plain)
  sealed.set(body, 0)
  const rest = cipher.final()
  sealed.set(rest, body.byteLength)
  sealed.set(cipher.getAuthTag(), body.byteLength + rest.byteLength)
  return sealed
}

/** Inverse of `seal`; undefined when authentication fails, so each caller names its own error. */
export function open (key: Uint8Array, sealed: Uint8Array): Uint8Array | undefined {
  if (sealed.byteLength < TAG_BYTES) return undefined
  const end = sealed.byteLength - TAG_BYTES
  const decipher = createDecipheriv('aes-256-gcm', key, ZERO_NONCE, { authTagLength: TAG_BYTES })
  decipher.setAuthTag(sealed.subarray(end))
  const body = decipher.update(sealed.subarray(0, end))
  try {
    const rest = decipher.final()
    return rest.byteLength === 0 ? body : Buffer.concat([body, rest])
  } catch {
    return undefined
  }
}
