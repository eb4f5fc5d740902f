/**
 * Many peers on one machine: the network grows to each count in turn (20 then 50 peer processes; --quick: 10), and
 * at each count:
 * - the time until the first and last peer see every other peer alive (at most 120 s; if they do not, how many they
 *   saw, and the rest is still measured), then until the machine goes quiet (a network of peers started together is
 *   busy for tens of seconds: DHT table refreshes, identify, gossip meshes);
 * - then the CPU an idle peer uses, averaged over every peer for 30 s;
 * - then a file is put with --replicas 3 on the first peer and got on the last, and its sha2-256 must match; between
 *   the two, the time and the CPU (all peers together) until the network is quiet again after the put's announcements;
 * - a bench-only DHT node (dht-probe.ts) joins and times `contentRouting.provide(cid)` for random CIDs; then a
 *   second one joins through other peers (after the provides, so no record was pushed to it) and times draining
 *   `contentRouting.findProviders(cid)` for them, noting when the first provider came and whether it was the first
 *   probe;
 * - the second probe also drains findProviders for chunks the peers announced themselves (CIDs read from their
 *   chunk folders), which shows whether IonNet's own provider records can be found.
 * Peers use the default heartbeat (5 s) and start in small batches to keep the machine responsive.
 */
import { randomBytes } from 'node:crypto'
import { readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { cleanup, sha256File, startPeer, tempDir } from '../test/helpers/network.ts'
import { aliveSeen, runCliJson, waitForAlive } from './cli.ts'
import { MiB, median, mibs, peakRssMiB, percentile, round, settle, totalCpuSeconds, writeRandomFile } from './common.ts'
import { startDhtProbe } from './dht-probe.ts'
import type { DhtProbe } from './dht-probe.ts'
import type { TestPeer } from '../test/helpers/network.ts'

const HEARTBEAT = 5000
const START_BATCH = 5
const LOOKUPS = 30
const LOOKUP_TIMEOUT = 30_000
const FILE_MiB = 8
const QUIET_TIMEOUT = 60_000
/** How long the idle network's CPU use is sampled: several heartbeat intervals at 50 peers (12.5 s each), so the figure is not one beat's burst. */
const IDLE_SAMPLE_MS = 30_000
const RAW_CODE = 0x55

export interface Latency {
  count: number
  failed: number
  medianMs: number
  p95Ms: number
}

export interface ScaleRun {
  peers: number
  /** ms from the last peer's start until the first and last peer saw everyone alive, or until the wait gave up. */
  aliveMs: number
  /** Whether the first and last peer both saw every other peer alive within the wait. */
  allAlive: boolean
  /** How many others the first and the last peer saw alive when the wait ended. */
  aliveSeen: number[]
  /** ms more until the peers' CPU use went quiet (or QUIET_TIMEOUT passed). */
  quietMs: number
  /**
   * Then, with nothing asked of them, the CPU each peer used on average, in % of one core: heartbeats, gossip and DHT
   * upkeep, what running a peer costs a device while it moves no file.
   */
  idleCorePercent: number
  /** null when the put (or, for getMiBs, the put or the get) failed; transferError says how. */
  putMiBs: number | null
  /**
   * After the put, until the peers went quiet again: the holders announce the new copies on the DHT, and every
   * peer's share of that work is summed here (null when the put failed).
   */
  afterPut: { quietMs: number, cpuSeconds: number } | null
  getMiBs: number | null
  identical: boolean
  transferError?: string
  provide: Latency
  find: Latency & { firstProviderMedianMs: number, foundProvider: number }
  /** Finding the providers of chunks the peers announced themselves. */
  findIonNetChunks: Latency & { withProviders: number }
  maxPeerPeakRssMiB: number
}

/** Grows one network through `counts` (ascending) and measures at each. */
export async function measureScale (counts: number[], options: { onError?(count: number, err: Error): void } = {}): Promise<ScaleRun[]> {
  const dir = await tempDir()
  const peers: TestPeer[] = []
  const runs: ScaleRun[] = []
  try {
    for (const count of counts) {
      try {
        if (peers.length === 0) peers.push(await startPeer({ heartbeat: HEARTBEAT }))
        while (peers.length < count) {
          const batch = Math.min(START_BATCH, count - peers.length)
          peers.push(...await Promise.all(Array.from({ length: batch }, async () => startPeer({ heartbeat: HEARTBEAT, bootstrap: [peers[0]] }))))
        }
        runs.push(await measureAt(peers, dir))
      } catch (err: any) {
        // the counts measured before the failure stand; larger ones would only fail the same way
        if (options.onError == null) throw err
        options.onError(count, err)
        break
      }
    }
    return runs
  } finally {
    await cleanup(peers)
    await rm(dir, { recursive: true, force: true })
  }
}

async function measureAt (peers: TestPeer[], dir: string): Promise<ScaleRun> {
  const first = peers[0]
  const last = peers[peers.length - 1]
  const started = Date.now()
  // a network where a few peers still look dead to some is what a user has too: measure it, and say so
  const allAlive = await waitForAlive([first, last], peers).then(() => true, () => false)
  const aliveMs = Date.now() - started
  const seen = await Promise.all([first, last].map(async p => aliveSeen(p, peers)))
  // a user's put meets a network that has been running, not one whose peers all started this minute
  const pids = peers.map(p => p.proc.pid!)
  const quietMs = await settle(pids, { timeout: QUIET_TIMEOUT, peers })
  const idleFrom = { cpu: await totalCpuSeconds(pids), at: performance.now() }
  await new Promise(resolve => setTimeout(resolve, IDLE_SAMPLE_MS))
  const idleCorePercent = round(100 * (await totalCpuSeconds(pids) - idleFrom.cpu) / ((performance.now() - idleFrom.at) / 1000) / peers.length, 2)
  const file = await writeRandomFile(dir, `scale-${peers.length}.bin`, FILE_MiB * MiB)
  let putMiBs: number | null = null
  let afterPut: ScaleRun['afterPut'] = null
  let getMiBs: number | null = null
  let identical = false
  let transferError: string | undefined
  try {
    const put = await runCliJson(['put', file.path, '--replicas', '3'], first.repo)
    putMiBs = mibs(FILE_MiB * MiB, put.ms)
    // the get waits for the announcements, so it is timed on a quiet network as the put was
    const cpuBefore = await totalCpuSeconds(pids)
    const quiet = await settle(pids, { timeout: QUIET_TIMEOUT, peers })
    afterPut = { quietMs: quiet, cpuSeconds: round(await totalCpuSeconds(pids) - cpuBefore) }
    const output = join(dir, `scale-${peers.length}.out`)
    const get = await runCliJson(['get', put.json.link, '-o', output], last.repo)
    getMiBs = mibs(FILE_MiB * MiB, get.ms)
    identical = await sha256File(output) === file.sha256
  } catch (err: any) {
    // a failed transfer is a finding, not a reason to skip the DHT figures
    transferError = `${putMiBs == null ? 'put' : 'get'} of ${FILE_MiB} MiB failed: ${String(err.message ?? err).split('\n')[0]}`
  }
  await settle(pids, { timeout: 30_000, peers })

  const want = Math.min(peers.length - 1, 20)
  const mid = Math.floor(peers.length / 2)
  const probes: DhtProbe[] = []
  try {
    const provider = await startDhtProbe([peers[1], peers[mid]].map(p => p.addr), { want })
    probes.push(provider)
    const cids = await Promise.all(Array.from({ length: LOOKUPS }, async () => CID.createV1(RAW_CODE, await sha256.digest(randomBytes(32)))))
    const provide = await timeEach(cids, async (cid, signal) => { await provider.contentRouting.provide(cid, { signal }) })
    // the finder joins only now, so no provider record was pushed to it: every find is a real lookup
    const finder = await startDhtProbe([peers[mid + 1], last].map(p => p.addr), { want })
    probes.push(finder)
    const firsts: number[] = []
    let foundProvider = 0
    const find = await timeEach(cids, async (cid, signal) => {
      const started = performance.now()
      let first: number | undefined
      let found = false
      for await (const info of finder.contentRouting.findProviders(cid, { signal })) {
        first ??= performance.now() - started
        found ||= info.id.equals(provider.peerId)
      }
      if (first != null) firsts.push(first)
      if (found) foundProvider++
    })
    let withProviders = 0
    const findChunks = await timeEach((await chunkCids(peers)).slice(0, LOOKUPS), async (cid, signal) => {
      let found = false
      for await (const _ of finder.contentRouting.findProviders(cid, { signal })) found = true
      if (found) withProviders++
    })
    return {
      peers: peers.length,
      aliveMs,
      allAlive,
      aliveSeen: seen,
      quietMs,
      idleCorePercent,
      putMiBs,
      afterPut,
      getMiBs,
      identical,
      transferError,
      provide,
      find: { ...find, firstProviderMedianMs: round(median(firsts)), foundProvider },
      findIonNetChunks: { ...findChunks, withProviders },
      maxPeerPeakRssMiB: Math.max(...await Promise.all(peers.map(async p => peakRssMiB(p.proc.pid!))))
    }
  } finally {
    await Promise.all(probes.map(async p => p.stop()))
  }
}

/** Runs `fn` for each CID in turn, timing each; calls that fail or pass LOOKUP_TIMEOUT count as failed. */
async function timeEach (cids: CID[], fn: (cid: CID, signal: AbortSignal) => Promise<void>): Promise<Latency> {
  const ms: number[] = []
  let failed = 0
  for (const cid of cids) {
    const started = performance.now()
    try {
      await fn(cid, AbortSignal.timeout(LOOKUP_TIMEOUT))
      ms.push(performance.now() - started)
    } catch {
      failed++
    }
  }
  return { count: cids.length, failed, medianMs: round(median(ms)), p95Ms: round(percentile(ms, 95)) }
}

/** CIDs of the chunk files the peers hold: <repo>/chunks/blocks/<shard>/<cid>. */
async function chunkCids (peers: TestPeer[]): Promise<CID[]> {
  const seen = new Map<string, CID>()
  for (const p of peers) {
    const blocks = join(p.repo, 'chunks', 'blocks')
    for (const shard of await readdir(blocks).catch(() => [])) {
      for (const name of await readdir(join(blocks, shard)).catch(() => [])) {
        if (!name.includes('.')) seen.set(name, CID.parse(name))
      }
    }
  }
  return [...seen.values()]
}

if (import.meta.main) {
  // on its own, for a quick look: node bench/scale.ts [count ...]
  const counts = process.argv.slice(2).map(Number)
  console.log(JSON.stringify(await measureScale(counts.length > 0 ? counts : [10]), null, 2))
  process.exit(0)
}
