/**
 * Churn: hosts leave and come back at a steady rate while every file keeps being read.
 *
 * Every `every` ms one event happens: a host leaves (its peer SIGKILLed, or its cable cut, `cut` of the time) or a
 * host that left comes back (restarted on its repo, or plugged back in). Host 1 never leaves: it observes health,
 * so a freshly joined peer's partial view is never mistaken for lost copies. A leave waits while copies are still
 * missing, so data is never lost to overlapping faults, which would say nothing about the healer.
 *
 *   npm run lab -- churn --hosts 12 --rounds 12 --every 6000
 */
import { defineScenario, formatBytes, HealMonitor, percentile, readFile, ReadProber, repairFigures, sleep, storeFiles, table } from '../src/index.ts'
import type { LabHost, TimedFault } from '../src/index.ts'

export default defineScenario({
  name: 'churn',
  description: 'hosts leave (SIGKILL or cable cut) and come back (restart or reconnect) at a steady rate while files are read',
  hosts: 12,
  options: [
    { name: 'rounds', kind: 'int', default: 12, help: 'leave or join events' },
    { name: 'every', kind: 'int', default: 6000, help: 'ms between events' },
    { name: 'files', kind: 'int', default: 4, help: 'files stored before the churn' },
    { name: 'size', kind: 'size', default: '2MiB', help: 'bytes of each file' },
    { name: 'replicas', kind: 'int', default: 3, help: '--replicas of every put' },
    { name: 'cut', kind: 'number', default: 0.5, help: 'share of leaves that cut the cable instead of killing the peer' }
  ],
  async run (lab, { options, rng, random, say }) {
    const { rounds, every, replicas } = options
    const observer = lab.host(1)
    const pick = <T>(list: T[]): T => list[Math.floor(rng() * list.length)]
    const files = await storeFiles(lab, { count: options.files, size: options.size, replicas, rng: random('uploaders') })
    say(`stored ${files.length} files of ${formatBytes(options.size)} with ${replicas} replicas`)

    // readers: live hosts that have not changed for a while, so a read measures the network, not a peer still joining
    const changed = new Map<LabHost, number>()
    const settled = (): LabHost[] => lab.live().filter(h => Date.now() - (changed.get(h) ?? 0) > 4 * every / 3)
    const prober = new ReadProber({ lab, files, readers: settled }, { rng: random('readers') })
    const monitor = new HealMonitor({ lab, files, observer: () => observer }, { replicas })
    monitor.start()
    if (!await monitor.waitWhole(60_000)) say('files never reached full replication after the puts')
    const start = Date.now()
    const trafficBefore = await lab.traffic()
    prober.start()

    const gone: Array<{ host: LabHost, how: 'kill' | 'cut' }> = []
    const rows: Array<{ round: number, at: number, event: string, host: string, live: number, fault?: TimedFault }> = []
    for (let round = 1; round <= rounds; round++) {
      // `every` ms between events; a leave that first waits for copies pushes the rest back rather than bunching them
      await sleep(every)
      const candidates = lab.live().filter(h => h !== observer)
      const join = gone.length > 0 && (candidates.length <= replicas + 1 || rng() < 0.5)
      if (join) {
        const back = gone.splice(Math.floor(rng() * gone.length), 1)[0]
        await (back.how === 'cut' ? lab.reconnect(back.host) : lab.restart(back.host))
        changed.set(back.host, Date.now())
        rows.push({ round, at: Date.now() - start, event: back.how === 'cut' ? 'reconnect' : 'restart', host: back.host.name, live: lab.live().length })
        continue
      }
      const waited = Date.now()
      if (!await monitor.waitWhole(60_000)) say(`round ${round}: copies still missing after 60 s; leaving anyway`)
      const victim = pick(candidates)
      const how = rng() < options.cut ? 'cut' : 'kill'
      await (how === 'cut' ? lab.cut(victim) : lab.kill(victim))
      changed.set(victim, Date.now())
      gone.push({ host: victim, how })
      const fault = monitor.fault(`${how} ${victim.name}`)
      rows.push({ round, at: Date.now() - start, event: how, host: victim.name, live: lab.live().length, fault })
      if (Date.now() - waited > 1000) say(`round ${round}: waited ${secs(Date.now() - waited)} s for copies before the leave`)
    }

    const healedAtEnd = await monitor.waitWhole(90_000)
    const faults = await monitor.stop()
    const availability = await prober.stop()
    const lost: string[] = []
    const finalReaders = random('final readers')
    for (const f of files) {
      // a file is lost only if three different hosts cannot read it
      let error: string | undefined
      for (const reader of lab.live().sort(() => finalReaders() - 0.5).slice(0, 3)) {
        error = await readFile(lab, reader, f)
        if (error == null) break
      }
      if (error != null) lost.push(`${f.name}: ${error}`)
    }

    const heals = faults.flatMap(f => f.healMs ?? [])
    const repairs = repairFigures(lab.repairs(start))
    const unreadable = availability.filter(a => a.failed > 0)
    const figures = {
      hosts: lab.hosts.length,
      rounds,
      leaves: faults.length,
      filesLost: lost.length,
      filesUnreadable: unreadable.length,
      unreadableMs: { total: sum(availability.map(a => a.unreadableMs)), longest: Math.max(0, ...availability.map(a => a.longestMs)) },
      reads: { total: sum(availability.map(a => a.reads)), failed: sum(availability.map(a => a.failed)) },
      healMs: { median: percentile(heals, 0.5), p95: percentile(heals, 0.95), max: percentile(heals, 1), unhealed: faults.length - heals.length },
      healPollMs: percentile(monitor.pollMs, 0.5),
      fewestCopies: monitor.lowest,
      repairBytes: repairs.bytes,
      repairs: repairs.byReason,
      networkBytes: (await lab.traffic()) - trafficBefore
    }
    const events = table(['ROUND', 'T (s)', 'EVENT', 'HOST', 'LIVE', 'HEAL MS'],
      rows.map(r => [r.round, secs(r.at), r.event, r.host, r.live, r.fault == null ? undefined : r.fault.healMs ?? 'not healed']))
    const outages = table(['FILE', 'READS', 'FAILED', 'UNREADABLE S', 'LONGEST S', 'LAST ERROR'],
      availability.map(a => [a.name, a.reads, a.failed, secs(a.unreadableMs), secs(a.longestMs), a.lastError?.slice(0, 100)]))
    const reasons = [
      `${lost.length} of ${files.length} files lost${lost.length > 0 ? `: ${lost.join('; ')}` : ''}`,
      `${heals.length} of ${faults.length} leaves healed${healedAtEnd ? '' : '; copies still missing at the end'}`,
      `${unreadable.length} files unreadable for a while (${secs(figures.unreadableMs.total)} s in all, longest ${secs(figures.unreadableMs.longest)} s)`
    ]
    return { pass: lost.length === 0 && heals.length === faults.length && healedAtEnd, reasons, figures, tables: [events, outages] }
  }
})

function secs (ms: number): string {
  return (ms / 1000).toFixed(1)
}

function sum (values: number[]): number {
  return values.reduce((s, v) => s + v, 0)
}
