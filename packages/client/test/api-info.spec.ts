import { expect } from 'chai'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { IonNetClient, PeerNotRunningError, readApiInfo } from '../src/index.ts'

describe('reading <repo>/api.json', () => {
  let repo: string

  beforeEach(async () => { repo = await mkdtemp(join(tmpdir(), 'ionnet-client-')) })
  afterEach(async () => { await rm(repo, { recursive: true, force: true }) })

  it('reads the url and token a running peer wrote', async () => {
    await writeFile(join(repo, 'api.json'), JSON.stringify({ url: 'http://127.0.0.1:7870', token: 't0k', pid: 42 }))
    expect(await readApiInfo(repo)).to.deep.equal({ url: 'http://127.0.0.1:7870', token: 't0k', pid: 42 })
    const client = await IonNetClient.forRepo(repo)
    expect(client.url).to.equal('http://127.0.0.1:7870')
    expect(client.local).to.equal(true)
  })

  it('says no peer is running, and how to start one, when the file is missing', async () => {
    const err = await IonNetClient.forRepo(join(repo, 'nope')).catch(e => e)
    expect(err).to.be.instanceOf(PeerNotRunningError)
    expect(err.name).to.equal('PeerNotRunningError')
    expect(err.code).to.equal('ERR_PEER_NOT_RUNNING')
    expect(err.message).to.equal(`no peer is running for repo ${join(repo, 'nope')}; start one with: ionnet peer start --repo ${join(repo, 'nope')}`)
  })

  it('treats a file that is not an API record as no peer', async () => {
    for (const text of ['{', '[]', '{"url":"http://x"}', '{"url":"not a url","token":"t"}']) {
      await writeFile(join(repo, 'api.json'), text)
      expect((await readApiInfo(repo).catch(e => e)).code, text).to.equal('ERR_PEER_NOT_RUNNING')
    }
  })

  it('names the file when it exists but cannot be read', async () => {
    await mkdir(join(repo, 'api.json'))
    const err = await readApiInfo(repo).catch(e => e)
    expect(err.name).to.equal('LocalFileError')
    expect(err.code).to.equal('ERR_LOCAL_FILE')
    expect(err.message).to.match(/^cannot read .*api\.json: EISDIR/)
  })

  it('resolves a relative repo path against the working directory', async () => {
    const err = await readApiInfo('some-relative-repo').catch(e => e)
    expect(err.message).to.contain(join(process.cwd(), 'some-relative-repo'))
  })
})
