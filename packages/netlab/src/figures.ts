import { rm } from 'node:fs/promises'
import { sha256File } from './lab.ts'
import { sleep } from './wait.ts'
import type { Health, Lab } from './lab.ts'
import type { LabHost, PeerEvent } from './host.ts'

/**
 * What scenarios measure: whether files stay readable (a prober that keeps reading them), how long the network takes
 * to restore every copy, and what moved over the wires. Scenarios stay short because these live here.
 */

/** A file stored in the lab, with what is needed to read and check it. */
export interface StoredFile {
  name: string
  link: string
  sha256: string
  size: number
}

/** Puts `count` random files of `size` bytes from random hosts (or `from`) and resolves them. */
export async function storeFiles (lab: Lab, options: { count: number, size: number, replicas: number, from?: () => LabHost, rng?: () => number }): Promise<StoredFile[]> {
  const rng = options.rng ?? Math.random
  const files: StoredFile[] = []
  for (let i = 0; i < options.count; i++) {
    const name = `file-${i + 1}.bin`
    const f = await lab.randomFile(name, options.size)
    const live = lab.live()
    const host = options.from?.() ?? live[Math.floor(rng() * live.length)]
    const put = await lab.put(host, f.path, { replicas: options.replicas })
    files.push({ name, link: put.link, sha256: f.sha256, size: f.size })
    await rm(f.path, { force: true })
  }
  return files
}

/** Reads a file on a host and checks its bytes; resolves undefined when good, or what went wrong. */
export async function readFile (lab: Lab, host: LabHost, file: StoredFile): Promise<string | undefined> {
  try {
    const got = await lab.get(host, file.link)
    const sha = await sha256File(got.output)
    await rm(got.output, { force: true })
    return sha === file.sha256 ? undefined : `${host.name} read ${file.name} with sha256 ${sha.slice(0, 12)}…, expected ${file.sha256.slice(0, 12)}…`
  } catch (err: any) {
    return err.message
  }
}

/** Availability of one file as the prober saw it. */
export interface FileAvailability {
  name: string
  reads: number
  failed: number
  /** ms from the start of each failed read to the start of the next good one, summed. */
  unreadableMs: number
  /** The longest such stretch. */
  longestMs: number
  lastError?: string
}

/**
 * Keeps reading the files, one at a time, each from a random host among `readers()`, and records how long each file
 * was unreadable: from the start of a failed read to the start of the next good read of that file. Files are read
 * round robin, except that a file that failed is read again (by another random reader) until it succeeds, so an
 * outage is timed to within one read. A failed read whose reader stopped being a reader meanwhile (it was cut off
 * or killed during the read) says nothing about the file and is not counted.
 */
export class ReadProber {
  readonly #lab: Lab
  readonly #files: StoredFile[]
  readonly #readers: () => LabHost[]
  readonly #pause: number
  readonly #rng: () => number
  readonly #stats: Map<string, FileAvailability & { downSince?: number }>
  #abort?: AbortController
  #loop?: Promise<void>

  constructor (components: { lab: Lab, files: StoredFile[], readers?: () => LabHost[] }, init: { pause?: number, rng?: () => number } = {}) {
    this.#lab = components.lab
    this.#files = components.files
    this.#readers = components.readers ?? (() => components.lab.live())
    this.#pause = init.pause ?? 200
    this.#rng = init.rng ?? Math.random
    this.#stats = new Map(this.#files.map(f => [f.name, { name: f.name, reads: 0, failed: 0, unreadableMs: 0, longestMs: 0 }]))
  }

