/**
 * What every measurement shares: units, rates and statistics, random test files, peak RSS from /proc, and child
 * processes that report over IPC (each end of a transfer runs in its own process, as two peers would).
 */
import { fork } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { open, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { availableParallelism } from 'node:os'
import { IonNetClient } from '@ionnet/client'
import type { ChildProcess } from 'node:child_process'

export const MiB = 1024 * 1024

/** MiB per second for `bytes` moved in `ms` milliseconds, to one decimal. */
export function mibs (bytes: number, ms: number): number {
  return round(bytes / MiB / (ms / 1000))
}

export function round (n: number, digits = 1): number {
  const f = 10 ** digits
  return Math.round(n * f) / f
}

/** The p-th percentile (0–100) of `values`, nearest rank. */
export function percentile (values: number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1))]
}

export function median (values: number[]): number {
  return percentile(values, 50)
}

/** Peak resident memory of a live process in MiB: VmHWM from /proc/<pid>/status (Linux); 0 once it is gone. */
export async function peakRssMiB (pid: number | 'self'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '')
  return Math.round(Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024)
}

/** CPU seconds (user + system) a live process has used so far, from /proc/<pid>/stat. */
export async function cpuSeconds (pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')
  // the fields after the command name, which may itself hold spaces, start after the last ')'
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / 100
}

/** CPU seconds the given processes have used so far, together. */
export async function totalCpuSeconds (pids: number[]): Promise<number> {
  return (await Promise.all(pids.map(cpuSeconds))).reduce((a, b) => a + b, 0)
}

/**
 * Waits until the given processes use less than `perProcess` of a core each on average over one `interval`, so a
 * measurement does not start while peers are still busy with the previous one (announcing fresh copies on the DHT,
 * say). An idle peer uses about 0.02 of a core (heartbeats, DHT upkeep). The sum is capped at 60% of the machine's
 * cores: 50 peers at 0.06 would allow 3 cores, more than this machine has, and the wait never waited. With `peers`
 * (IonNet peers' repos), first waits until none of them has chunks left to announce: announcements wait for quiet
 * chunk traffic, up to 10 s in a network of 50, and the CPU alone looked idle in that pause. Gives up after
 * `timeout`; returns the wait.
 */
export async function settle (pids: number[], options: { perProcess?: number, interval?: number, timeout?: number, peers?: Array<{ repo: string }> } = {}): Promise<number> {
  const started = Date.now()
  if (options.peers != null) {
    const clients = await Promise.all(options.peers.map(async p => IonNetClient.forRepo(p.repo)))
    while (Date.now() - started < (options.timeout ?? 60_000)) {
      const ids = await Promise.all(clients.map(async c => c.id().catch(() => ({ announcing: 0 }))))
      if (ids.every(id => id.announcing === 0)) break
      await new Promise(resolve => setTimeout(resolve, 250))
    }
  }
  const interval = options.interval ?? 1000
  const limit = Math.min((options.perProcess ?? 0.06) * pids.length, 0.6 * availableParallelism())
  let before = await totalCpuSeconds(pids)
  while (Date.now() - started < (options.timeout ?? 60_000)) {
    await new Promise(resolve => setTimeout(resolve, interval))
    const now = await totalCpuSeconds(pids)
    if ((now - before) / (interval / 1000) < limit) break
    before = now
  }
  return Date.now() - started
}

/** Writes `size` random bytes to `dir/name` in 1 MiB pieces, never holding the whole file, and returns its sha2-256. */
export async function writeRandomFile (dir: string, name: string, size: number): Promise<{ path: string, sha256: string }> {
  const path = join(dir, name)
  const hash = createHash('sha256')
  const file = await open(path, 'w')
  try {
    for (let left = size; left > 0; left -= MiB) {
      const piece = randomBytes(Math.min(left, MiB))
      hash.update(piece)
      await file.write(piece)
    }
  } finally {
    await file.close()
  }
  return { path, sha256: hash.digest('hex') }
}

