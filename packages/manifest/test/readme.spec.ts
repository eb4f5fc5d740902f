import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const root = new URL('../', import.meta.url)

/** The first ```ts block of the README's "Example" section. */
async function readmeExample (): Promise<string> {
  const readme = await readFile(new URL('README.md', root), 'utf8')
  const section = readme.slice(readme.indexOf('## Example'))
  return section.slice(section.indexOf('```ts\n') + 6, section.indexOf('\n```', section.indexOf('```ts\n'))) + '\n'
}

/** The @example of the package doc comment in src/index.ts, without the comment's " * ". */
async function indexExample (): Promise<string> {
  const source = await readFile(new URL('src/index.ts', root), 'utf8')
  const block = source.slice(source.indexOf(' * ```ts\n') + 9, source.indexOf(' * ```\n', source.indexOf(' * ```ts\n')))
  return block.split('\n').map(line => line.replace(/^ \* ?/, '')).join('\n')
}

describe('documentation', () => {
  it('shows the same example in the README and in src/index.ts', async () => {
    assert.equal(await indexExample(), await readmeExample())
  })

  it('runs the example as written', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ionnet-manifest-example-'))
    try {
      const index = new URL('src/index.ts', root).href
      const code = (await readmeExample()).replace("from '@ionnet/manifest'", `from '${index}'`)
      assert.notEqual(code, await readmeExample(), 'the example imports the package by name')
      const file = join(dir, 'example.mts')
      await writeFile(file, code)
      await import(pathToFileURL(file).href)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
