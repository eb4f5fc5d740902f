import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { API_PORT, COMMAND_TIMEOUT, LOG_LINES, PEER_PORT, START_TIMEOUT } from './constants.ts'
import { HostApiError, HostCommandError, PeerStartError } from './errors.ts'
import type { ChildProcess } from 'node:child_process'

/** What a finished CLI command left behind, and how long it took. */
export interface CommandResult {
  code: number
  stdout: string
  stderr: string
  ms: number
}

/** An event a peer printed as a JSON line (`peer start --json`), stamped with when the lab read it. */
export interface PeerEvent {
  event: string
  at: number
  host: number
  [key: string]: unknown
}

/** What the agent answered: the HTTP status (0: the API could not be reached) and the JSON body. */
interface ApiAnswer {
  status: number
  body: any
}

/** A host's agent process and the requests waiting for its answers. */
interface Agent {
  proc: ChildProcess
  pending: Map<number, (answer: ApiAnswer) => void>
}

export interface HostComponents {
  /** Host number, from 1. */
  index: number
  /** The host's network namespace. */
  ns: string
  /** The host's address on the lab subnet. */
  address: string
  /** The peer's repo folder. */
  repo: string
  /** `node`, the `ionnet` entry point and the lab's agent, run with `ip netns exec`. */
  node: string
  bin: string
  agent: string
}

export interface HostInit {
  /** Arguments for `ionnet peer start` besides repo, listen, api and bootstrap. */
  peerArgs?: string[]
}

/**
 * One host of the lab and the IonNet peer it runs: a `ionnet peer start` process inside the host's namespace,
 * listening on the host's address, its API on the namespace's own 127.0.0.1. The host outlives its processes: kill
 * and restart keep its repo, so the peer comes back with the same identity and chunks.
 *
 * `ip netns exec` replaces itself with the command, so the child's pid is the peer's own: signals reach it directly.
 */
export class LabHost {
  readonly index: number
  readonly name: string
  readonly ns: string
  readonly address: string
  readonly repo: string
  /** Every line the peer processes of this host printed, most recent last (bounded). */
  readonly log: string[] = []
  peerArgs: string[]
  /** Set once the first peer process printed its identity; it survives restarts. */
  peerId?: string
  /** Processes started on this host so far. */
  starts = 0
  readonly #node: string
  readonly #bin: string
  readonly #agentPath: string
  #agent?: Agent
  #requests = 0
  readonly #events: PeerEvent[] = []
  #proc?: ChildProcess
  #exited?: Promise<void>
  #paused = false

  constructor (components: HostComponents, init: HostInit = {}) {
    this.index = components.index
    this.name = `h${components.index}`
    this.ns = components.ns
    this.address = components.address
    this.repo = components.repo
    this.#node = components.node
    this.#bin = components.bin
    this.#agentPath = components.agent
    this.peerArgs = init.peerArgs ?? []
  }

  /** The multiaddr others bootstrap to. */
  get addr (): string {
    if (this.peerId == null) throw new PeerStartError(`${this.name} has not started a peer yet`)
    return `/ip4/${this.address}/tcp/${PEER_PORT}/p2p/${this.peerId}`
  }

  /** True while the peer process exists (paused or not). */
  get running (): boolean {
    return this.#proc != null && this.#proc.exitCode == null && this.#proc.signalCode == null
  }

  /** True while the peer process is stopped by SIGSTOP. */
  get paused (): boolean {
    return this.running && this.#paused
  }

  get pid (): number | undefined {
    return this.running ? this.#proc?.pid : undefined
  }

