import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { basename, dirname, join } from 'node:path'
import { DEAD_AFTER, HEARTBEAT, HEAL_INTERVAL, MAX_HOSTS, MESH_TIMEOUT, START_BATCH } from './constants.ts'
import { LabUsageError, NamespacesUnavailableError } from './errors.ts'
import { LabHost } from './host.ts'
import { Network } from './network.ts'
import { ownRecord, removeLabSync, removeStaleLabs, writeRecord } from './registry.ts'
import { checkSupport } from './support.ts'
import { waitFor } from './wait.ts'
import type { PeerEvent } from './host.ts'
import type { LinkRates, PortState } from './network.ts'
import type { HealthReport, PeerSummary, PutResult } from '@ionnet/client'

/** A host by number (from 1) or the host itself. */
export type HostRef = number | LabHost

/** Settings of a lab; every one has a default. */
export interface LabInit {
  /** Hosts to start with (default 4). */
  hosts?: number
  /** Heartbeat interval of the peers, ms. */
  heartbeat?: number
  /** Missed heartbeats after which a peer is dead. */
  deadAfter?: number
  /** Healer pass interval of the peers, ms. */
  healInterval?: number
  /** Extra `peer start` arguments for every peer. */
  peerArgs?: string[]
  /** Extra `peer start` arguments for some hosts, by host number (e.g. `{ 3: ['--capacity', '0'] }`). */
  hostArgs?: Record<number, string[]>
  /** Progress lines (hosts starting, faults); the lab itself never prints. */
  log?: (line: string) => void
}

/** A get as the lab measured it. */
export interface GetResult {
  name: string
  size: number
  output: string
  /** Wall time of the `ionnet get` command, ms (CLI start included). */
  ms: number
  /** size / ms, in bits per second. */
  rate: number
}

/** `ionnet health --json`: live copies of every block of a file (the API's own type). */
export type Health = HealthReport

/** A row of `ionnet peers --json`. */
export type PeerRow = PeerSummary

/** What `ionnet put --json` answers. */
export type PutAnswer = PutResult

/**
 * A network of real hosts on one machine: N network namespaces on a private subnet joined by a virtual switch,
 * each running a real `ionnet peer start`. The faults (cut, partition, bandwidth limits, kill, pause, restart) act on
 * the kernel's network and on the processes, so the peers cannot tell the lab from a real LAN.
 *
 * Everything the lab creates is named `ionlab-<id>-...` and recorded with its owner's pid before it exists; destroy()
 * removes it all, an `exit` handler does the same if the process ends without it, and a lab whose owner died is
 * removed by the next one that starts.
 */
export class Lab {
  readonly id: string
  /** The lab's folder: repos under `hosts/`, files under `files/`. */
  readonly dir: string
  readonly hosts: LabHost[] = []
  readonly network: Network
  readonly #init: Required<Omit<LabInit, 'log' | 'hostArgs'>> & Pick<LabInit, 'log' | 'hostArgs'>
  readonly #node = process.execPath
  readonly #bin = peerBin()
  readonly #agent = new URL('./agent.ts', import.meta.url).pathname
  #onExit?: () => void
  #destroyed?: Promise<void>

  constructor (init: LabInit = {}) {
    this.id = randomBytes(3).toString('hex')
    this.#init = {
      hosts: init.hosts ?? 4,
      heartbeat: init.heartbeat ?? HEARTBEAT,
      deadAfter: init.deadAfter ?? DEAD_AFTER,
      healInterval: init.healInterval ?? HEAL_INTERVAL,
      peerArgs: init.peerArgs ?? [],
      hostArgs: init.hostArgs,
      log: init.log
    }
    if (!Number.isInteger(this.#init.hosts) || this.#init.hosts < 1 || this.#init.hosts > MAX_HOSTS) {
      throw new LabUsageError(`hosts must be a whole number from 1 to ${MAX_HOSTS}`)
    }
    this.network = new Network({ labId: this.id })
    this.dir = ownRecord(this.id).dir
  }

