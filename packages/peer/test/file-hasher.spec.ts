import { expect } from 'chai'
import { spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { appendFile, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { FileHasher } from '../src/file-hasher.ts'

const sha256 = (...pieces: Uint8Array[]): Buffer => pieces.reduce((h, p) => h.update(p), createHash('sha256')).digest()

describe('hashing a file on a worker thread while it is written', () => {
  let dir: string
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'ionnet-hasher-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('hashes every byte the writer reported, read behind it in pieces of any size', async () => {
    const path = join(dir, 'a')
    const pieces = [randomBytes(3 << 20), randomBytes(1), randomBytes(70_000)]
    await writeFile(path, '')
    const hasher = new FileHasher(path)
    let bytes = 0
    for (const piece of pieces) {
      await appendFile(path, piece)
      hasher.advance(bytes += piece.length)
    }
    expect(Buffer.from(await hasher.digest())).to.deep.equal(sha256(...pieces))
  })

  it('keeps files hashed at the same time apart', async () => {
    const [a, b] = [randomBytes(5000), randomBytes(9000)]
    await writeFile(join(dir, 'b1'), a)
    await writeFile(join(dir, 'b2'), b)
    const ha = new FileHasher(join(dir, 'b1'))
    const hb = new FileHasher(join(dir, 'b2'))
    hb.advance(4000)
    ha.advance(5000)
    hb.advance(9000)
    const digests = await Promise.all([ha.digest(), hb.digest()])
    expect(digests.map(d => Buffer.from(d))).to.deep.equal([sha256(a), sha256(b)])
  })

  it('rejects when the file holds fewer bytes than the writer reported (it was cut behind the writer\'s back)', async () => {
    const path = join(dir, 'c')
    await writeFile(path, randomBytes(10_000))
    await truncate(path, 6000)
    const hasher = new FileHasher(path)
    hasher.advance(10_000)
    let error: any
    await hasher.digest().catch(err => { error = err })
    expect(error?.message).to.match(/could not hash the file written: .* ended at 6000 bytes, 10000 were written/)
    // the worker is still good for the next file (control)
    await writeFile(join(dir, 'd'), 'abc')
    const next = new FileHasher(join(dir, 'd'))
    next.advance(3)
    expect(Buffer.from(await next.digest())).to.deep.equal(sha256(Buffer.from('abc')))
  })

  it('does not keep a process alive once its hashes are done', function () {
    this.timeout(20_000)
    const module = fileURLToPath(new URL('../src/file-hasher.ts', import.meta.url))
    const file = join(dir, 'e')
    const script = `import { writeFileSync } from 'node:fs'; import { FileHasher } from ${JSON.stringify(module)}
      writeFileSync(${JSON.stringify(file)}, 'abc'); const h = new FileHasher(${JSON.stringify(file)}); h.advance(3)
      console.log(Buffer.from(await h.digest()).toString('hex'))`
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 15_000 })
    expect(run.error, 'the process did not exit by itself').to.equal(undefined)
    expect(run.stdout.trim()).to.equal(sha256(Buffer.from('abc')).toString('hex'))
  })
})