  /** Starts the peer and resolves once it printed its identity. */
  async start (bootstrap: string[] = []): Promise<void> {
    if (this.running) throw new PeerStartError(`${this.name} runs a peer already`)
    const args = ['netns', 'exec', this.ns, this.#node, this.#bin, 'peer', 'start', '--json', '--repo', this.repo,
      '--listen', `/ip4/${this.address}/tcp/${PEER_PORT}`, '--api', `127.0.0.1:${API_PORT}`, ...this.peerArgs]
    for (const b of bootstrap) args.push('--bootstrap', b)
    const proc = spawn('ip', args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DEBUG: process.env.IONNET_LAB_DEBUG ?? '' } })
    this.#proc = proc
    this.#paused = false
    this.starts++
    this.#exited = new Promise(resolve => proc.once('exit', () => { resolve() }))
    proc.stderr!.on('data', (d: Buffer) => { this.#keep(d.toString().trimEnd()) })
    const lines = createInterface({ input: proc.stdout! })
    const info = await new Promise<{ peerId: string }>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new PeerStartError(`${this.name}: peer did not start within ${START_TIMEOUT / 1000} s: ${this.#tail()}`)) }, START_TIMEOUT)
      lines.once('line', (line) => {
        clearTimeout(timer)
        try { resolve(JSON.parse(line)) } catch { reject(new PeerStartError(`${this.name}: unexpected first line from the peer: ${line}`)) }
      })
      void this.#exited!.then(() => { clearTimeout(timer); reject(new PeerStartError(`${this.name}: peer exited with ${proc.exitCode ?? proc.signalCode} before starting: ${this.#tail()}`)) })
    })
    this.peerId = info.peerId
    lines.on('line', (line) => { this.#read(line) })
  }

  /** Clean stop (SIGTERM), as a user quitting; waits for the exit. */
  async stop (): Promise<void> {
    await this.#signal('SIGTERM')
  }

  /** Abrupt death (SIGKILL), as a crash or a power cut. */
  async kill (): Promise<void> {
    await this.#signal('SIGKILL')
  }

  /** Freezes the peer (SIGSTOP): its connections stay open but nothing answers, as a hung device. */
  pause (): void {
    if (!this.running) throw new PeerStartError(`${this.name} runs no peer`)
    this.#proc!.kill('SIGSTOP')
    this.#paused = true
  }

  /** Lets a paused peer run again (SIGCONT). */
  resume (): void {
    if (!this.running) throw new PeerStartError(`${this.name} runs no peer`)
    this.#proc!.kill('SIGCONT')
    this.#paused = false
  }

  async #signal (signal: NodeJS.Signals): Promise<void> {
    if (!this.running) return
    // a stopped process only acts on SIGKILL: let it run to handle SIGTERM
    if (this.#paused && signal !== 'SIGKILL') this.#proc!.kill('SIGCONT')
    this.#proc!.kill(signal)
    await this.#exited
    this.#paused = false
  }

  /** Runs `ionnet <args> --repo <repo>` inside the host's namespace, where the peer's API is reachable. */
  async run (args: string[], timeout = COMMAND_TIMEOUT): Promise<CommandResult> {
    const started = Date.now()
    const child = spawn('ip', ['netns', 'exec', this.ns, this.#node, this.#bin, ...args, '--repo', this.repo], { stdio: ['ignore', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (d: Buffer) => out.push(d))
    child.stderr.on('data', (d: Buffer) => err.push(d))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout)
    const code = await new Promise<number>(resolve => child.once('close', (c) => { resolve(c ?? -1) }))
    clearTimeout(timer)
    return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), ms: Date.now() - started }
  }

  /** Runs a CLI command with --json and parses its answer; HostCommandError when the command failed. */
  async json<T = any> (args: string[], timeout?: number): Promise<T> {
    const r = await this.run([...args, '--json'], timeout)
    if (r.code !== 0) throw new HostCommandError(`${this.name}: ionnet ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`, r.code, r.stderr)
    return JSON.parse(r.stdout)
  }

  /**
   * Calls the peer's HTTP API from inside the host (through the host's agent, see agent.ts) and resolves the JSON
   * answer; HostApiError with the API's error code otherwise. What `ionnet <command> --json` does, without starting
   * a process per call.
   */
  async api<T = any> (method: 'GET' | 'POST', path: string, timeout = COMMAND_TIMEOUT): Promise<T> {
    const agent = this.#startAgent()
    const id = ++this.#requests
    const answer = await new Promise<ApiAnswer>((resolve) => {
      agent.pending.set(id, resolve)
      agent.proc.stdin!.write(JSON.stringify({ id, method, path, timeout }) + '\n')
    })
    if (answer.status === 200) return answer.body as T
    const error = answer.body?.error ?? {}
    throw new HostApiError(`${this.name}: ${method} ${path.replace(/\?.*/, '')}: ${error.message ?? `HTTP ${answer.status}`}`, error.code ?? 'ERR_INTERNAL')
  }

  /** Ends the host's agent (the lab does it when it is removed). */
  stopAgent (): void {
    this.#agent?.proc.kill('SIGKILL')
    this.#agent = undefined
  }

  #startAgent (): Agent {
    if (this.#agent != null) return this.#agent
    const proc = spawn('ip', ['netns', 'exec', this.ns, this.#node, this.#agentPath, this.repo], { stdio: ['pipe', 'pipe', 'ignore'] })
    const agent: Agent = { proc, pending: new Map() }
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      const { id, status, body } = JSON.parse(line)
      agent.pending.get(id)?.({ status, body })
      agent.pending.delete(id)
    })
    proc.once('exit', () => {
      if (this.#agent === agent) this.#agent = undefined
      for (const resolve of agent.pending.values()) resolve({ status: 0, body: { error: { code: 'ERR_AGENT_EXITED', message: 'the lab agent of this host exited' } } })
    })
    this.#agent = agent
    return agent
  }

  /** Events printed by every peer process this host ran (repairs, with `reason`, `bytes`, `ms`). */
  events (name?: string, since = 0): PeerEvent[] {
    return this.#events.filter(e => (name == null || e.event === name) && e.at >= since)
  }

  #read (line: string): void {
    if (line.startsWith('{')) {
      try {
        const event = JSON.parse(line)
        if (typeof event.event === 'string') this.#events.push({ ...event, at: Date.now(), host: this.index })
      } catch {}
    }
    this.#keep(line)
  }

  #keep (line: string): void {
    if (line === '') return
    this.log.push(line)
    if (this.log.length > LOG_LINES) this.log.shift()
  }

  #tail (): string {
    return this.log.slice(-10).join('\n')
  }
}
