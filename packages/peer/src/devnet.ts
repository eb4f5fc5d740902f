import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { DEVNET_HEARTBEAT, DEVNET_PEERS, DEVNET_START_TIMEOUT, PEER_NODE_FLAGS } from './constants.ts'
import { IonNetError } from './errors.ts'
import type { ChildProcess } from 'node:child_process'

/** Settings of a local playground network; all have defaults. */
export interface DevnetInit {
  /** Peers to start. */
  peers?: number
  /** Folder that holds the repos (`peer-1`, `peer-2`...); a new temporary folder, removed on stop, when unset. */
  dir?: string
  /** Heartbeat interval in ms: short, so a stopped peer and the repairs that follow show within seconds. */
  heartbeat?: number
  /** Extra `peer start` arguments for every peer. */
  args?: string[]
  /** Lines the peers print after starting (repairs, errors), prefixed with the peer's number. */
  onLine?(peer: number, line: string): void
  /** Called when a peer exits before the network is stopped (killed by the user, say). */
  onExit?(peer: number, code: number | null): void
  /** Aborting while the peers start stops the ones already running. */
  signal?: AbortSignal
}

/** One peer of a devnet. */
export interface DevnetPeer {
  /** 1-based number, as printed. */
  index: number
  peerId: string
  repo: string
  addrs: string[]
  /** Base URL of the peer's HTTP API. */
  api: string
  /** The peer's web dashboard, token included: open it in a browser. */
  dashboard: string
  pid: number
}

/** A running devnet. */
export interface Devnet {
  dir: string
  peers: DevnetPeer[]
  /** Stops every peer (SIGTERM, so each shuts down cleanly) and removes a temporary folder. */
  stop(): Promise<void>
}

/** A devnet peer did not come up. */
export class DevnetError extends IonNetError {
  static name = 'DevnetError'
  name = 'DevnetError'
  code = 'ERR_DEVNET'
}

const BIN = new URL('./bin.js', import.meta.url).pathname

/**
 * Starts `peers` real `ionnet peer start` processes on loopback, each with its own repo under one folder: the first
 * alone, the others bootstrapped to it. It is the playground of the README's tour: put on one peer, get from
 * another, kill one and watch the healer.
 */
export async function startDevnet (init: DevnetInit = {}): Promise<Devnet> {
  const count = init.peers ?? DEVNET_PEERS
  if (!Number.isSafeInteger(count) || count < 1 || count > 64) throw new DevnetError(`a devnet has 1 to 64 peers, not ${count}`)
  const temporary = init.dir == null
  const dir = init.dir ?? await mkdtemp(join(tmpdir(), 'ionnet-devnet-'))
  const children: ChildProcess[] = []
  let stopping = false
  const start = async (index: number, bootstrap?: string): Promise<DevnetPeer> => {
    const args = [BIN, 'peer', 'start', '--json', '--repo', join(dir, `peer-${index}`), '--listen', '/ip4/127.0.0.1/tcp/0',
      '--api', '127.0.0.1:0', '--heartbeat', String(init.heartbeat ?? DEVNET_HEARTBEAT), ...(init.args ?? [])]
    if (bootstrap != null) args.push('--bootstrap', bootstrap)
    const child = spawn(process.execPath, [...PEER_NODE_FLAGS, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    children.push(child)
    const errors: string[] = []
    child.stderr!.on('data', (d: Buffer) => { errors.push(d.toString()); if (errors.length > 50) errors.shift() })
    const lines = createInterface({ input: child.stdout! })
    const first = await Promise.race([
      once(lines, 'line', { signal: init.signal }).then(([line]) => line as string),
      once(child, 'exit').then(() => { throw new DevnetError(`peer ${index} exited while starting: ${errors.join('').trim().split('\n').at(-1) ?? ''}`) }),
      new Promise<never>((_resolve, reject) => setTimeout(() => { reject(new DevnetError(`peer ${index} did not start within ${DEVNET_START_TIMEOUT / 1000} s`)) }, DEVNET_START_TIMEOUT).unref())
    ])
    const info = JSON.parse(first)
    lines.on('line', (line) => { init.onLine?.(index, line) })
    child.stderr!.on('data', (d: Buffer) => { for (const line of d.toString().trimEnd().split('\n')) init.onLine?.(index, line) })
    child.once('exit', (code) => { if (!stopping) init.onExit?.(index, code) })
    return { index, peerId: info.peerId, repo: info.repo, addrs: info.addrs, api: info.api, dashboard: info.dashboard, pid: child.pid! }
  }
  const stop = async (): Promise<void> => {
    stopping = true
    await Promise.all(children.map(async (child) => {
      if (child.exitCode != null || child.signalCode != null) return
      const exited = once(child, 'exit')
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }))
    if (temporary) await rm(dir, { recursive: true, force: true })
  }
  try {
    const first = await start(1)
    const addr = first.addrs.find(a => a.startsWith('/ip4/127.0.0.1/')) ?? first.addrs[0]
    const rest = await Promise.all(Array.from({ length: count - 1 }, async (_, i) => start(i + 2, addr)))
    return { dir, peers: [first, ...rest], stop }
  } catch (err) {
    await stop()
    throw err
  }
}
