/**
 * Chaos run for IonNet's healer.
 *
 * Starts N real peer processes on loopback, stores F random files with --replicas R from random peers, then plays
 * rounds: each round SIGKILLs one random live peer (or, when too few peers would be left, starts a new one instead),
 * sometimes restarts an earlier victim on its old repo and sometimes adds a brand-new peer. It then measures the heal
 * time, from the kill until `ionnet health --json` on a random live peer reports at least R live copies of every
 * block of every file (polled every 200 ms, 60 s deadline), and reads every file back from a random live peer to
 * check its sha256. At the end it prints a per-round table, a summary and one JSON line, removes every process and
 * temporary folder (also on Ctrl-C), and exits 1 if any file was lost (unreadable after the last round).
 *
 *   npm run chaos -- --peers 10 --rounds 20 --seed 42
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { cleanup, randomFile, sha256File, startPeer, waitForMesh } from '../test/helpers/network.ts'
import type { TestPeer } from '../test/helpers/network.ts'

const OPTIONS: Array<[name: string, fallback: string | undefined, help: string]> = [
  ['peers', '10', 'peers at the start'], ['rounds', '20', 'chaos rounds'], ['files', '4', 'files stored'],
  ['size', String(4 * 1024 * 1024), 'bytes of each file'], ['replicas', '3', '--replicas of every put'],
  ['heartbeat', '300', 'heartbeat interval of the peers, ms'],
  ['restart-prob', '0.3', 'chance per round to restart a killed peer on its old repo'],
  ['join-prob', '0.2', 'chance per round to add a brand-new peer'], ['seed', undefined, 'seed of the chaos schedule (default: random, printed)']
]
const usage = `usage: npm run chaos -- [options]\n${OPTIONS.map(([n, d, h]) => `  --${n.padEnd(14)}${h}${d == null ? '' : ` (default ${d})`}`).join('\n')}`
function fail (message: string): never {
  console.error(`chaos: ${message}\n${usage}`)
  process.exit(2)
}
let opts: Record<string, string | boolean | undefined> = {}
try {
  opts = parseArgs({ options: { help: { type: 'boolean', short: 'h' }, ...Object.fromEntries(OPTIONS.map(([name, fallback]) => [name, { type: 'string', ...(fallback == null ? {} : { default: fallback }) }])) } }).values
} catch (err: any) { fail(err.message) }
if (opts.help === true) {
  console.log(usage)
  process.exit(0)
}
function num (name: string): number {
  const n = Number(opts[name])
  return Number.isFinite(n) && n >= 0 ? n : fail(`--${name} expects a number, got ${String(opts[name])}`)
}
const [peerCount, rounds, fileCount, size, replicas, heartbeat] = ['peers', 'rounds', 'files', 'size', 'replicas', 'heartbeat'].map(num)
const restartProb = num('restart-prob')
const joinProb = num('join-prob')
const seed = opts.seed == null ? Math.floor(Math.random() * 2 ** 31) : num('seed')
const PEER_ARGS = ['--heal-interval', '1000']
const HEAL_DEADLINE = 60_000

/** mulberry32: a small seeded PRNG, so a schedule can be replayed with --seed. */
const rng = ((a: number) => () => {
  a = (a + 0x6D2B79F5) >>> 0
  let t = Math.imul(a ^ (a >>> 15), a | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
})(seed)
const pick = <T>(list: T[], r: () => number = rng): T => list[Math.floor(r() * list.length)]
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }
const short = (p: TestPeer): string => p.peerId.slice(-6)
const REASONS = new Set(['repair', 'rebalance', 'scrub'])
const describe = (h: Health): string => `min ${h.min}, under ${h.underReplicated}, missing ${h.missing}, copies [${h.copies.join(',')}]`

interface StoredFile { name: string, link: string, sha256: string }
interface Health { min: number, underReplicated: number, missing: number, copies: number[] }
interface Row { round: number, actions: string, live: number, healMs?: number, beforeKill: number, lowest: number, repairs: number, bytes: number, badReads: number }

const all: TestPeer[] = [] // every process ever started, dead or alive: their repair events count too
let live: TestPeer[] = []
const down: TestPeer[] = [] // killed and not restarted yet
const files: StoredFile[] = []
const rows: Row[] = []
const pending = new Set<Promise<TestPeer>>()
let dir = ''
let cleaning: Promise<void> | undefined
async function shutdown (): Promise<void> {
  cleaning ??= (async () => {
    await Promise.allSettled([...pending])
    await cleanup(all)
    if (dir !== '') await rm(dir, { recursive: true, force: true })
  })()
  await cleaning
}
process.on('SIGINT', () => {
  console.error('\ninterrupted: stopping every peer and removing temporary folders')
  void shutdown().finally(() => process.exit(130))
})

