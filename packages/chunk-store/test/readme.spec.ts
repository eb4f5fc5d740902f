import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const packageDir = dirname(dirname(fileURLToPath(import.meta.url)))

function firstTsBlock (text: string): string {
  const match = /```ts\n([\s\S]*?)\n\s*(?:\* )?```/.exec(text)
  assert.ok(match, 'no ```ts block found')
  return match[1]
}

describe('the documented example', () => {
  let dir: string

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ionnet-readme-'))
  })

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('runs as written in the README and prints what its comment says', async () => {
    const example = firstTsBlock(await readFile(join(packageDir, 'README.md'), 'utf8'))

    const run = spawnSync(process.execPath, ['--input-type=module'], {
      input: example,
      cwd: packageDir,
      env: { ...process.env, TMPDIR: dir },
      encoding: 'utf8'
    })

    assert.equal(run.stderr, '')
    assert.equal(run.stdout, 'hello ionnet 12 5\n')
  })

  it('is the same in the package doc comment', async () => {
    const readme = firstTsBlock(await readFile(join(packageDir, 'README.md'), 'utf8'))
    const docComment = firstTsBlock(await readFile(join(packageDir, 'src', 'index.ts'), 'utf8'))

    assert.equal(docComment.replace(/^ \* ?/gm, ''), readme)
  })
})
