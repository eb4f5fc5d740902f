/**
 * Runs the `ionnet` CLI as a user would (a new process per command, against a peer's repo) and reports the wall time
 * from spawn to exit, and the process's peak RSS and CPU time, written at exit by rss-probe.js.
 */
import { spawn } from 'node:child_process'
import { waitFor } from '../test/helpers/network.ts'
import type { TestPeer } from '../test/helpers/network.ts'
import type { Readable } from 'node:stream'

const BIN = new URL('../packages/peer/src/bin.js', import.meta.url).pathname
const PROBE = new URL('./rss-probe.js', import.meta.url).pathname

export interface CliRun {
  code: number
  ms: number
  peakRssMiB: number
  /** CPU seconds the CLI process used (user + system, all threads). */
  cpuSeconds: number
  stdout: string
  stderr: string
}

/** `ionnet <args> --repo <repo>`; a command still running after `timeout` ms is killed. */
export async function runCli (args: string[], repo: string, timeout = 600_000): Promise<CliRun> {
  const started = performance.now()
  const child = spawn(process.execPath, ['--import', PROBE, BIN, ...args, '--repo', repo], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] })
  const [stdout, stderr, rss] = [child.stdout, child.stderr, child.stdio[3] as Readable].map(s => collect(s!))
  const timer = setTimeout(() => child.kill('SIGKILL'), timeout)
  const code = await new Promise<number>(resolve => child.once('close', (c) => { resolve(c ?? -1) }))
  clearTimeout(timer)
  const ms = performance.now() - started
  const [rssKiB, cpuMicros] = (await rss).split(' ').map(Number)
  return { code, ms, peakRssMiB: Math.round(rssKiB / 1024), cpuSeconds: (cpuMicros || 0) / 1e6, stdout: await stdout, stderr: await stderr }
}

/** Like runCli with --json, but throws unless the command succeeded, and parses its answer. */
export async function runCliJson<T = any> (args: string[], repo: string, timeout?: number): Promise<CliRun & { json: T }> {
  const run = await runCli([...args, '--json'], repo, timeout)
  if (run.code !== 0) throw new Error(`ionnet ${args.join(' ')} exited ${run.code}: ${run.stderr.trim()}`)
  return { ...run, json: JSON.parse(run.stdout) }
}

async function collect (stream: Readable): Promise<string> {
  let text = ''
  for await (const piece of stream) text += piece.toString()
  return text
}

/**
 * Waits until each of `observers` sees every other peer of `all` alive (`ionnet peers`). Asks one peer at a time,
 * twice a second: a swarm of CLI processes would load a small machine enough to delay heartbeats.
 */
export async function waitForAlive (observers: TestPeer[], all: TestPeer[], timeout = 120_000): Promise<void> {
  const deadline = Date.now() + timeout
  for (const p of observers) {
    let seen = 0
    await waitFor(async () => {
      seen = await aliveSeen(p, all)
      return seen === all.length - 1
    }, { timeout: Math.max(0, deadline - Date.now()), interval: 500, message: `peer ${p.peerId} to see ${all.length - 1} others alive` })
      .catch((err: Error) => { throw new Error(`${err.message} (it saw ${seen})`) })
  }
}

/** How many of `all` (itself aside) `observer` sees alive now, by `ionnet peers`. */
export async function aliveSeen (observer: TestPeer, all: TestPeer[]): Promise<number> {
  const alive = new Set((await runCliJson(['peers'], observer.repo)).json.peers.filter((s: any) => s.alive).map((s: any) => s.peerId))
  return all.filter(o => o !== observer && alive.has(o.peerId)).length
}
