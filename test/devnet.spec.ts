import { expect } from 'chai'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { access, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { BIN, ionnet, randomFile, sha256File, tempDir, waitFor } from './helpers/network.ts'
import type { ChildProcess } from 'node:child_process'


function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('ionnet devnet: the playground of the tour', function () {
  this.timeout(120_000)
  let devnet: ChildProcess
  let dir: string
  let net: { dir: string, peers: Array<{ index: number, peerId: string, repo: string, api: string, dashboard: string, pid: number }> }
  const lines: string[] = []

  before(async () => {
    dir = await tempDir()
    devnet = spawn(process.execPath, [BIN, 'devnet', '3', '--json'], { stdio: ['ignore', 'pipe', 'inherit'] })
    const out = createInterface({ input: devnet.stdout! })
    out.on('line', (line) => { lines.push(line) })
    net = JSON.parse(await waitFor(() => lines.find(l => l.includes('"peers"')), { timeout: 60_000, message: 'devnet to print its peers' }))
  })

  after(async () => {
    if (devnet.exitCode == null) devnet.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  })

  it('starts n peers in their own temporary repos that find each other', async () => {
    expect(net.peers.map(p => p.index)).to.deep.equal([1, 2, 3])
    expect(new Set(net.peers.map(p => p.repo)).size).to.equal(3)
    for (const p of net.peers) expect(p.repo.startsWith(net.dir)).to.equal(true)
    for (const p of net.peers) expect(p.dashboard).to.match(/^http:\/\/127\.0\.0\.1:\d+\/#token=\S+$/)
    await waitFor(async () => {
      const r = await ionnet(['peers', '--json'], { repo: net.peers[0].repo })
      return r.code === 0 && JSON.parse(r.stdout).peers.filter((p: any) => p.alive).length === 2
    }, { message: 'peer 1 to see the two others alive' })
  })

  it('puts a file on peer 1 and gets it from peer 3, as the README tour does', async () => {
    const file = await randomFile(dir, 'tour.bin', 3 * 1024 * 1024)
    await waitFor(async () => {
      const r = await ionnet(['peers', '--json'], { repo: net.peers[2].repo })
      return r.code === 0 && JSON.parse(r.stdout).peers.filter((p: any) => p.alive).length === 2
    }, { message: 'peer 3 to see the two others alive' })
    const put = await ionnet(['put', file.path, '--json'], { repo: net.peers[0].repo })
    expect(put.code, put.stderr).to.equal(0)
    const out = join(dir, 'tour.out')
    const get = await ionnet(['get', JSON.parse(put.stdout).link, '-o', out], { repo: net.peers[2].repo })
    expect(get.code, get.stderr).to.equal(0)
    expect(await sha256File(out)).to.equal(file.sha256)
  })

  it('reports a peer killed under it and stops all the others on Ctrl-C, removing the repos', async () => {
    process.kill(net.peers[1].pid, 'SIGKILL')
    await waitFor(() => lines.some(l => l.includes('"event":"exit"') && l.includes('"peer":2')), { message: 'devnet to report peer 2 gone' })
    devnet.kill('SIGINT')
    const [code] = await once(devnet, 'exit')
    expect(code).to.equal(0)
    for (const p of net.peers) expect(alive(p.pid), `peer ${p.index} still running`).to.equal(false)
    let gone = false
    await access(net.dir).catch(() => { gone = true })
    expect(gone, 'temporary repos removed').to.equal(true)
  })
})
