import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readWhole } from '../src/read-whole.ts'

describe('readWhole', () => {
  let dir: string

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ionnet-read-whole-'))
  })

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('reads every byte of a file larger than one of readFile\'s pieces', async () => {
    const bytes = randomBytes(2 * 1024 * 1024 + 17)
    await writeFile(join(dir, 'chunk'), bytes)

    const read = await readWhole(join(dir, 'chunk'))

    assert.equal(read.byteLength, bytes.byteLength)
    assert.ok(Buffer.from(read).equals(bytes))
  })

  it('reads an empty file as no bytes', async () => {
    await writeFile(join(dir, 'empty'), new Uint8Array(0))

    assert.equal((await readWhole(join(dir, 'empty'))).byteLength, 0)
  })

  it('fails with ENOENT for a missing file, as readFile does', async () => {
    await assert.rejects(readWhole(join(dir, 'missing')), { code: 'ENOENT' })
  })

  it('fails with EISDIR for a folder', async () => {
    await assert.rejects(readWhole(dir), { code: 'EISDIR' })
  })

  it('does not start when its signal is already aborted', async () => {
    await writeFile(join(dir, 'chunk'), randomBytes(1024))

    await assert.rejects(readWhole(join(dir, 'chunk'), { signal: AbortSignal.abort() }), { name: 'AbortError' })
  })
})
