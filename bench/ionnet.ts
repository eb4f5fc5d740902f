/**
 * IonNet itself: four storage peers and one reader peer started with `--capacity 0` (so it holds nothing and must
 * fetch every chunk), each its own `ionnet peer start` process on loopback, a fresh network for every size so that
 * each size's peak RSS is its own. For each size:
 * - a put of the file with 1 and with 3 replicas, asked of the first storage peer through its HTTP API (the SDK's
 *   `put`, which hands a local path to the peer): wall time of the call;
 * - a get of the replicas-3 file by the reader peer through its API (`getTo`, the peer writes the file): wall time,
 *   and the sha2-256 must match. Timed like the Helia fetch it is set against: a running node is asked for a file,
 *   without the start-up of a new process;
 * - then the same get as a user types it, `ionnet get <link> -o <file>`: wall time from spawn to exit, which adds the
 *   CLI's start-up. It is the file's second get on that network, so the peers are warmer than for the first;
 * - peak RSS (VmHWM) of every peer process and of the CLI process;
 * - the CPU seconds each transfer cost, all peers and the caller together: on a machine whose cores every process
 *   shares, that is what bounds a transfer's rate, and it drifts less from run to run than the rate does;
 * - the wall time of `ionnet id`, the CLI's own start-up.
 * Before each timed command the peers are left to settle (their CPU use drops), so background work of the previous
 * step (DHT announcements of fresh copies) does not count against the next one.
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { IonNetClient } from '@ionnet/client'
import { cleanup, sha256File, startNetwork, startPeer, tempDir } from '../test/helpers/network.ts'
import { runCliJson, waitForAlive } from './cli.ts'
import { MiB, mibs, peakRssMiB, round, settle, totalCpuSeconds, writeRandomFile } from './common.ts'
import type { CliRun } from './cli.ts'
import type { TestPeer } from '../test/helpers/network.ts'

/** Heartbeats every second: the mesh forms quickly, and the gossip it costs is negligible next to the transfers. */
const HEARTBEAT = 1000

export interface Timed {
  ms: number
  MiBs: number
  /** Of the CLI process, where one ran. */
  peakRssMiB?: number
  /** CPU seconds of every peer and of the caller (this process or the CLI) while the call ran (user + system). */
  cpuSeconds: number
}

export interface IonNetRun {
  sizeMiB: number
  putR1: Timed & { minCopies: number }
  putR3: Timed & { minCopies: number }
  /** The get asked of the reader peer through its API. */
  get: Timed
  /** The same file's second get, as `ionnet get -o`: its wall time includes the CLI's start-up. */
  cliGet: Timed
  identical: boolean
  /** Wall time of `ionnet id`, a command that does no work: the CLI's start-up, included in every CLI command. */
  cliFloorMs: number
  /** Peak RSS of every process: the peers, then the CLI commands. */
  processes: Array<{ process: string, peakRssMiB: number }>
  maxPeakRssMiB: number
}

export async function measureIonNet (sizeMiB: number): Promise<IonNetRun> {
  const dir = await tempDir()
  const peers: TestPeer[] = []
  try {
    peers.push(...await startNetwork(4, { heartbeat: HEARTBEAT }))
    const reader = await startPeer({ bootstrap: [peers[0]], heartbeat: HEARTBEAT, args: ['--capacity', '0'] })
    peers.push(reader)
    await waitForAlive(peers, peers)
    const uploader = peers[0]
    const file = await writeRandomFile(dir, `${sizeMiB}MiB.bin`, sizeMiB * MiB)
    const pids = peers.map(p => p.proc.pid!)

    // settles first, then runs the caller and adds what every peer spent meanwhile to the caller's own CPU time
    const charged = async <R extends { cpuSeconds: number }>(run: () => Promise<R>): Promise<R> => {
      await settle(pids, { peers })
      const before = await totalCpuSeconds(pids)
      const r = await run()
      return { ...r, cpuSeconds: round(r.cpuSeconds + await totalCpuSeconds(pids) - before, 2) }
    }
    const timed = async (args: string[], repo: string): Promise<CliRun & { json: any }> => charged(async () => runCliJson(args, repo))
    // the same through a peer's API from this process, whose own CPU counts as the CLI's does
    const viaApi = async <T>(peer: TestPeer, call: (client: IonNetClient) => Promise<T>): Promise<{ ms: number, cpuSeconds: number, json: T }> => {
      const client = await IonNetClient.forRepo(peer.repo)
      return charged(async () => {
        const own = process.cpuUsage()
        const started = performance.now()
        const json = await call(client)
        const ms = performance.now() - started
        const { user, system } = process.cpuUsage(own)
        return { ms, json, cpuSeconds: (user + system) / 1e6 }
      })
    }
    const r1 = await viaApi(uploader, async c => c.put(file.path, { replicas: 1 }))
    const r3 = await viaApi(uploader, async c => c.put(file.path, { replicas: 3 }))
    const output = join(dir, 'out.bin')
    const get = await viaApi(reader, async c => c.getTo(r3.json.link, output))
    const identical = await sha256File(output) === file.sha256
    await rm(output)
    const cliGet = await timed(['get', r3.json.link, '-o', output], reader.repo)
    const cliIdentical = await sha256File(output) === file.sha256
    const floor = await runCliJson(['id'], reader.repo)

    const bytes = sizeMiB * MiB
    const processes = [
      ...await Promise.all(peers.map(async (p, i) => ({
        process: i === 0 ? 'peer 1 (uploader)' : p === reader ? 'reader peer (capacity 0)' : `peer ${i + 1}`,
        peakRssMiB: await peakRssMiB(p.proc.pid!)
      }))),
      { process: 'ionnet get', peakRssMiB: cliGet.peakRssMiB }
    ]
    return {
      sizeMiB,
      putR1: { ...figures(r1, bytes), minCopies: r1.json.minCopies },
      putR3: { ...figures(r3, bytes), minCopies: r3.json.minCopies },
      get: figures(get, bytes),
      cliGet: figures(cliGet, bytes),
      identical: identical && cliIdentical,
      cliFloorMs: Math.round(floor.ms),
      processes,
      maxPeakRssMiB: Math.max(...processes.map(p => p.peakRssMiB))
    }
  } finally {
    await cleanup(peers)
    await rm(dir, { recursive: true, force: true })
  }
}

function figures (run: { ms: number, cpuSeconds: number, peakRssMiB?: number }, bytes: number): Timed {
  return { ms: Math.round(run.ms), MiBs: mibs(bytes, run.ms), peakRssMiB: run.peakRssMiB, cpuSeconds: run.cpuSeconds }
}

if (import.meta.main) {
  // on its own, for a quick look: node bench/ionnet.ts [MiB]
  console.log(JSON.stringify(await measureIonNet(Number(process.argv[2] ?? 16)), null, 2))
  process.exit(0)
}
