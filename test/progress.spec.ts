import { expect } from 'chai'
import { spawn } from 'node:child_process'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { BIN, cleanup, ionnet, randomFile, sha256File, startNetwork, tempDir, waitForMesh } from './helpers/network.ts'
import type { TestPeer } from './helpers/network.ts'

const MiB = 1024 * 1024

/** Runs `ionnet <args>` under a pseudo-terminal (util-linux `script`), as a user at a terminal would. */
async function inTerminal (args: string[]): Promise<{ code: number, output: string }> {
  const command = [process.execPath, BIN, ...args].map(a => `'${a.replace(/'/g, "'\\''")}'`).join(' ')
  const child = spawn('script', ['-qefc', command, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, COLUMNS: '120' } })
  let output = ''
  child.stdout.on('data', (d: Buffer) => { output += d.toString() })
  child.stderr.on('data', (d: Buffer) => { output += d.toString() })
  const code = await new Promise<number>(resolve => child.once('close', c => { resolve(c ?? -1) }))
  return { code, output }
}

describe('progress bars: on a terminal, and never in piped or --json output', function () {
  this.timeout(120_000)
  let peers: TestPeer[]
  let dir: string
  let file: { path: string, sha256: string }

  before(async function () {
    if ((await inTerminal(['--help'])).code !== 0) this.skip() // no `script` on this machine
    dir = await tempDir()
    file = await randomFile(dir, 'bar.bin', 24 * MiB)
    peers = await startNetwork(2)
    await waitForMesh(peers)
  })

  after(async () => {
    await cleanup(peers ?? [])
    if (dir != null) await rm(dir, { recursive: true, force: true })
  })

  it('put and get draw bytes, rate and ETA on a terminal, and still print the link and write the file', async () => {
    const put = await inTerminal(['put', file.path, '--replicas', '2', '--repo', peers[0].repo])
    expect(put.code, put.output).to.equal(0)
    expect(put.output).to.match(/put .*\d+% \| [\d.]+ (KiB|MiB) of 24\.0 MiB \| .* \| ETA/)
    const link = /ionnet:\/\/\S+/.exec(put.output)?.[0]
    expect(link, put.output).to.be.a('string')
    const out = join(dir, 'bar.out')
    const get = await inTerminal(['get', link!, '-o', out, '--repo', peers[1].repo])
    expect(get.code, get.output).to.equal(0)
    expect(get.output).to.match(/get .*\d+% \| [\d.]+ (KiB|MiB) of 24\.0 MiB \|/)
    expect(await sha256File(out)).to.equal(file.sha256)
  })

  it('piped, put prints only the link and get only the file', async () => {
    const put = await ionnet(['put', file.path, '--replicas', '2'], { repo: peers[0].repo })
    expect(put.code).to.equal(0)
    expect(put.stdout).to.match(/^ionnet:\/\/\S+\n$/)
    expect(put.stderr).to.equal('')
    const get = await ionnet(['get', put.stdout.trim(), '-o', join(dir, 'piped.out')], { repo: peers[1].repo })
    expect(get.code).to.equal(0)
    expect(get.stdout + get.stderr).to.equal('')
  })

  it('with --json on a terminal, prints one JSON object and no bar', async () => {
    const put = await inTerminal(['put', file.path, '--replicas', '2', '--json', '--repo', peers[0].repo])
    expect(put.code).to.equal(0)
    expect(put.output).to.not.match(/ETA/)
    expect(JSON.parse(put.output.trim()).size).to.equal(24 * MiB)
  })
})