  /**
   * Builds the network, starts every peer (the first alone, the others in small batches bootstrapped to it and to
   * one more running host) and waits until every peer sees every other one alive.
   */
  async start (): Promise<void> {
    const support = await checkSupport()
    if (!support.ok) throw new NamespacesUnavailableError(support.reason)
    const removed = await removeStaleLabs()
    if (removed.length > 0) this.#say(`removed stale labs: ${removed.join(', ')}`)
    await writeRecord(ownRecord(this.id))
    this.#onExit = () => { removeLabSync(this.id) }
    process.once('exit', this.#onExit)
    started.add(this.id)
    trapSignals()
    await mkdir(join(this.dir, 'hosts'), { recursive: true })
    await mkdir(join(this.dir, 'files'), { recursive: true })
    await this.network.create()
    for (let i = 1; i <= this.#init.hosts; i++) await this.#addHost()
    this.#say(`lab ${this.id}: ${this.hosts.length} hosts on ${Network.addressOf(1)}..${Network.addressOf(this.hosts.length)}, switch ${this.network.switchNs}`)
    await this.#startPeer(this.hosts[0])
    for (let i = 1; i < this.hosts.length; i += START_BATCH) {
      await Promise.all(this.hosts.slice(i, i + START_BATCH).map(async h => this.#startPeer(h)))
    }
    await this.waitForMesh()
    this.#say(`lab ${this.id}: every peer sees every other one`)
  }

  /** A host by number (from 1). */
  host (ref: HostRef): LabHost {
    const host = typeof ref === 'number' ? this.hosts[ref - 1] : ref
    if (host == null || !this.hosts.includes(host)) throw new LabUsageError(`no host ${String(ref)} in the lab (hosts 1..${this.hosts.length})`)
    return host
  }

  /** Hosts whose peer process runs and is not paused (whatever their cable). */
  running (): LabHost[] {
    return this.hosts.filter(h => h.running && !h.paused)
  }

  /** Hosts a user could work with right now: running, not paused, cable in. */
  live (): LabHost[] {
    return this.running().filter(h => !this.network.state(h.index).cut)
  }

  /** The network state of a host's cable: cut, partition group, rates. */
  link (ref: HostRef): PortState {
    return this.network.state(this.host(ref).index)
  }

  /** Adds a new host to the network and starts its peer: a device joining. */
  async addHost (peerArgs?: string[]): Promise<LabHost> {
    const host = await this.#addHost(peerArgs)
    await this.#startPeer(host)
    this.#say(`${host.name} joined`)
    return host
  }

  // ---- faults --------------------------------------------------------------------------------------------------

  /** Pulls a host's cable (its switch port goes down). */
  async cut (ref: HostRef): Promise<void> {
    await this.network.cut(this.host(ref).index)
    this.#say(`${this.host(ref).name} cut off`)
  }

  /** Plugs a host's cable back in. */
  async reconnect (ref: HostRef): Promise<void> {
    await this.network.reconnect(this.host(ref).index)
    this.#say(`${this.host(ref).name} reconnected`)
  }

  /** Splits the hosts into groups that cannot reach each other; hosts in no group stay with the first. */
  async partition (groups: HostRef[][]): Promise<void> {
    const numbers = groups.map(g => g.map(h => this.host(h).index))
    await this.network.partition(numbers)
    this.#say(`partition ${numbers.map(g => g.map(n => `h${n}`).join(',')).join(' | ')}`)
  }

  /** Ends a partition. */
  async heal (): Promise<void> {
    await this.network.heal()
    this.#say('partition healed')
  }

  /** Limits a host's link: `rate` both ways, or `up` and `down` (bits per second) on their own. */
  async limit (ref: HostRef, rates: LinkRates & { rate?: number }): Promise<void> {
    const host = this.host(ref)
    const up = rates.up ?? rates.rate
    const down = rates.down ?? rates.rate
    await this.network.shape(host.index, { up, down })
    this.#say(`${host.name} limited to ${formatRate(up)} up, ${formatRate(down)} down`)
  }

  /** Removes a host's bandwidth limits. */
  async unlimit (ref: HostRef): Promise<void> {
    await this.network.shape(this.host(ref).index, {})
    this.#say(`${this.host(ref).name} unlimited`)
  }

  /** SIGKILLs a host's peer: a crash or power cut. */
  async kill (ref: HostRef): Promise<void> {
    await this.host(ref).kill()
    this.#say(`${this.host(ref).name} killed`)
  }

  /** Stops a host's peer cleanly (SIGTERM): a user quitting. */
  async stop (ref: HostRef): Promise<void> {
    await this.host(ref).stop()
    this.#say(`${this.host(ref).name} stopped`)
  }

  /** Freezes a host's peer (SIGSTOP). */
  pause (ref: HostRef): void {
    this.host(ref).pause()
    this.#say(`${this.host(ref).name} paused`)
  }

  /** Lets a frozen peer run again (SIGCONT). */
  resume (ref: HostRef): void {
    this.host(ref).resume()
    this.#say(`${this.host(ref).name} resumed`)
  }

  /** Starts a host's peer again on its repo (killing it first if it runs), bootstrapped to hosts it can reach. */
  async restart (ref: HostRef): Promise<void> {
    const host = this.host(ref)
    await host.kill()
    await this.#startPeer(host)
    this.#say(`${host.name} restarted`)
  }

  // ---- operations ----------------------------------------------------------------------------------------------

  /** Writes `size` random bytes to a file in the lab's folder; resolves its path and sha2-256. */
  async randomFile (name: string, size: number): Promise<{ path: string, sha256: string, size: number }> {
    const path = join(this.dir, 'files', name)
    const bytes = randomBytes(size)
    await writeFile(path, bytes)
    return { path, sha256: createHash('sha256').update(bytes).digest('hex'), size }
  }

  /** Puts a file (a path on this machine; the peer reads it) from a host, as `ionnet put <path>` there would. */
  async put (ref: HostRef, path: string, options: { replicas?: number, chunkSize?: number } = {}): Promise<PutAnswer> {
    const q = new URLSearchParams({ path, name: basename(path) })
    if (options.replicas != null) q.set('replicas', String(options.replicas))
    if (options.chunkSize != null) q.set('chunkSize', String(options.chunkSize))
    return this.host(ref).api<PutAnswer>('POST', `/api/v1/put?${q.toString()}`)
  }

  /**
   * Gets a file on a host into `output` (default: a fresh file in the lab's folder), as `ionnet get <link> -o` there
   * would, and measures the rate from the request to the peer's answer that the file is whole.
   */
  async get (ref: HostRef, link: string, output?: string): Promise<GetResult> {
    const host = this.host(ref)
    const out = output ?? join(this.dir, 'files', `get-${host.name}-${randomBytes(4).toString('hex')}`)
    const started = Date.now()
    const answer = await host.api<{ name: string, size: number, output: string }>('GET', `/api/v1/get?${new URLSearchParams({ link, output: out }).toString()}`)
    const ms = Math.max(1, Date.now() - started)
    return { ...answer, ms, rate: answer.size * 8 * 1000 / ms }
  }

  /** Live copies of every block of a file, as a host sees them (`ionnet health <link>`). */
  async health (ref: HostRef, link: string): Promise<Health> {
    return this.host(ref).api<Health>('GET', `/api/v1/health?${new URLSearchParams({ link }).toString()}`)
  }

  /** Peers a host knows, alive or dead (`ionnet peers`). */
  async peers (ref: HostRef): Promise<PeerRow[]> {
    return (await this.host(ref).api<{ peers: PeerRow[] }>('GET', '/api/v1/peers')).peers
  }

  /** CIDs of the chunks in a host's repo (read from its chunk store's folder, so it works while the peer is down). */
  async chunksOn (ref: HostRef): Promise<Set<string>> {
    const blocks = join(this.host(ref).repo, 'chunks', 'blocks')
    const cids = new Set<string>()
    for (const shard of await readdir(blocks).catch(() => [])) {
      for (const name of await readdir(join(blocks, shard)).catch(() => [])) {
        // sidecar files (replica counts) and temporary files carry a dot; chunks are named by their bare CID
        if (!name.includes('.')) cids.add(name)
      }
    }
    return cids
  }

  /** Bytes a host sent and received on its cable so far (kernel counters: everything, heartbeats and DHT included). */
  async counters (ref: HostRef): Promise<{ tx: number, rx: number }> {
    return this.network.counters(this.host(ref).index)
  }

  /** Hosts that a host holds an established TCP connection with, as the kernel sees it (not as the peer believes). */
  async connectedTo (ref: HostRef): Promise<number[]> {
    const addresses = await this.network.connectedTo(this.host(ref).index)
    return this.hosts.filter(h => addresses.includes(h.address)).map(h => h.index)
  }

  /** Bytes sent by all hosts together so far: what crossed the switch. */
  async traffic (): Promise<number> {
    let total = 0
    for (const h of this.hosts) total += (await this.counters(h)).tx
    return total
  }

  /** Which hosts hold each chunk (read from their repos): chunk CID → host numbers. */
  async placement (): Promise<Map<string, number[]>> {
    const holders = new Map<string, number[]>()
    for (const h of this.hosts) {
      for (const cid of await this.chunksOn(h)) holders.set(cid, [...(holders.get(cid) ?? []), h.index])
    }
    return holders
  }

  /**
   * Waits until each of `hosts` (default: every running host) sees every other one alive. Hosts are asked one after
   * the other: by the time the first sees everyone, most others do too, and each question costs a CLI process.
   */
  async waitForMesh (hosts: LabHost[] = this.running(), timeout = MESH_TIMEOUT): Promise<void> {
    const deadline = Date.now() + timeout
    for (const h of hosts) {
      await waitFor(async () => {
        const seen = await this.peers(h)
        return hosts.every(o => o === h || seen.some(s => s.peerId === o.peerId && s.alive))
      }, { timeout: Math.max(0, deadline - Date.now()), interval: 500, message: `${h.name} to see ${hosts.length - 1} other peers alive` })
    }
  }

  /** Repair events (copies made by healers) of every host since `since` (ms since the epoch). */
  repairs (since = 0): PeerEvent[] {
    return this.hosts.flatMap(h => h.events('repair', since)).sort((a, b) => a.at - b.at)
  }

  /** Removes everything the lab created: processes, namespaces, folder, record. Safe to call twice. */
  async destroy (): Promise<void> {
    this.#destroyed ??= (async () => {
      // no record written means nothing was created: a start that failed its checks leaves nothing to remove
      if (this.#onExit == null) return
      for (const h of this.hosts) h.stopAgent()
      await Promise.all(this.hosts.map(async h => h.kill().catch(() => {})))
      await this.network.destroy()
      if (this.#onExit != null) process.removeListener('exit', this.#onExit)
      started.delete(this.id)
      this.#say(`lab ${this.id} removed`)
    })()
    return this.#destroyed
  }

  // ---- internals -----------------------------------------------------------------------------------------------

  async #addHost (peerArgs?: string[]): Promise<LabHost> {
    const index = this.hosts.length + 1
    if (index > MAX_HOSTS) throw new LabUsageError(`a lab holds at most ${MAX_HOSTS} hosts`)
    await this.network.addHost(index)
    const host = new LabHost({
      index,
      ns: this.network.namespaceOf(index),
      address: Network.addressOf(index),
      repo: join(this.dir, 'hosts', `h${index}`),
      node: this.#node,
      bin: this.#bin,
      agent: this.#agent
    }, {
      peerArgs: [
        '--heartbeat', String(this.#init.heartbeat), '--dead-after', String(this.#init.deadAfter), '--heal-interval', String(this.#init.healInterval),
        ...this.#init.peerArgs, ...(this.#init.hostArgs?.[index] ?? []), ...(peerArgs ?? [])
      ]
    })
    this.hosts.push(host)
    return host
  }

  /** Starts a host's peer, bootstrapped to up to two running hosts it can reach (the lowest-numbered and one at random). */
  async #startPeer (host: LabHost): Promise<void> {
    const mine = this.network.state(host.index)
    const reachable = this.live().filter(h => h !== host && h.peerId != null && this.network.state(h.index).group === mine.group)
    const chosen = reachable.length <= 2 ? reachable : [reachable[0], reachable[1 + Math.floor(Math.random() * (reachable.length - 1))]]
    await host.start(chosen.map(h => h.addr))
  }

  #say (line: string): void {
    this.#init.log?.(line)
  }
}

/** Labs this process started and has not destroyed yet, for the signal trap. */
const started = new Set<string>()
let trapped = false

/**
 * On Ctrl-C, SIGTERM or SIGHUP, removes this process's labs before the signal ends it, as `exit` handlers never run
 * then. Only for signals the program does not handle itself: a program that does (the CLI) calls destroy() there.
 */
function trapSignals (): void {
  if (trapped) return
  trapped = true
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    if (process.listenerCount(signal) > 0) continue
    process.once(signal, () => {
      for (const id of started) removeLabSync(id)
      // the default action of the signal, now that nothing listens
      process.kill(process.pid, signal)
    })
  }
}

/** Creates a lab (not started yet: call start()). */
export function createLab (init: LabInit = {}): Lab {
  return new Lab(init)
}

/** The `ionnet` entry point of the peer package this lab runs. */
function peerBin (): string {
  const require = createRequire(import.meta.url)
  return join(dirname(require.resolve('@ionnet/peer')), 'bin.js')
}

/** sha2-256 of a file, streamed. */
export async function sha256File (path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const piece of createReadStream(path)) hash.update(piece)
  return hash.digest('hex')
}

/** 10 Mbit/s style, for logs. */
export function formatRate (bits: number | undefined): string {
  if (bits == null) return 'unlimited'
  if (bits >= 1e9) return `${+(bits / 1e9).toFixed(2)} Gbit/s`
  if (bits >= 1e6) return `${+(bits / 1e6).toFixed(2)} Mbit/s`
  return `${+(bits / 1e3).toFixed(2)} kbit/s`
}

/** Parses rates like 10mbit, 10Mbit/s, 500kbit, 1gbit or a plain number of bits per second. */
export function parseRate (text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(|bit|[kmg]bit|[kmg])(?:\/s|ps)?\s*$/i.exec(text)
  if (m == null) throw new LabUsageError(`not a rate: ${text} (expected e.g. 10mbit, 500kbit, 1gbit)`)
  const unit = m[2].toLowerCase().replace('bit', '')
  const factor = unit === '' ? 1 : unit === 'k' ? 1e3 : unit === 'm' ? 1e6 : 1e9
  return Number(m[1]) * factor
}
