import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { base32 } from 'multiformats/bases/base32'
import { base58btc } from 'multiformats/bases/base58'
import { base64 } from 'multiformats/bases/base64'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { cidForChunk, formatLink, parseLink } from '../src/index.ts'
import type { Link } from '../src/index.ts'

const cid = cidForChunk(new TextEncoder().encode('root block'))
const key = new Uint8Array(32).map((_, i) => i)
const link: Link = { cid, key }
const cidText = cid.toString(base32)
const keyText = base58btc.encode(key)

describe('links', () => {
  it('formats as ionnet://<base32 CID>#<base58btc key>', () => {
    assert.equal(formatLink(link), `ionnet://${cidText}#${keyText}`)
    assert.match(formatLink(link), /^ionnet:\/\/b[a-z2-7]+#z[1-9A-HJ-NP-Za-km-z]+$/)
  })

  const accepted: Array<[string, string]> = [
    ['the formatted link', `ionnet://${cidText}#${keyText}`],
    ['a link without the scheme', `${cidText}#${keyText}`],
    ['surrounding whitespace and a newline', `  \tionnet://${cidText}#${keyText}\n`],
    ['an upper-case scheme', `IONNET://${cidText}#${keyText}`]
  ]
  for (const [what, text] of accepted) {
    it(`parses ${what}`, () => {
      const parsed = parseLink(text)
      assert.ok(parsed.cid.equals(cid))
      assert.deepEqual(parsed.key, key)
    })
  }

  it('round-trips random links', () => {
    for (let i = 0; i < 20; i++) {
      const original = { cid: cidForChunk(randomBytes(20)), key: randomBytes(32) }
      const parsed = parseLink(formatLink(original))
      assert.ok(parsed.cid.equals(original.cid))
      assert.deepEqual(parsed.key, new Uint8Array(original.key))
    }
  })

  const dagCbor = CID.create(1, 0x71, cid.multihash)
  const identity = CID.create(1, 0x55, Digest.create(0x00, new Uint8Array(32)))
  const short = CID.create(1, 0x55, Digest.create(0x12, new Uint8Array(20)))
  const v0 = CID.createV0(cid.multihash as Parameters<typeof CID.createV0>[0])
  const rejected: Array<[string, string, RegExp]> = [
    ['an empty string', '', /"#"/],
    ['only the scheme', 'ionnet://', /"#"/],
    ['a link without "#"', `ionnet://${cidText}${keyText}`, /"#"/],
    ['a link without the key', `ionnet://${cidText}#`, /missing key/],
    ['a link without the CID', `ionnet://#${keyText}`, /missing CID/],
    ['a CID that does not parse', `ionnet://bnotacid#${keyText}`, /not a CID/],
    ['a second "#"', `ionnet://${cidText}#${keyText}#x`, /base58btc/],
    ['a CIDv0', `${v0.toString()}#${keyText}`, /CIDv1/],
    ['a dag-cbor CID', `${dagCbor.toString()}#${keyText}`, /raw codec/],
    ['an identity-hash CID', `${identity.toString()}#${keyText}`, /sha2-256/],
    ['a truncated sha2-256 digest', `${short.toString()}#${keyText}`, /sha2-256/],
    ['a key in another multibase', `${cidText}#${base64.encode(key)}`, /"z"/],
    ['a key without multibase prefix', `${cidText}#${keyText.slice(1)}`, /"z"/],
    ['a key with a non-base58 character', `${cidText}#z${'0'.repeat(44)}`, /base58btc/],
    ['a 31-byte key', `${cidText}#${base58btc.encode(key.subarray(1))}`, /32 bytes/],
    ['a 33-byte key', `${cidText}#${base58btc.encode(new Uint8Array(33).fill(1))}`, /32 bytes/],
    ['a different scheme', `https://${cidText}#${keyText}`, /not a CID/],
    ['a path after the CID', `ionnet://${cidText}/file#${keyText}`, /not a CID/],
    ['an enormous string', `ionnet://${cidText}#z${'2'.repeat(100_000)}`, /longer than/]
  ]
  for (const [what, text, reason] of rejected) {
    it(`rejects ${what} with InvalidLinkError`, () => {
      assert.throws(() => parseLink(text), (err: Error) => {
        assert.equal(err.name, 'InvalidLinkError')
        assert.equal((err as Error & { code: string }).code, 'ERR_INVALID_LINK')
        assert.match(err.message, reason)
        return true
      })
    })
  }

  it('rejects a non-string with InvalidLinkError', () => {
    assert.throws(() => parseLink(42 as unknown as string), { name: 'InvalidLinkError' })
  })

  it('refuses to format a link whose key is not 32 bytes or whose CID is not raw sha2-256', () => {
    assert.throws(() => formatLink({ cid, key: key.subarray(1) }), { name: 'InvalidLinkError' })
    assert.throws(() => formatLink({ cid: dagCbor, key }), { name: 'InvalidLinkError' })
  })
})
