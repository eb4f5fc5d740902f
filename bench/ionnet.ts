/**
 * IonNet itself, as a user runs it: four storage peers and one reader peer started with `--capacity 0` (so it holds
 * nothing and must fetch every chunk), each its own `ionnet peer start` process on loopback, a fresh network for
 * every size so that each size's peak RSS is its own. For each size:
 * - `ionnet put <file> --replicas 1` and `--replicas 3` on the first storage peer: wall time of the CLI command;
 * - `ionnet get <link> -o <file>` on the reader peer (the replicas-3 file): wall time, and the sha2-256 must match;
 * - peak RSS (VmHWM) of every peer process and of every CLI process;
 * - the CPU seconds each command cost, all peers and the CLI process together: on a machine whose cores every process
 *   shares, that is what bounds a transfer's rate, and it drifts less from run to run than the rate does;
 * - the wall time of `ionnet id`, the CLI's own start-up, which every put and get includes.
 * Before each timed command the peers are left to settle (their CPU use drops), so background work of the previous
 * step (DHT announcements of fresh copies) does not count against the next one.
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
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
  peakRssMiB: number
  /** CPU seconds of every peer and of the CLI process while the command ran (user + system). */
  cpuSeconds: number
}

export interface IonNetRun {
  sizeMiB: number
  putR1: Timed & { minCopies: number }
  putR3: Timed & { minCopies: number }
  get: Timed
  identical: boolean
  /** Wall time of `ionnet id`, a command that does no work: the CLI's start-up, included in every put and get. */
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

    // settles first, then runs the command and adds what every peer spent meanwhile to the CLI's own CPU time
    const timed = async (args: string[], repo: string): Promise<CliRun & { json: any }> => {
      await settle(pids)
      const before = await totalCpuSeconds(pids)
      const run = await runCliJson(args, repo)
      return { ...run, cpuSeconds: round(run.cpuSeconds + await totalCpuSeconds(pids) - before, 2) }
    }
    const r1 = await timed(['put', file.path, '--replicas', '1'], uploader.repo)
    const r3 = await timed(['put', file.path, '--replicas', '3'], uploader.repo)
    const output = join(dir, 'out.bin')
    const get = await timed(['get', r3.json.link, '-o', output], reader.repo)
    const identical = await sha256File(output) === file.sha256
    const floor = await runCliJson(['id'], reader.repo)

    const bytes = sizeMiB * MiB
    const processes = [
      ...await Promise.all(peers.map(async (p, i) => ({
        process: i === 0 ? 'peer 1 (uploader)' : p === reader ? 'reader peer (capacity 0)' : `peer ${i + 1}`,
        peakRssMiB: await peakRssMiB(p.proc.pid!)
      }))),
      { process: 'ionnet put --replicas 1', peakRssMiB: r1.peakRssMiB },
      { process: 'ionnet put --replicas 3', peakRssMiB: r3.peakRssMiB },
      { process: 'ionnet get', peakRssMiB: get.peakRssMiB }
    ]
    return {
      sizeMiB,
      putR1: { ...figures(r1, bytes), minCopies: r1.json.minCopies },
      putR3: { ...figures(r3, bytes), minCopies: r3.json.minCopies },
      get: figures(get, bytes),
      identical,
      cliFloorMs: Math.round(floor.ms),
      processes,
      maxPeakRssMiB: Math.max(...processes.map(p => p.peakRssMiB))
    }
  } finally {
    await cleanup(peers)
    await rm(dir, { recursive: true, force: true })
  }
}

function figures (run: CliRun, bytes: number): Timed {
  return { ms: Math.round(run.ms), MiBs: mibs(bytes, run.ms), peakRssMiB: run.peakRssMiB, cpuSeconds: run.cpuSeconds }
}

if (import.meta.main) {
  // on its own, for a quick look: node bench/ionnet.ts [MiB]
  console.log(JSON.stringify(await measureIonNet(Number(process.argv[2] ?? 16)), null, 2))
  process.exit(0)
}
