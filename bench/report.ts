/**
 * Turns a run's measurements into ratios against the anchors measured in the same run, a PASS/FAIL verdict for each
 * target, and the Markdown tables `npm run bench` prints (and stores in the JSON, ready to paste into the README).
 * Targets are judged at 256 MiB, 1 GiB and 50 peers; a quick run has none of those and judges at its largest size
 * and count instead, which the target's name then says.
 */
import { DEFAULT_CHUNK_SIZE } from '@ionnet/manifest'
import { MiB, round } from './common.ts'
import type { HealRun } from './heal.ts'
import type { HeliaRun } from './helia.ts'
import type { IonNetRun } from './ionnet.ts'
import type { Limits } from './limits.ts'
import type { ScaleRun } from './scale.ts'

export interface Results {
  mode: 'full' | 'quick'
  machine: Record<string, unknown>
  plan: { sizes: number[], heal: number, scale: number[] }
  /**
   * The streams: noise, `@libp2p/tls`, and IonNet's encrypter (the same TLS on the socket), which IonNet uses; a
   * bare receiver of encrypted chunks over noise and over IonNet's TLS, which shows what a plain get reaches on them;
   * and a bare putter with 1 and 3 copies, which shows what a plain put reaches.
   */
  limits?: Limits & {
    libp2pNoiseMiBs: number | null
    libp2pTlsMiBs: number | null
    libp2pTlsSocketMiBs: number | null
    receiverNoiseMiBs?: number | null
    receiverTlsSocketMiBs?: number | null
    barePutR1MiBs?: number | null
    barePutR3MiBs?: number | null
    /**
     * CPU milliseconds per MiB of each stream and bare receiver, both processes together (runs before 2026-11-27 09:30
     * lack it).
     */
    streamCpuMsPerMiB?: Record<'noise' | 'tls' | 'tlsSocket' | 'receiverNoise' | 'receiverTlsSocket', number | null>
  }
  helia: HeliaRun[]
  ionnet: IonNetRun[]
  heal?: HealRun
  scale: ScaleRun[]
  /** Sections that failed, with their error. */
  errors: Record<string, string>
}

export interface Ratios {
  sizeMiB: number
  getOverHeliaFetch: number | null
  getOverTlsStream: number | null
  getOverNoiseStream: number | null
  /** Against the bare receiver over IonNet's TLS: the get against a plain reader with no protocol. */
  getOverTlsReceiver: number | null
  putR3OverTlsStream: number | null
  putR1OverChunkFsync: number | null
  /** Against the bare putter with as many copies: the put against a plain putter with no protocol. */
  putR1OverBarePut: number | null
  putR3OverBarePut: number | null
}

export interface Target {
  target: string
  measured: string
  /** null: not measured in this run. */
  pass: boolean | null
  /** For a ratio target, the most any program could reach on this machine (see `ceilings`), as the same ratio. */
  ceiling?: string
}

/** The most a transfer could reach on this machine in MiB/s, its CPU per MiB, and that rate as its target's ratio. */
export interface Ceiling {
  cpuMsPerMiB: number
  MiBs: number
  share: number | null
}

/**
 * What a get and a put could reach at most on this machine, whatever their design, from the CPU that the steps each of
 * them cannot skip cost in the same run, added up per MiB of the file: the machine's cores can do no more than
 * `cores / sum` MiB per second even if every step ran in parallel with perfect pipelining and nothing else ran, and
 * no transfer is faster than the stream or disk it needs.
 * - get: one TLS stream (both ends) and AES-256-GCM to open each chunk (a get authenticates chunks by decrypting them);
 *   writing the file is left out;
 * - put, 1 copy, on another peer: seal (AES-256-GCM), hash, one TLS stream, the holder's hash to check the chunk,
 *   and a chunk-file write with fsync (a chunk whose one copy placement gives the uploader itself is bound by its disk
 *   alone);
 * - put, 3 copies, as the issue that set the target counts it ("every byte crosses two connections"): seal and hash
 *   once, a chunk-file write for the uploader's own copy, then for each of the two other copies a TLS stream, a hash
 *   and a chunk-file write: whether the uploader sends them itself or along a chain, each crosses a connection of its
 *   own and is checked and stored by its holder. An uploader that holds none of a chunk's copies does more.
 * Reading the file, the protocol, the event loop and garbage collection are all left out, so a real transfer reaches
 * less: a target above its ceiling is out of reach on this machine.
 */
