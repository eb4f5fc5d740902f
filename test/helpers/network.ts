import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { ChildProcess } from 'node:child_process'

/** The `ionnet` CLI's entry point, run with this process's Node. */
export const BIN = new URL('../../packages/peer/src/bin.js', import.meta.url).pathname

/** What a finished CLI command left behind. */
export interface RunResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs `ionnet <args>` as a user would, with the given repo. */
export async function ionnet (args: string[], options: { repo?: string, timeout?: number } = {}): Promise<RunResult> {
  const full = options.repo == null ? args : [...args, '--repo', options.repo]
  const child = spawn(process.execPath, [BIN, ...full], { stdio: ['ignore', 'pipe', 'pipe'] })
  const out: Buffer[] = []
  const err: Buffer[] = []
  child.stdout.on('data', (d: Buffer) => out.push(d))
  child.stderr.on('data', (d: Buffer) => err.push(d))
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeout ?? 120_000)
  const code = await new Promise<number>(resolve => child.once('close', (c) => { resolve(c ?? -1) }))
  clearTimeout(timer)
  return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }
}

/** A real `ionnet peer start` process on loopback with its own temporary repo. */
export class TestPeer {
  readonly repo: string
  readonly proc: ChildProcess
  readonly peerId: string
  readonly addrs: string[]
  readonly api: string
  readonly log: string[]
  #exited: Promise<number | null>

  constructor (repo: string, proc: ChildProcess, info: { peerId: string, addrs: string[], api: string }, log: string[], exited: Promise<number | null>) {
    this.repo = repo
    this.proc = proc
    this.peerId = info.peerId
    this.addrs = info.addrs
    this.api = info.api
    this.log = log
    this.#exited = exited
  }

  /** The multiaddr others bootstrap to. */
  get addr (): string {
    return this.addrs.find(a => a.includes('/ip4/127.0.0.1/'))!
  }

  /** Events the peer printed as JSON lines (`--json` mode), e.g. repairs. */
  events (name: string): any[] {
    return this.log.flatMap((line) => {
      if (!line.startsWith('{')) return []
      try {
        const e = JSON.parse(line)
        return e.event === name ? [e] : []
      } catch {
        return []
      }
    })
  }

  get running (): boolean {
    return this.proc.exitCode == null && this.proc.signalCode == null
  }

  /** Runs a CLI command against this peer. */
  async run (args: string[], timeout?: number): Promise<RunResult> {
    return ionnet(args, { repo: this.repo, timeout })
  }

  /** Runs a CLI command with --json and parses its answer; fails the test if the command failed. */
  async json<T = any> (args: string[]): Promise<T> {
    const r = await this.run([...args, '--json'])
    if (r.code !== 0) throw new Error(`ionnet ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`)
    return JSON.parse(r.stdout)
  }

  /** Clean stop (SIGTERM), waiting for the process to exit. */
  async stop (): Promise<void> {
    if (!this.running) return
    this.proc.kill('SIGTERM')
    await this.#exited
  }

  /** Abrupt death, as a crash or power cut. */
  async kill (): Promise<void> {
    if (!this.running) return
    this.proc.kill('SIGKILL')
    await this.#exited
  }
}

export interface StartOptions {
  repo?: string
  bootstrap?: TestPeer[]
  heartbeat?: number
  args?: string[]
}

/** Starts a peer process and resolves once it prints its identity. */
export async function startPeer (options: StartOptions = {}): Promise<TestPeer> {
  const repo = options.repo ?? await mkdtemp(join(tmpdir(), 'ionnet-test-'))
  const args = [BIN, 'peer', 'start', '--json', '--repo', repo, '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0',
    '--heartbeat', String(options.heartbeat ?? 300), ...(options.args ?? [])]
  for (const b of options.bootstrap ?? []) args.push('--bootstrap', b.addr)
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DEBUG: process.env.IONNET_TEST_DEBUG ?? '' } })
  const log: string[] = []
  proc.stderr!.on('data', (d: Buffer) => { log.push(d.toString()); if (log.length > 500) log.shift() })
  const exited = new Promise<number | null>(resolve => proc.once('exit', (code) => { resolve(code) }))
  const lines = createInterface({ input: proc.stdout! })
  const info = await new Promise<{ peerId: string, addrs: string[], api: string }>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`peer did not start within 30 s: ${log.join('')}`)) }, 30_000)
    lines.once('line', (line) => { clearTimeout(timer); resolve(JSON.parse(line)) })
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`peer exited with ${code} before starting: ${log.join('')}`)) })
  })
  lines.on('line', (line) => { log.push(line) })
  return new TestPeer(repo, proc, info, log, exited)
}

/** Starts `n` peers, the first one alone and the others bootstrapped to it. */
export async function startNetwork (n: number, options: Omit<StartOptions, 'bootstrap' | 'repo'> = {}): Promise<TestPeer[]> {
  const first = await startPeer(options)
  const rest = await Promise.all(Array.from({ length: n - 1 }, async () => startPeer({ ...options, bootstrap: [first] })))
  return [first, ...rest]
}

/** Stops peers and removes their repos; for `after` hooks. */
export async function cleanup (peers: TestPeer[]): Promise<void> {
  await Promise.all(peers.map(async p => { await p.kill(); await rm(p.repo, { recursive: true, force: true }) }))
}

/** Polls `condition` until it returns a truthy value or the deadline passes. */
export async function waitFor<T> (condition: () => Promise<T> | T, options: { timeout?: number, interval?: number, message?: string } = {}): Promise<NonNullable<T>> {
  const deadline = Date.now() + (options.timeout ?? 20_000)
  let last: unknown
  for (;;) {
    try {
      const v = await condition()
      if (v) return v as NonNullable<T>
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${options.message ?? 'condition'}${last != null ? `: ${String(last)}` : ''}`)
    await new Promise(resolve => setTimeout(resolve, options.interval ?? 100))
  }
}

/** Waits until every peer sees every other one alive. */
export async function waitForMesh (peers: TestPeer[], timeout = 20_000): Promise<void> {
  await Promise.all(peers.map(async p => waitFor(async () => {
    const { peers: seen } = await p.json<{ peers: Array<{ peerId: string, alive: boolean }> }>(['peers'])
    return peers.every(o => o === p || seen.some(s => s.peerId === o.peerId && s.alive))
  }, { timeout, message: `peer ${p.peerId} to see all others alive` })))
}

/** A temporary folder removed by `after` hooks. */
export async function tempDir (): Promise<string> {
  return mkdtemp(join(tmpdir(), 'ionnet-files-'))
}

/** Writes `size` random bytes to a file and returns its path and sha2-256. */
export async function randomFile (dir: string, name: string, size: number): Promise<{ path: string, sha256: string }> {
  const path = join(dir, name)
  const hash = createHash('sha256')
  const bufs: Buffer[] = []
  for (let left = size; left > 0; left -= 1 << 20) {
    const b = randomBytes(Math.min(left, 1 << 20))
    hash.update(b)
    bufs.push(b)
  }
  await writeFile(path, Buffer.concat(bufs))
  return { path, sha256: hash.digest('hex') }
}

/** sha2-256 of a file, streamed. */
export async function sha256File (path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const piece of createReadStream(path)) hash.update(piece)
  return hash.digest('hex')
}
