/**
 * Puts and gets one large file through real peer processes on loopback and reports the time and the peak RSS
 * (VmHWM) of every process involved: the peers and the CLI processes. Everything streams, so peak RSS must not
 * grow with the file size.
 *
 *   npm run bench:big -- [--size MiB (default 1024)] [--peers 4] [--replicas 3]
 */
import { spawn } from 'node:child_process'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { cleanup, randomFile, sha256File, startNetwork, startPeer, tempDir, waitForMesh } from '../test/helpers/network.ts'

const MiB = 1024 * 1024
const BIN = new URL('../packages/peer/src/bin.js', import.meta.url).pathname
const { values } = parseArgs({ options: { size: { type: 'string', default: '1024' }, peers: { type: 'string', default: '4' }, replicas: { type: 'string', default: '3' } } })
const size = Number(values.size) * MiB

/** Peak resident memory of a process in MiB, from /proc (Linux). */
async function peakRss (pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '')
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0)
  return Math.round(kb / 1024)
}

/** Runs the CLI and samples its peak RSS until it exits. */
async function cli (args: string[]): Promise<{ ms: number, rss: number, stdout: string }> {
  const started = performance.now()
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  let rss = 0
  const timer = setInterval(() => { void peakRss(child.pid!).then(r => { rss = Math.max(rss, r) }) }, 100)
  let stdout = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  const code = await new Promise<number | null>(resolve => child.once('exit', resolve))
  clearInterval(timer)
  if (code !== 0) throw new Error(`ionnet ${args[0]} exited ${code}`)
  return { ms: performance.now() - started, rss, stdout }
}

const dir = await tempDir()
const peers = await startNetwork(Number(values.peers))
const reader = await startPeer({ bootstrap: [peers[0]], args: ['--capacity', '0'] })
try {
  await waitForMesh([...peers, reader])
  const file = await randomFile(dir, 'big.bin', size)
  const put = await cli(['put', file.path, '--replicas', values.replicas, '--json', '--repo', peers[0].repo])
  const { link } = JSON.parse(put.stdout)
  const out = join(dir, 'out.bin')
  const get = await cli(['get', link, '-o', out, '--repo', reader.repo])
  const same = await sha256File(out) === file.sha256
  const rows = [
    ...await Promise.all(peers.map(async (p, i) => ({ process: `peer ${i + 1}${i === 0 ? ' (uploader)' : ''}`, peakRssMiB: await peakRss(p.proc.pid!) }))),
    { process: 'reader peer (capacity 0)', peakRssMiB: await peakRss(reader.proc.pid!) },
    { process: 'ionnet put (CLI)', peakRssMiB: put.rss },
    { process: 'ionnet get (CLI)', peakRssMiB: get.rss }
  ]
  console.table(rows)
  const result = {
    sizeMiB: size / MiB,
    replicas: Number(values.replicas),
    putMiBs: +(size / MiB / (put.ms / 1000)).toFixed(1),
    getMiBs: +(size / MiB / (get.ms / 1000)).toFixed(1),
    identical: same,
    maxPeakRssMiB: Math.max(...rows.map(r => r.peakRssMiB))
  }
  console.log(JSON.stringify(result))
  if (!same) process.exitCode = 1
} finally {
  await cleanup([...peers, reader])
  await rm(dir, { recursive: true, force: true })
}
