import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { encode } from 'cborg'
import { cidForChunk, decodeManifest, formatLink, parseLink, walkChunks } from '../src/index.ts'
import { encodeToStore, fetchFrom, hkdf, openBytes, prng, randomBytesFrom, rootRecord, sealBytes, sealRoot } from './helpers.ts'
import type { CID } from 'multiformats/cid'
import type { Manifest } from '../src/index.ts'
import type { Encoded } from './helpers.ts'

/*
 * Bounded fuzzing of everything that reads outside bytes. Each case must
 * either succeed with a consistent result or throw one of the named errors;
 * anything else (TypeError, RangeError, a hang) is a bug. Seeded, so a
 * failure names the seed and iteration that reproduce it.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 0x10e7)
// npm run fuzz raises this for long runs
const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 2000)

describe('fuzzing the decoders', () => {
  let flat: Encoded
  let tree: Encoded
  before(async () => {
    flat = await encodeToStore([randomBytes(5 * 16 + 3)], { chunkSize: 16, name: 'flat.bin' })
    tree = await encodeToStore([randomBytes(20 * 8)], { chunkSize: 8, fanout: 4, name: 'tree.bin' })
  })

  it(`parseLink returns a valid link or throws InvalidLinkError for ${ITERATIONS} mutated strings`, () => {
    const random = prng(SEED)
    const valid = formatLink(flat.link)
    for (let i = 0; i < ITERATIONS; i++) {
      const text = mutateText(valid, random)
      expectOnly(['InvalidLinkError'], `seed ${SEED} iteration ${i}: ${JSON.stringify(text)}`, () => {
        const link = parseLink(text)
        // Whatever parses must format and parse back to itself.
        const again = parseLink(formatLink(link))
        assert.ok(again.cid.equals(link.cid))
        assert.deepEqual(again.key, link.key)
      })
    }
  })

  it(`decodeManifest accepts a consistent record or throws InvalidManifestError for ${ITERATIONS} mutated plaintexts`, async () => {
    const random = prng(SEED + 1)
    const bases = [rootPlain(flat), rootPlain(tree)]
    for (let i = 0; i < ITERATIONS; i++) {
      const plain = mutateBytes(bases[i % 2], random, bases[(i + 1) % 2])
      const { link, bytes } = sealRoot(plain)
      await expectOnlyAsync(['InvalidManifestError', 'ChunkIntegrityError'], `seed ${SEED + 1} iteration ${i}`, async () => {
        const manifest = decodeManifest(link, bytes)
        assertConsistent(manifest)
        await drain(walkChunks(manifest, knownBlocks(i % 2 === 0 ? flat : tree)))
      })
    }
  })

  it('decodeManifest throws only WrongKeyError or ChunkIntegrityError for mutated ciphertext', () => {
    const random = prng(SEED + 2)
    const sealed = flat.store.get(flat.link.cid.toString())!
    for (let i = 0; i < ITERATIONS / 4; i++) {
      const bytes = mutateBytes(sealed, random, sealed)
      if (Buffer.from(bytes).equals(sealed)) continue
      const context = `seed ${SEED + 2} iteration ${i}`
      assert.throws(() => decodeManifest({ cid: cidForChunk(bytes), key: flat.link.key }, bytes), { name: 'WrongKeyError' }, context)
      assert.throws(() => decodeManifest(flat.link, bytes), { name: 'ChunkIntegrityError' }, context)
    }
  })

  it('walkChunks yields consistent refs or throws InvalidManifestError for mutated tree nodes', async () => {
    const random = prng(SEED + 3)
    const secret = tree.manifest.secret
    const record = rootRecord(tree)
    const top = record.links as Uint8Array[]
    const key = hkdf(secret, 'ionnet/node/2/0')
    const nodePlain = openBytes(key, tree.store.get(tree.manifest.links[0].toString())!)
    for (let i = 0; i < ITERATIONS / 4; i++) {
      const node = sealBytes(key, mutateBytes(nodePlain, random, nodePlain))
      const store = new Map(tree.store)
      store.set(cidForChunk(node).toString(), node)
      const { link, bytes } = sealRoot(encode({ ...record, links: [cidForChunk(node).bytes, top[1]] }))
      const manifest = decodeManifest(link, bytes)
      await expectOnlyAsync(['InvalidManifestError', 'ChunkIntegrityError'], `seed ${SEED + 3} iteration ${i}`, async () => {
        const refs = []
        for await (const ref of walkChunks(manifest, knownBlocks(tree, store))) refs.push(ref)
        assert.deepEqual(refs.map(ref => ref.index), [...Array(manifest.chunkCount).keys()])
      })
    }
  })
})

/** A fetch over the test store that says plainly when a mutated link names a block nobody has. */
class UnknownBlock extends Error {
  constructor () { super('no such block'); this.name = 'UnknownBlock' }
}