/** Facts about the machine a run was measured on. */
export async function machineInfo (): Promise<Record<string, unknown>> {
  const os = await import('node:os')
  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryGiB: round(os.totalmem() / 1024 ** 3),
    loadAverage: os.loadavg().map(l => round(l, 2))
  }
}

/**
 * A module of this folder run as a child process in one role (`node helia.ts provider 64`, say). It reports
 * over IPC; `next()` resolves its messages in order and rejects if it dies first.
 */
export class Child {
  readonly proc: ChildProcess
  readonly #inbox: unknown[] = []
  readonly #waiters: Array<{ resolve: (m: any) => void, reject: (e: Error) => void }> = []
  #stderr = ''
  #exit?: Error

  constructor (module: URL, args: string[]) {
    this.proc = fork(module.pathname, args, { stdio: ['ignore', 'inherit', 'pipe', 'ipc'] })
    this.proc.stderr!.on('data', (d: Buffer) => { this.#stderr = (this.#stderr + d.toString()).slice(-4000) })
    this.proc.on('message', (m) => {
      const waiter = this.#waiters.shift()
      if (waiter != null) waiter.resolve(m)
      else this.#inbox.push(m)
    })
    this.proc.once('exit', (code, signal) => {
      this.#exit = new Error(`${module.pathname.split('/').pop()} ${args.join(' ')} exited (${code ?? signal}): ${this.#stderr.trim()}`)
      for (const w of this.#waiters.splice(0)) w.reject(this.#exit)
    })
  }

  /** The next message the child sends. */
  async next<T = any> (): Promise<T> {
    if (this.#inbox.length > 0) return this.#inbox.shift() as T
    if (this.#exit != null) throw this.#exit
    return new Promise<T>((resolve, reject) => this.#waiters.push({ resolve, reject }))
  }

  send (message: unknown): void {
    this.proc.send(message as any)
  }

  /** Ends the child (SIGKILL: nothing of its state matters any more) and waits for it to go. */
  async stop (): Promise<void> {
    if (this.proc.exitCode != null || this.proc.signalCode != null) return
    const gone = new Promise(resolve => this.proc.once('exit', resolve))
    this.proc.kill('SIGKILL')
    await gone
  }
}

/** In a child: exits when the parent goes, however it went, so no process outlives a bench run. */
export function exitWithParent (): void {
  process.once('disconnect', () => process.exit(0))
}

/** In a child: sends one message to the parent process. */
export function tell (message: unknown): void {
  process.send!(message)
}

/**
 * Splits a stream of frames, each a header of `headerBytes` then a body of `bodyBytes`, into the bodies' pieces as
 * they arrive, without gathering them: only a header split across pieces is put together. `last` marks the last piece
 * of a body. Throws if the stream ends inside a frame.
 */
export async function * framePieces (source: AsyncIterable<Uint8Array | Iterable<Uint8Array>>, headerBytes: number, bodyBytes: number): AsyncGenerator<{ header: Buffer, piece: Uint8Array, last: boolean }> {
  let header = Buffer.alloc(0)
  let left = 0
  for await (const list of source) {
    for (let piece of list instanceof Uint8Array ? [list] : list) {
      while (piece.byteLength > 0) {
        if (left === 0) {
          const take = Math.min(headerBytes - header.byteLength, piece.byteLength)
          header = Buffer.concat([header, piece.subarray(0, take)])
          piece = piece.subarray(take)
          if (header.byteLength === headerBytes) left = bodyBytes
          continue
        }
        const part = piece.subarray(0, left)
        piece = piece.subarray(part.byteLength)
        left -= part.byteLength
        yield { header, piece: part, last: left === 0 }
        if (left === 0) header = Buffer.alloc(0)
      }
    }
  }
  if (left !== 0 || header.byteLength !== 0) throw new Error('the stream ended inside a frame')
}

/** In a child: ends it over an error, which the parent's `Child.next()` then reports with the child's stderr. */
export function failed (err: any): never {
  process.stderr.write(`${err.stack ?? err}\n`)
  process.exit(1)
}

/** In a child: the next message from the parent process. */
export async function hear<T = any> (): Promise<T> {
  return new Promise<T>(resolve => process.once('message', (m) => { resolve(m as T) }))
}
