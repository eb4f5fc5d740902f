import { base32 } from 'multiformats/bases/base32'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { isChunkCid } from './cid.ts'
import { KEY_BYTES, LINK_SCHEME, MAX_LINK_LENGTH } from './constants.ts'
import { InvalidLinkError } from './errors.ts'
import type { Link } from './index.ts'

export function formatLink (link: Link): string {
  checkLink(link)
  return `${LINK_SCHEME}${link.cid.toString(base32)}#${base58btc.encode(link.key)}`
}

export function parseLink (text: string): Link {
  if (typeof text !== 'string') throw new InvalidLinkError('a link must be a string')
  let rest = text.trim()
  if (rest.length > MAX_LINK_LENGTH) throw new InvalidLinkError(`longer than ${MAX_LINK_LENGTH} characters`)
  if (rest.slice(0, LINK_SCHEME.length).toLowerCase() === LINK_SCHEME) rest = rest.slice(LINK_SCHEME.length)
  const hash = rest.indexOf('#')
  if (hash === -1) throw new InvalidLinkError('missing "#" between the CID and the key')
  const cidText = rest.slice(0, hash)
  const keyText = rest.slice(hash + 1)
  if (cidText === '') throw new InvalidLinkError('missing CID before "#"')
  if (keyText === '') throw new InvalidLinkError('missing key after "#"')
  return checkLink({ cid: parseCid(cidText), key: parseKey(keyText) })
}

/** Rejects a Link whose CID or key could never name an IonNet manifest. */
export function checkLink (link: Link): Link {
  if (typeof link !== 'object' || link === null) throw new InvalidLinkError('a link must be an object with cid and key')
  if (CID.asCID(link.cid) == null) throw new InvalidLinkError('cid is not a CID')
  if (!isChunkCid(link.cid)) throw new InvalidLinkError('the CID must be a CIDv1 with the raw codec and a sha2-256 digest')
  if (!(link.key instanceof Uint8Array)) throw new InvalidLinkError('key must be bytes')
  if (link.key.byteLength !== KEY_BYTES) throw new InvalidLinkError(`the key must be ${KEY_BYTES} bytes, got ${link.key.byteLength}`)
  return link
}

function parseCid (text: string): CID {
  try {
    return CID.parse(text)
  } catch {
    throw new InvalidLinkError('the part before "#" is not a CID')
  }
}

function parseKey (text: string): Uint8Array {
  if (!text.startsWith('z')) throw new InvalidLinkError('the key must be base58btc multibase, starting with "z"')
  try {
    return base58btc.decode(text)
  } catch {
    throw new InvalidLinkError('the key is not valid base58btc')
  }
}