  start (): void {
    this.#abort = new AbortController()
    const signal = this.#abort.signal
    this.#loop = (async () => {
      let i = 0
      while (!signal.aborted) {
        const file = this.#files[i % this.#files.length]
        const readers = this.#readers()
        const ok = readers.length === 0 || await this.#probe(file, readers[Math.floor(this.#rng() * readers.length)])
        if (ok) i++
        await sleep(this.#pause, signal).catch(() => {})
      }
    })()
  }

  /** Stops probing; a file still unreadable counts until now. */
  async stop (): Promise<FileAvailability[]> {
    this.#abort?.abort()
    await this.#loop
    const now = Date.now()
    for (const s of this.#stats.values()) if (s.downSince != null) this.#close(s, now)
    return this.figures()
  }

  figures (): FileAvailability[] {
    return [...this.#stats.values()].map(({ downSince: _, ...s }) => s)
  }

  /** Reads a file once; resolves false when the read failed and counted. */
  async #probe (file: StoredFile, host: LabHost): Promise<boolean> {
    const started = Date.now()
    const error = await readFile(this.#lab, host, file)
    const s = this.#stats.get(file.name)!
    // a reader that left (or whose own peer refused the API call, killed a moment before the lab marked it) says
    // nothing about the file: only the hosts still up count
    if (error != null && (!this.#readers().includes(host) || /ECONNREFUSED/.test(error))) return true
    s.reads++
    if (error == null) {
      if (s.downSince != null) this.#close(s, started)
      return true
    }
    s.failed++
    s.lastError = error
    s.downSince ??= started
    return false
  }

  #close (s: FileAvailability & { downSince?: number }, at: number): void {
    const ms = Math.max(0, at - s.downSince!)
    s.unreadableMs += ms
    s.longestMs = Math.max(s.longestMs, ms)
    s.downSince = undefined
  }
}

/** How a wait for full replication ended. */
export interface ReplicationWait {
  /** ms from `since` until every block of every file had `replicas` to `max` live copies; undefined past the deadline. */
  ms?: number
  /** Fewest and most live copies of any block seen meanwhile. */
  lowest: number
  highest: number
  last: Health[]
}

/**
 * Polls `ionnet health` of every file on an observer host until every block has between `replicas` and `max` live
 * copies (default: no upper bound), or the deadline passes.
 */
export async function waitReplicated (lab: Lab, files: StoredFile[], options: { replicas: number, max?: number, observer: () => LabHost, since?: number, timeout?: number, interval?: number }): Promise<ReplicationWait> {
  const since = options.since ?? Date.now()
  const deadline = since + (options.timeout ?? 60_000)
  let lowest = Infinity
  let highest = 0
  for (;;) {
    const observer = options.observer()
    const states = await Promise.all(files.map(async f => lab.health(observer, f.link).catch(() => undefined)))
    const ok = states.filter((s): s is Health => s != null)
    for (const s of ok) {
      lowest = Math.min(lowest, s.min)
      highest = Math.max(highest, s.max)
    }
    if (ok.length === files.length && ok.every(s => s.min >= options.replicas && s.max <= (options.max ?? Infinity))) {
      return { ms: Date.now() - since, lowest, highest, last: ok }
    }
    if (Date.now() > deadline) return { lowest, highest, last: ok }
    await sleep(options.interval ?? 300)
  }
}

/** Copies made by healers and their bytes, by reason. */
export function repairFigures (events: PeerEvent[]): { copies: number, bytes: number, byReason: Record<string, number> } {
  const byReason: Record<string, number> = {}
  for (const e of events) byReason[String(e.reason)] = (byReason[String(e.reason)] ?? 0) + 1
  return { copies: events.length, bytes: events.reduce((s, e) => s + Number(e.bytes ?? 0), 0), byReason }
}

/**
 * The smallest group of hosts (never half or more of them; exactly `size` if given) that holds at least one copy
 * of every chunk but never every copy: cut off, it isolates a replica of each chunk while the rest can still serve
 * everything. Among groups of one size, the one holding fewest chunks twice. Undefined when there is none.
 */
export function isolatingGroup (placement: Map<string, number[]>, hosts: number[], options: { size?: number } = {}): number[] | undefined {
  const max = options.size ?? Math.ceil(hosts.length / 2) - 1
  for (let size = options.size ?? 1; size <= max; size++) {
    let best: { group: number[], doubles: number } | undefined
    for (const group of combinations(hosts, size)) {
      let doubles = 0
      let ok = true
      for (const holders of placement.values()) {
        const inside = holders.filter(h => group.includes(h)).length
        if (inside === 0 || inside === holders.length) { ok = false; break }
        if (inside > 1) doubles++
      }
      if (ok && (best == null || doubles < best.doubles)) best = { group, doubles }
    }
    if (best != null) return best.group
  }
  return undefined
}

function * combinations (items: number[], k: number, start = 0, prefix: number[] = []): Generator<number[]> {
  if (prefix.length === k) {
    yield prefix
    return
  }
  for (let i = start; i < items.length; i++) yield * combinations(items, k, i + 1, [...prefix, items[i]])
}

/** The q-quantile (0..1) of some values, nearest rank; null when there are none. */
export function percentile (values: number[], q: number): number | null {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]
}

/** A seeded PRNG (mulberry32), so a scenario's schedule can be replayed with --seed. */
export function seededRandom (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), a | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
}