const repairs = (): any[] => all.flatMap(p => p.events('repair')).filter(e => REASONS.has(e.reason))

/** Starts a peer bootstrapped to a random live one; shutdown waits for starts still in flight. */
async function start (repo?: string): Promise<TestPeer> {
  if (cleaning != null) throw new Error('shutting down')
  const starting = startPeer({ repo, bootstrap: live.length === 0 ? [] : [pick(live, Math.random)], heartbeat, args: PEER_ARGS })
  pending.add(starting)
  const p = await starting.finally(() => pending.delete(starting))
  all.push(p)
  live.push(p)
  return p
}

async function health (p: TestPeer, f: StoredFile): Promise<Health> {
  const r = await p.run(['health', f.link, '--json'], 30_000)
  if (r.code !== 0) throw new Error(`health on ${short(p)} exited ${r.code}: ${r.stderr.trim()}`)
  return JSON.parse(r.stdout)
}

/** Polls health until every file has >= replicas live copies of every block: the ms since `since` (undefined past the
 * deadline) and the fewest live copies of any block seen meanwhile. */
async function waitHealed (since: number, deadline = HEAL_DEADLINE): Promise<{ ms?: number, lowest: number }> {
  let lowest = Infinity
  for (;;) {
    const p = pick(live, Math.random)
    const states = await Promise.all(files.map(async f => health(p, f).catch((err: Error) => err.message)))
    states.forEach((s, i) => {
      if (typeof s === 'string' || s.min >= lowest) return
      // a new low: say who answered, to tell lost copies from an observer that does not know every holder yet
      if (s.min < replicas - 1) console.log(`  ${files[i].name} down to ${describe(s)} (asked ${short(p)}, ${Date.now() - since} ms in)`)
      lowest = s.min
    })
    if (states.every(s => typeof s !== 'string' && s.min >= replicas)) return { ms: Date.now() - since, lowest }
    if (Date.now() - since > deadline) {
      states.forEach((s, i) => {
        if (typeof s === 'string' || s.min < replicas) console.log(`  ${files[i].name} not healed (asked ${short(p)}): ${typeof s === 'string' ? s : describe(s)}`)
      })
      return { lowest }
    }
    await sleep(200)
  }
}

/** Reads a file back from a random live peer; resolves an error message, or undefined when its sha256 matches. */
async function readBack (f: StoredFile): Promise<string | undefined> {
  const p = pick(live, Math.random)
  const out = join(dir, `${f.name}.out`)
  const r = await p.run(['get', f.link, '-o', out], 120_000)
  if (r.code !== 0) return `get on ${short(p)} exited ${r.code}: ${r.stderr.trim()}`
  const sha = await sha256File(out)
  await rm(out, { force: true })
  return sha === f.sha256 ? undefined : `get on ${short(p)} returned sha256 ${sha}, expected ${f.sha256}`
}

function percentile (values: number[], q: number): number | null {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]
}