export function ceilings (r: Results): { get: Ceiling, putR1: Ceiling, putR3: Ceiling } | undefined {
  const l = r.limits
  const stream = l?.streamCpuMsPerMiB?.tlsSocket
  const cores = Number(r.machine.cpus)
  if (l == null || stream == null || l.libp2pTlsSocketMiBs == null || l.aes256gcmCpuMsPerMiB == null || !(cores > 0)) return undefined
  const { aes256gcmCpuMsPerMiB: seal, sha256CpuMsPerMiB: hash, chunkFileFsyncCpuMsPerMiB: store } = l
  const ceiling = (cpuMsPerMiB: number, limits: number[], anchor: number): Ceiling => {
    const MiBs = Math.min(cores * 1000 / cpuMsPerMiB, ...limits)
    return { cpuMsPerMiB: round(cpuMsPerMiB, 2), MiBs: round(MiBs), share: ratio(MiBs, anchor) }
  }
  return {
    get: ceiling(stream + seal, [l.libp2pTlsSocketMiBs], l.libp2pTlsSocketMiBs),
    putR1: ceiling(seal + hash + stream + hash + store, [l.libp2pTlsSocketMiBs, l.chunkFileFsyncMiBs], l.chunkFileFsyncMiBs),
    putR3: ceiling(seal + hash + store + 2 * (stream + hash + store), [l.libp2pTlsSocketMiBs, l.chunkFileFsyncMiBs], l.libp2pTlsSocketMiBs)
  }
}

export function judge (r: Results): { ratios: Ratios[], targets: Target[] } {
  const ratios = r.ionnet.map(run => ({
    sizeMiB: run.sizeMiB,
    getOverHeliaFetch: ratio(run.get.MiBs, r.helia.find(h => h.sizeMiB === run.sizeMiB)?.fetchMiBs),
    getOverTlsStream: ratio(run.get.MiBs, r.limits?.libp2pTlsSocketMiBs),
    getOverNoiseStream: ratio(run.get.MiBs, r.limits?.libp2pNoiseMiBs),
    getOverTlsReceiver: ratio(run.get.MiBs, r.limits?.receiverTlsSocketMiBs),
    putR3OverTlsStream: ratio(run.putR3.MiBs, r.limits?.libp2pTlsSocketMiBs),
    putR1OverChunkFsync: ratio(run.putR1.MiBs, r.limits?.chunkFileFsyncMiBs),
    putR1OverBarePut: ratio(run.putR1.MiBs, r.limits?.barePutR1MiBs),
    putR3OverBarePut: ratio(run.putR3.MiBs, r.limits?.barePutR3MiBs)
  }))
  const at = closest(r.ionnet.map(run => run.sizeMiB), 256)
  const big = closest(r.ionnet.map(run => run.sizeMiB), 1024)
  const x = ratios.find(q => q.sizeMiB === at)
  const bigRun = r.ionnet.find(run => run.sizeMiB === big)
  const scale = r.scale.find(s => s.peers === closest(r.scale.map(s => s.peers), 50))
  const c = ceilings(r)
  const targets: Target[] = [
    atLeast(`get ${at} MiB >= 3x Helia fetch`, x?.getOverHeliaFetch, 3, 'x'),
    { ...atLeast(`get ${at} MiB >= 75% of the bare libp2p stream (IonNet TLS)`, x?.getOverTlsStream, 0.75, '%'), ceiling: pct(c?.get.share) },
    { ...atLeast(`put ${at} MiB --replicas 3 >= 40% of the bare libp2p stream (IonNet TLS)`, x?.putR3OverTlsStream, 0.4, '%'), ceiling: pct(c?.putR3.share) },
    { ...atLeast(`put ${at} MiB --replicas 1 >= 50% of fsync'd chunk writes`, x?.putR1OverChunkFsync, 0.5, '%'), ceiling: pct(c?.putR1.share) },
    below(`put/get ${big} MiB: every process peak RSS < 300 MiB`, bigRun?.maxPeakRssMiB, 300, ' MiB'),
    r.heal == null || r.heal.sawDrop
      ? below(`heal ${r.plan.heal} MiB < 3 heartbeats + 10 s`, r.heal == null ? undefined : r.heal.healMs ?? Infinity, r.heal?.targetMs ?? 13_000, ' ms')
      : { target: `heal ${r.plan.heal} MiB < 3 heartbeats + 10 s`, measured: 'health never showed the copies drop', pass: null },
    below(`${scale?.peers ?? '?'} peers: DHT provide median < 250 ms`, scale?.provide.medianMs, 250, ' ms'),
    below(`${scale?.peers ?? '?'} peers: DHT find-providers median < 250 ms`, scale?.find.medianMs, 250, ' ms'),
    {
      target: 'every file read back byte-identical',
      measured: `${[...r.ionnet, ...r.scale, ...r.helia].filter(run => run.identical).length} of ${r.ionnet.length + r.scale.length + r.helia.length}`,
      pass: r.ionnet.length + r.scale.length > 0 ? [...r.ionnet, ...r.scale, ...r.helia].every(run => run.identical) : null
    }
  ]
  return { ratios, targets }
}