/** A plain text table, columns padded. */
export function table (head: string[], rows: Array<Array<string | number | null | undefined>>): string {
  const cells = [head, ...rows.map(r => r.map(c => c == null ? '-' : String(c)))]
  const widths = head.map((_, i) => Math.max(...cells.map(r => r[i]?.length ?? 0)))
  return cells.map(r => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n')
}

/** 1536 → "1.5 KiB". */
export function formatBytes (bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB']
  let v = bytes
  let i = 0
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++ }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`
}

/** A fault the heal monitor times: from `at` until the network was whole again. */
export interface TimedFault {
  label: string
  at: number
  /** ms until a health poll that started after the fault found every block at its replica count. */
  healMs?: number
}

/**
 * Polls `ionnet health` of every file on an observer host, over and over, and knows at any time whether the network
 * was whole at the last poll (every block at `replicas` live copies or more). Faults registered with fault() get
 * their heal time from the first poll that started after them and found the network whole: an upper bound, with the
 * resolution of one poll.
 */
export class HealMonitor {
  /** Whether the last poll found every block of every file at its replica count. */
  whole = false
  /** Fewest live copies of any block over every poll. */
  lowest = Infinity
  readonly faults: TimedFault[] = []
  /** How long each poll took: the resolution of the heal times. */
  readonly pollMs: number[] = []
  readonly #lab: Lab
  readonly #files: StoredFile[]
  readonly #observer: () => LabHost
  readonly #replicas: number
  readonly #pause: number
  #abort?: AbortController
  #loop?: Promise<void>
  #polls = 0

  constructor (components: { lab: Lab, files: StoredFile[], observer: () => LabHost }, init: { replicas: number, pause?: number }) {
    this.#lab = components.lab
    this.#files = components.files
    this.#observer = components.observer
    this.#replicas = init.replicas
    this.#pause = init.pause ?? 300
  }

  start (): void {
    this.#abort = new AbortController()
    const signal = this.#abort.signal
    this.#loop = (async () => {
      while (!signal.aborted) {
        const started = Date.now()
        const observer = this.#observer()
        const states = await Promise.all(this.#files.map(async f => this.#lab.health(observer, f.link).catch(() => undefined)))
        this.whole = states.every(s => s != null && s.min >= this.#replicas)
        for (const s of states) if (s != null) this.lowest = Math.min(this.lowest, s.min)
        this.#polls++
        this.pollMs.push(Date.now() - started)
        if (this.whole) {
          for (const f of this.faults) if (f.healMs == null && f.at < started) f.healMs = Date.now() - f.at
        }
        await sleep(this.#pause, signal).catch(() => {})
      }
    })()
  }

  /** Records a fault that happens now. */
  fault (label: string): TimedFault {
    const f: TimedFault = { label, at: Date.now() }
    this.faults.push(f)
    return f
  }

  /** Waits until a poll that starts from now on finds the network whole; false at the deadline. */
  async waitWhole (timeout: number): Promise<boolean> {
    const polls = this.#polls
    const deadline = Date.now() + timeout
    while (Date.now() < deadline) {
      // the poll running now may have started before the caller's change: wait for the one after it
      if (this.whole && this.#polls >= polls + 2) return true
      await sleep(100)
    }
    return false
  }

  async stop (): Promise<TimedFault[]> {
    this.#abort?.abort()
    await this.#loop
    return this.faults
  }
}
