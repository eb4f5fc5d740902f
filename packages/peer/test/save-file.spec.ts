import { expect } from 'chai'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodeFile } from '@ionnet/manifest'
import { saveFile } from '../src/get.ts'
import type { Manifest } from '@ionnet/manifest'

describe('saving a got file to disk', () => {
  let dir: string
  let plain: Buffer
  let manifest: Manifest

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ionnet-save-'))
    plain = randomBytes(3 * 65536 + 17)
    const encoded = encodeFile([plain], { chunkSize: 65536 })
    for await (const _ of encoded.blocks) { /* drain */ }
    manifest = encoded.result().manifest
  })

  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  /** The plaintext in pieces, as a get yields it. */
  async function * pieces (bytes: Uint8Array): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < bytes.length; i += 65536) yield Uint8Array.from(bytes.subarray(i, i + 65536))
  }

  it('writes the file under its name once its sha2-256 matches the manifest (control)', async () => {
    const path = join(dir, 'good.bin')
    expect(await saveFile({ manifest, content: pieces(plain) }, path)).to.equal(plain.length)
    expect(await readFile(path)).to.deep.equal(plain)
    expect(await readdir(dir)).to.deep.equal(['good.bin'])
  })

  it('saves an empty file, which the hashing thread never sees', async () => {
    const encoded = encodeFile([], { chunkSize: 65536 })
    for await (const _ of encoded.blocks) { /* drain */ }
    const path = join(dir, 'empty.bin')
    expect(await saveFile({ manifest: encoded.result().manifest, content: pieces(new Uint8Array(0)) }, path)).to.equal(0)
    expect((await readFile(path)).length).to.equal(0)
    await rm(path)
  })

  it('leaves no file behind when one byte differs from what the manifest hashed', async () => {
    const altered = Buffer.from(plain)
    altered[70_000] ^= 1
    const path = join(dir, 'bad.bin')
    let error: any
    try {
      await saveFile({ manifest, content: pieces(altered) }, path)
    } catch (err) {
      error = err
    }
    expect(error?.name).to.equal('FileIntegrityError')
    expect(error?.message).to.match(/sha2-256 does not match/)
    expect(await readdir(dir)).to.deep.equal(['good.bin'])
  })
})