async function run (): Promise<number> {
  console.log(`chaos: ${peerCount} peers, ${rounds} rounds, ${fileCount} files of ${size} bytes, replicas ${replicas}, seed ${seed}`)
  dir = await mkdtemp(join(tmpdir(), 'ionnet-chaos-'))
  await start() // the others bootstrap to it, as with startNetwork
  await Promise.all(Array.from({ length: peerCount - 1 }, async () => start()))
  await waitForMesh(live, 60_000)
  for (let i = 0; i < fileCount; i++) {
    const f = await randomFile(dir, `file-${i}.bin`, size)
    const result = await pick(live).json<{ link: string, warning?: string }>(['put', f.path, '--replicas', String(replicas)])
    if (result.warning != null) console.log(`  put file-${i}.bin warned: ${result.warning}`)
    files.push({ name: `file-${i}.bin`, link: result.link, sha256: f.sha256 })
    await rm(f.path)
  }
  if ((await waitHealed(Date.now())).ms == null) console.log('  files never reached full replication after the puts')

  let badReads = 0
  let healFailures = 0
  for (let round = 1; round <= rounds; round++) {
    const before = repairs().length
    const actions: string[] = []
    const starting: Array<Promise<unknown>> = []
    // copies lost since the last heal without any kill would be a healer bug (over-eager surplus removal)
    const { ms: whole, lowest: beforeKill } = await waitHealed(Date.now(), 0)
    if (whole == null) console.log(`  round ${round}: fewer than ${replicas} copies before the kill`)
    const t0 = Date.now()
    const victim = live.length - 1 < replicas + 1 ? undefined : pick(live)
    if (victim == null) {
      actions.push('join (too few to kill)')
      starting.push(start())
    } else {
      await victim.kill()
      live = live.filter(p => p !== victim)
      down.push(victim)
      actions.push(`kill ${short(victim)}`)
    }
    if (down.length > 0 && rng() < restartProb) {
      const back = down.splice(Math.floor(rng() * down.length), 1)[0]
      actions.push(`restart ${short(back)}`)
      starting.push(start(back.repo))
    }
    if (rng() < joinProb) starting.push(start().then(p => { actions.push(`join ${short(p)}`) }))
    // peers start while the network heals; health is asked of whichever peers are up
    const { ms: healMs, lowest } = await waitHealed(t0)
    for (const r of await Promise.allSettled(starting)) if (r.status === 'rejected') console.log(`  round ${round}: a peer failed to start: ${String(r.reason)}`)
    if (healMs == null) healFailures++
    await waitForMesh(live, 30_000).catch((err: Error) => { console.log(`  round ${round}: ${err.message}`) })
    let bad = 0
    for (const f of files) await readBack(f).then(err => { if (err != null) { bad++; console.log(`  round ${round}: ${f.name} unreadable: ${err}`) } })
    badReads += bad
    const moved = repairs().slice(before)
    const row: Row = { round, actions: actions.join(', '), live: live.length, healMs: victim != null ? healMs : undefined, beforeKill, lowest, repairs: moved.length, bytes: moved.reduce((s, e) => s + e.bytes, 0), badReads: bad }
    rows.push(row)
    console.log(`round ${round}: ${row.actions}; ${healMs == null ? 'NOT HEALED within 60 s' : `healed in ${healMs} ms`} (fewest copies seen ${lowest}); ${row.repairs} repairs, ${row.bytes} bytes; ${files.length - bad}/${files.length} reads ok`)
    // never kill again while copies are still missing: that could lose data for reasons other than a healer bug
    if (healMs == null && (await waitHealed(Date.now(), 120_000)).ms == null) {
      console.log(`  round ${round}: still not healed after 120 more seconds; stopping the rounds`)
      break
    }
  }

  const lost: string[] = []
  for (const f of files) await readBack(f).then(err => { if (err != null) { lost.push(f.name); console.log(`  final read of ${f.name} failed: ${err}`) } })
  const heals = rows.flatMap(r => r.healMs ?? [])
  const events = repairs()
  const healMs = { median: percentile(heals, 0.5), p95: percentile(heals, 0.95), max: percentile(heals, 1) }
  const bytesMoved = events.reduce((s, e) => s + e.bytes, 0)
  const summary = { peers: peerCount, rounds: rows.length, files: files.length, filesLost: lost.length, unreadable: badReads, healFailures, healMs, bytesMoved, repairs: events.length }
  const table = [['ROUND', 'ACTIONS', 'LIVE', 'HEAL MS', 'BEFORE', 'FEWEST', 'REPAIRS', 'BYTES', 'BAD READS'],
    ...rows.map(r => [String(r.round), r.actions, String(r.live), r.healMs == null ? '-' : String(r.healMs), String(r.beforeKill), String(r.lowest), String(r.repairs), String(r.bytes), String(r.badReads)])]
  const widths = table[0].map((_, i) => Math.max(...table.map(r => r[i].length)))
  console.log('\n' + table.map(r => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n'))
  const byReason = [...REASONS].map(reason => `${reason} ${events.filter(e => e.reason === reason).length}`).join(', ')
  console.log(`\nprocesses started ${all.length}, live at the end ${live.length}; heal ms median ${healMs.median}, p95 ${healMs.p95}, max ${healMs.max}; ` +
    `${events.length} repairs (${byReason}) moving ${bytesMoved} bytes; ${badReads} bad reads, ${healFailures} heal failures, ${lost.length} files lost; seed ${seed}`)
  console.log(JSON.stringify(summary))
  return lost.length > 0 ? 1 : 0
}

const code = await run().catch((err: unknown) => { console.error('chaos failed:', err); return 1 })
await shutdown()
process.exit(code)