export function formatReport (r: Results, v: { ratios: Ratios[], targets: Target[] }): string {
  const l = r.limits
  const sc = l?.streamCpuMsPerMiB
  const m = r.machine
  const parts = [
    `IonNet bench (${r.mode}), ${String(m.date)}: ${String(m.cpus)} CPUs, ${String(m.memoryGiB)} GiB, Node ${String(m.node)}, ${String(m.durationS)} s`,
    table(['machine limit (2 processes on 127.0.0.1 where a transfer)', 'MiB/s', 'CPU ms per MiB'], [
      ['raw loopback TCP, 1 MiB writes', n(l?.tcpLoopbackMiBs), '-'],
      ['libp2p stream, TCP + noise + yamux, 1 MiB sends', n(l?.libp2pNoiseMiBs), n(sc?.noise)],
      ['libp2p stream, TCP + TLS (@libp2p/tls) + yamux, 1 MiB sends', n(l?.libp2pTlsMiBs), n(sc?.tls)],
      ['libp2p stream, TCP + TLS on the socket (IonNet) + yamux, 1 MiB sends', n(l?.libp2pTlsSocketMiBs), n(sc?.tlsSocket)],
      [`bare receiver over noise: hash, decrypt, write ${DEFAULT_CHUNK_SIZE / MiB} MiB chunks as they arrive`, withShare(l?.receiverNoiseMiBs, l?.libp2pNoiseMiBs, 'the noise stream'), n(sc?.receiverNoise)],
      ['bare receiver over TLS on the socket: the same', withShare(l?.receiverTlsSocketMiBs, l?.libp2pTlsSocketMiBs, 'the TLS stream'), n(sc?.receiverTlsSocket)],
      ['bare putter over TLS on the socket, 1 copy: seal, hash, send; hash, write, fsync, rename', withShare(l?.barePutR1MiBs, l?.chunkFileFsyncMiBs, 'fsync\'d chunk writes'), '-'],
      ['bare putter, 3 copies (3 processes storing)', withShare(l?.barePutR3MiBs, l?.libp2pTlsSocketMiBs, 'the TLS stream'), '-'],
      ['sha2-256, 1 MiB buffers', n(l?.sha256MiBs), n(l?.sha256CpuMsPerMiB)],
      ['AES-256-GCM encrypt, 1 MiB buffers', n(l?.aes256gcmMiBs), n(l?.aes256gcmCpuMsPerMiB)],
      [`${DEFAULT_CHUNK_SIZE / MiB} MiB chunk files: write, fsync, rename (median of ${l?.chunkFileFsyncPassesMiBs?.length ?? 1} passes)`, l?.chunkFileFsyncPassesMiBs == null ? n(l?.chunkFileFsyncMiBs) : `${n(l.chunkFileFsyncMiBs)} (${l.chunkFileFsyncPassesMiBs.map(n).join(', ')})`, n(l?.chunkFileFsyncCpuMsPerMiB)]
    ]),
    'CPU ms per MiB: user + system CPU per MiB moved; for the streams and bare receivers, of both processes (all threads); for hashing, sealing and chunk files, of the thread that does it (the kernel\'s writeback threads are left out).',
    table(['ceiling on this machine', 'steps counted (CPU ms per MiB of the file)', 'CPU ms per MiB', 'MiB/s at most', 'as the target\'s ratio'], ceilingRows(r)),
    `The most any program could reach here, whatever its design: ${String(m.cpus)} cores divided by the CPU per MiB of the steps it cannot skip, measured above, as if every step ran in parallel with perfect pipelining; no more than the stream or disk it needs either. Reading the file, any protocol, the event loop and garbage collection are left out, so a target above its ceiling is out of reach on this machine.`,
    table(['MiB', 'Helia add', 'Helia fetch', 'put r1', 'put r3', 'get', 'get CLI', 'get/Helia', 'get/TLS', 'get/noise', 'get/receiver', 'put r3/TLS', 'put r1/fsync', 'put r3/bare', 'put r1/bare'],
      r.plan.sizes.map((size) => {
        const h = r.helia.find(run => run.sizeMiB === size)
        const i = r.ionnet.find(run => run.sizeMiB === size)
        const q = v.ratios.find(run => run.sizeMiB === size)
        return [String(size), n(h?.addMiBs), n(h?.fetchMiBs), n(i?.putR1.MiBs), n(i?.putR3.MiBs), n(i?.get.MiBs), n(i?.cliGet?.MiBs),
          times(q?.getOverHeliaFetch), pct(q?.getOverTlsStream), pct(q?.getOverNoiseStream), pct(q?.getOverTlsReceiver), pct(q?.putR3OverTlsStream), pct(q?.putR1OverChunkFsync), pct(q?.putR3OverBarePut), pct(q?.putR1OverBarePut)]
      })),
    `put and get: wall time of the call to a running peer's API, as the Helia fetch is timed in a running node; get CLI: the file's second get, as \`ionnet get -o\`, ${cliFloor(r)}. Ratios divide IonNet by the anchor of the same run; get/receiver by the bare receiver over TLS on the socket, put/bare by the bare putter with as many copies. The bare receiver and putter do only what any transfer of encrypted, content-addressed chunks must, with none of IonNet's protocol (bench/stream.ts, bench/bare-put.ts); the bare putter sends every copy to another process, while IonNet's uploader is one of the four storage peers and keeps the copies placement gives it (about 1 in 4 here).`,
    table(['CPU-seconds (MiB per CPU-second)', ...r.plan.sizes.map(s => `${s} MiB`)], cpuRows(r)),
    'CPU of every process of the transfer while it ran (user + system, all threads): every peer and the caller (this process, or the CLI) for IonNet, provider and fetcher for Helia. All processes share the machine\'s cores, so this bounds the rate.',
    table(['peak RSS MiB', ...r.plan.sizes.map(s => `${s} MiB`)], rssRows(r)),
    table(['heal', 'file', 'killed holder held', 'back to 3 copies after', 'target'], [[
      `${r.heal?.peers ?? '?'} peers, heartbeat ${r.heal?.heartbeatMs ?? '?'} ms, heal interval ${r.heal?.healIntervalMs ?? '?'} ms`,
      `${r.heal?.sizeMiB ?? '?'} MiB, r3`, `${r.heal?.killedChunks ?? '?'} chunks`,
      r.heal == null ? 'n/a' : r.heal.healMs == null ? 'never' : `${(r.heal.healMs / 1000).toFixed(1)} s`, `${((r.heal?.targetMs ?? 13_000) / 1000).toFixed(0)} s`
    ]]),
    table(['peers', 'all alive / quiet after s', 'idle CPU per peer', 'provide median/p95 ms', 'find median/p95 ms', 'first provider ms', 'found', 'IonNet chunks found (median ms)', 'put 8 MiB r3', 'then quiet after s / CPU-s', 'get', 'max peer RSS'],
      r.scale.map(s => [String(s.peers), `${s.allAlive === false ? `saw ${s.aliveSeen.join(', ')} of ${s.peers - 1} in ` : ''}${((s.aliveMs ?? NaN) / 1000).toFixed(1)} / ${((s.quietMs ?? NaN) / 1000).toFixed(1)}`, `${s.idleCorePercent}% of a core`, `${s.provide.medianMs} / ${s.provide.p95Ms}`, `${s.find.medianMs} / ${s.find.p95Ms}`, String(s.find.firstProviderMedianMs),
        `${s.find.foundProvider}/${s.find.count}`, `${s.findIonNetChunks.withProviders}/${s.findIonNetChunks.count} (${s.findIonNetChunks.medianMs})`,
        s.putMiBs == null ? 'failed' : `${s.putMiBs} MiB/s`, s.afterPut == null ? 'n/a' : `${(s.afterPut.quietMs / 1000).toFixed(1)} / ${s.afterPut.cpuSeconds}`, s.getMiBs == null ? 'failed' : `${s.getMiBs} MiB/s`, `${s.maxPeerPeakRssMiB} MiB`])),
    table(['target', 'measured', 'verdict', 'ceiling here'], v.targets.map(t => [t.target, t.measured, t.pass == null ? 'n/a' : t.pass ? 'PASS' : 'FAIL', t.ceiling ?? '']))
  ]
  const errors = [
    ...r.scale.filter(s => s.transferError != null).map(s => `- scale ${s.peers} peers: ${s.transferError ?? ''}`),
    ...Object.entries(r.errors).map(([k, e]) => `- ${k} failed: ${e.split('\n')[0]}`)
  ]
  return [...parts, ...(errors.length > 0 ? [errors.join('\n')] : [])].join('\n\n')
}