function knownBlocks (encoded: Encoded, store = encoded.store): (cid: CID) => Promise<Uint8Array> {
  const fetch = fetchFrom(store)
  return async cid => {
    if (!store.has(cid.toString())) throw new UnknownBlock()
    return await fetch(cid)
  }
}

function rootPlain (encoded: Encoded): Uint8Array {
  return openBytes(encoded.link.key, encoded.store.get(encoded.link.cid.toString())!)
}

function assertConsistent (manifest: Manifest): void {
  assert.equal(manifest.chunkCount, Math.ceil(manifest.size / manifest.chunkSize))
  assert.equal(manifest.secret.byteLength, 32)
  if (manifest.sha256 != null) assert.equal(manifest.sha256.byteLength, 32)
  assert.ok(!manifest.name.includes('/'))
}

function expectOnly (names: string[], context: string, run: () => void): void {
  try {
    run()
  } catch (err) {
    if (!names.includes((err as Error).name)) throw new Error(`${context}: unexpected ${(err as Error).name}: ${(err as Error).message}`)
  }
}

async function expectOnlyAsync (names: string[], context: string, run: () => Promise<void>): Promise<void> {
  try {
    await run()
  } catch (err) {
    if (err instanceof UnknownBlock) return
    if (!names.includes((err as Error).name)) throw new Error(`${context}: unexpected ${(err as Error).name}: ${(err as Error).message}`)
  }
}

async function drain (items: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of items) { /* drain */ }
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567ABCDEFGHJKLMNPQRSTUVWXYZ0189#:/ z\n\0é💥'

function mutateText (text: string, random: () => number): string {
  const at = Math.floor(random() * (text.length + 1))
  const char = (): string => [...ALPHABET][Math.floor(random() * [...ALPHABET].length)]
  switch (Math.floor(random() * 7)) {
    case 0: return text.slice(0, at) + char() + text.slice(at + 1)
    case 1: return text.slice(0, at) + text.slice(at + 1 + Math.floor(random() * 10))
    case 2: return text.slice(0, at) + char() + char() + text.slice(at)
    case 3: return text.slice(0, at)
    case 4: return text.slice(at) + text.slice(0, at)
    case 5: return Array.from({ length: Math.floor(random() * 130) }, char).join('')
    default: return text.slice(0, at) + text.slice(Math.floor(random() * text.length))
  }
}

function mutateBytes (bytes: Uint8Array, random: () => number, other: Uint8Array): Uint8Array {
  const out = Uint8Array.from(bytes)
  const at = Math.floor(random() * out.byteLength)
  switch (Math.floor(random() * 6)) {
    case 0: out[at] ^= 1 << Math.floor(random() * 8); return out
    case 1: out[at] = Math.floor(random() * 256); return out
    case 2: return out.subarray(0, at)
    case 3: return Uint8Array.of(...out.subarray(0, at), ...randomBytesFrom(random, 1 + Math.floor(random() * 8)), ...out.subarray(at))
    case 4: return Uint8Array.of(...out.subarray(0, at), ...other.subarray(Math.floor(random() * other.byteLength)))
    default: {
      // Several small edits at once reach deeper than one.
      for (let n = 0; n < 4; n++) out[Math.floor(random() * out.byteLength)] = Math.floor(random() * 256)
      return out
    }
  }
}
