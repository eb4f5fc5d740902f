/**
 * Healing after a crash: six peers with `--heartbeat 1000 --heal-interval 5000`; the first puts an N MiB file with
 * `--replicas 3`; once every block has 3 live copies, the holder with the most chunk files under
 * <repo>/chunks/blocks (never the first peer) is SIGKILLed, and `ionnet health --json` on the first peer is polled
 * until it reports min >= 3 again. The figure is the time from the kill to that answer; the target is 3 heartbeat
 * intervals (the time to declare the peer dead) + 10 s.
 */
import { readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { cleanup, startNetwork, tempDir, waitFor } from '../test/helpers/network.ts'
import { runCliJson, waitForAlive } from './cli.ts'
import { MiB, settle, writeRandomFile } from './common.ts'
import type { TestPeer } from '../test/helpers/network.ts'

const PEERS = 6
const HEARTBEAT = 1000
const HEAL_INTERVAL = 5000
const TARGET_MS = 3 * HEARTBEAT + 10_000
/** How long to keep polling before calling it a failure: long enough to tell slow from never. */
const GIVE_UP_MS = 10 * TARGET_MS

export interface HealRun {
  sizeMiB: number
  peers: number
  heartbeatMs: number
  healIntervalMs: number
  targetMs: number
  /** From the SIGKILL until a survivor's health says min >= 3; null if that never happened in time. */
  healMs: number | null
  /** Chunk files the killed peer held. */
  killedChunks: number
  /** Whether health saw the copies drop below 3 after the kill (otherwise the figure says nothing). */
  sawDrop: boolean
  polls: number
}

export async function measureHeal (sizeMiB: number): Promise<HealRun> {
  const dir = await tempDir()
  const peers: TestPeer[] = []
  try {
    peers.push(...await startNetwork(PEERS, { heartbeat: HEARTBEAT, args: ['--heal-interval', String(HEAL_INTERVAL)] }))
    await waitForAlive(peers, peers)
    const [observer] = peers
    const file = await writeRandomFile(dir, 'heal.bin', sizeMiB * MiB)
    const { json: put } = await runCliJson(['put', file.path, '--replicas', '3'], observer.repo)
    const health = async (): Promise<{ min: number }> => (await runCliJson(['health', put.link], observer.repo, 60_000)).json
    await waitFor(async () => (await health()).min >= 3, { timeout: 60_000, message: 'all blocks at 3 copies after the put' })
    await settle(peers.map(p => p.proc.pid!), { peers })

    const counts = await Promise.all(peers.map(async p => chunkFiles(p.repo)))
    // the holder with the most chunks, never the observer: the most the healer can have to restore
    const victim = counts.reduce((best, c, i) => i > 0 && c > counts[best] ? i : best, 1)
    if (counts[victim] === 0) throw new Error('no peer but the uploader holds chunk files')
    const killed = Date.now()
    await peers[victim].kill()
    let healMs: number | null = null
    let sawDrop = false
    let polls = 0
    while (Date.now() - killed < GIVE_UP_MS) {
      const { min } = await health().catch(() => ({ min: -1 }))
      polls++
      if (min >= 0 && min < 3) sawDrop = true
      if (sawDrop && min >= 3) {
        healMs = Date.now() - killed
        break
      }
      await new Promise(resolve => setTimeout(resolve, 250))
    }
    return { sizeMiB, peers: PEERS, heartbeatMs: HEARTBEAT, healIntervalMs: HEAL_INTERVAL, targetMs: TARGET_MS, healMs, killedChunks: counts[victim], sawDrop, polls }
  } finally {
    await cleanup(peers)
    await rm(dir, { recursive: true, force: true })
  }
}

/** Chunk files in a peer's store: <repo>/chunks/blocks/<shard>/<cid>. */
async function chunkFiles (repo: string): Promise<number> {
  const blocks = join(repo, 'chunks', 'blocks')
  const shards = await readdir(blocks).catch(() => [])
  const names = await Promise.all(shards.map(async s => readdir(join(blocks, s)).catch(() => [])))
  // sidecars (<cid>.meta) sit beside the chunk files
  return names.flat().filter(n => !n.includes('.')).length
}

if (import.meta.main) {
  // on its own, for a quick look: node bench/heal.ts [MiB]
  console.log(await measureHeal(Number(process.argv[2] ?? 32)))
  process.exit(0)
}