function cliFloor (r: Results): string {
  const ms = r.ionnet.map(run => run.cliFloorMs)
  return ms.length === 0 ? 'CLI start-up not measured' : `which includes the CLI's start-up (ionnet id: ${Math.min(...ms)}–${Math.max(...ms)} ms)`
}

function cpuRows (r: Results): string[][] {
  const cell = (cpu: number | undefined, size: number): string => cpu == null ? '-' : `${cpu} (${cpu > 0 ? Math.round(size / cpu) : '-'})`
  const ionnet = (pick: (run: IonNetRun) => number | undefined) => r.plan.sizes.map(s => {
    const run = r.ionnet.find(i => i.sizeMiB === s)
    return cell(run == null ? undefined : pick(run), s)
  })
  return [
    ['Helia fetch', ...r.plan.sizes.map(s => cell(r.helia.find(h => h.sizeMiB === s)?.fetchCpuSeconds, s))],
    ['IonNet put r1', ...ionnet(run => run.putR1.cpuSeconds)],
    ['IonNet put r3', ...ionnet(run => run.putR3.cpuSeconds)],
    ['IonNet get', ...ionnet(run => run.get.cpuSeconds)],
    ['IonNet get, CLI (second get)', ...ionnet(run => run.cliGet?.cpuSeconds)]
  ]
}

