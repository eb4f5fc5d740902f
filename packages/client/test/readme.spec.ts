import { expect } from 'chai'
import { readFile } from 'node:fs/promises'

const root = new URL('../', import.meta.url)

/** The first ```ts block of the README's "Example" section. */
async function readmeExample (): Promise<string> {
  const readme = await readFile(new URL('README.md', root), 'utf8')
  const section = readme.slice(readme.indexOf('## Example'))
  return section.slice(section.indexOf('```ts\n') + 6, section.indexOf('\n```', section.indexOf('```ts\n')))
}

/** The @example of the package doc comment in src/index.ts, without the comment's " * ". */
async function indexExample (): Promise<string> {
  const source = await readFile(new URL('src/index.ts', root), 'utf8')
  const block = source.slice(source.indexOf(' * ```ts\n') + 9, source.indexOf('\n * ```\n', source.indexOf(' * ```ts\n')))
  return block.split('\n').map(line => line.replace(/^ \* ?/, '')).join('\n')
}

describe('documentation', () => {
  it('shows the same example in the README and in src/index.ts (test/client.spec.ts runs it against a real peer)', async () => {
    const example = await readmeExample()
    expect(example).to.contain('IonNetClient.forRepo')
    expect(await indexExample()).to.equal(example)
  })
})