function ceilingRows (r: Results): string[][] {
  const c = ceilings(r)
  const row = (name: string, steps: string, ceiling: Ceiling | undefined, anchor: string): string[] =>
    [name, steps, n(ceiling?.cpuMsPerMiB), n(ceiling?.MiBs), ceiling?.share == null ? '-' : `${pct(ceiling.share)} of ${anchor}`]
  return [
    row('get', 'TLS stream, AES-256-GCM', c?.get, 'the TLS stream'),
    row('put, 1 copy', 'AES-256-GCM, sha2-256, TLS stream, sha2-256, chunk file', c?.putR1, 'fsync\'d chunk writes'),
    row('put, 3 copies', 'AES-256-GCM, sha2-256, chunk file, 2 x (TLS stream, sha2-256, chunk file)', c?.putR3, 'the TLS stream')
  ]
}

function rssRows (r: Results): string[][] {
  const names = [...new Set(r.ionnet.flatMap(run => run.processes.map(p => p.process)))]
  const rows = names.map(name => [name, ...r.plan.sizes.map(s => n(r.ionnet.find(run => run.sizeMiB === s)?.processes.find(p => p.process === name)?.peakRssMiB))])
  rows.push(['Helia provider / fetcher', ...r.plan.sizes.map((s) => {
    const h = r.helia.find(run => run.sizeMiB === s)
    return h == null ? '-' : `${h.providerPeakRssMiB} / ${h.fetcherPeakRssMiB}`
  })])
  return rows
}

function ratio (a: number | undefined, b: number | null | undefined): number | null {
  return a == null || b == null || b === 0 ? null : Math.round(a / b * 100) / 100
}

function closest (values: number[], want: number): number | undefined {
  return values.includes(want) ? want : values.filter(v => v < want).sort((a, b) => b - a)[0] ?? values[0]
}

function atLeast (target: string, value: number | null | undefined, min: number, unit: 'x' | '%'): Target {
  return { target, measured: unit === 'x' ? times(value) : pct(value), pass: value == null ? null : value >= min }
}

function below (target: string, value: number | undefined, max: number, unit: string): Target {
  return { target, measured: value == null ? 'n/a' : Number.isFinite(value) ? `${value}${unit}` : 'never', pass: value == null ? null : value < max }
}

const n = (v: number | null | undefined): string => v == null ? '-' : String(v)
const withShare = (v: number | null | undefined, anchor: number | null | undefined, name: string): string => v == null ? '-' : anchor == null ? String(v) : `${v} (${pct(ratio(v, anchor))} of ${name})`
const pct = (v: number | null | undefined): string => v == null ? '-' : `${Math.round(v * 100)}%`
const times = (v: number | null | undefined): string => v == null ? '-' : `${v}x`

/** A Markdown table with padded columns, readable as plain text too. */
function table (head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map(row => row[i]?.length ?? 0)))
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`
  return [line(head), line(widths.map(w => '-'.repeat(w))), ...rows.map(line)].join('\n')
}
