/**
 * Partition: the switch splits so that a small group of hosts holds one copy of every chunk and the rest hold the
 * others; both sides keep running, then the partition heals.
 *
 * Measures how long each side takes to notice, how long the majority takes to restore every copy, how long after
 * healing the peers see each other again and surplus copies (both sides repaired) drop back to replicas + 1, what
 * each side could read meanwhile, and the bytes moved.
 *
 *   npm run lab -- partition --hosts 6 --hold 10000
 */
import { defineScenario, formatBytes, isolatingGroup, readFile, ReadProber, repairFigures, sleep, storeFiles, waitReplicated } from '../src/index.ts'

export default defineScenario({
  name: 'partition',
  description: 'split the switch so a few hosts hold one copy of every chunk, keep both sides running, then heal',
  hosts: 6,
  options: [
    { name: 'files', kind: 'int', default: 2, help: 'files stored before the partition' },
    { name: 'size', kind: 'size', default: '4MiB', help: 'bytes of each file' },
    { name: 'replicas', kind: 'int', default: 3, help: '--replicas of every put' },
    { name: 'hold', kind: 'int', default: 10000, help: 'ms the partition lasts after the majority restored every copy' }
  ],
  async run (lab, { options, random, say }) {
    const { replicas } = options
    const files = await storeFiles(lab, { count: options.files, size: options.size, replicas, from: () => lab.host(1) })
    const minority = isolatingGroup(await lab.placement(), lab.hosts.map(h => h.index))
    if (minority == null) return { pass: false, reasons: ['no small group of hosts holds a copy of every chunk: use more hosts or fewer files'], figures: {} }
    const majority = lab.hosts.map(h => h.index).filter(n => !minority.includes(n))
    say(`minority h${minority.join(',h')} holds a copy of every chunk; majority h${majority.join(',h')}`)

    const side = (group: number[]) => () => lab.live().filter(h => group.includes(h.index))
    const probers = { majority: new ReadProber({ lab, files, readers: side(majority) }, { rng: random('majority readers') }), minority: new ReadProber({ lab, files, readers: side(minority) }, { rng: random('minority readers') }) }
    probers.majority.start()
    probers.minority.start()
    const split = Date.now()
    const trafficBefore = await lab.traffic()
    await lab.partition([majority, minority])

    // the majority restores every copy from what it holds; the minority copies among itself what it can
    const restored = await waitReplicated(lab, files, { replicas, observer: () => lab.host(majority[0]), since: split, timeout: 90_000 })
    say(restored.ms == null ? 'the majority did not restore every copy within 90 s' : `majority restored every copy in ${restored.ms} ms (fewest copies seen ${restored.lowest})`)
    const minorityView = await Promise.all(files.map(async f => lab.health(minority[0], f.link).catch(() => undefined)))
    await sleep(options.hold)

    const healed = Date.now()
    const duringPartition = repairFigures(lab.repairs(split))
    await lab.heal()
    let rejoinMs: number | undefined
    await lab.waitForMesh(lab.running(), 90_000).then(() => { rejoinMs = Date.now() - healed }, (err: Error) => { say(err.message) })
    say(rejoinMs == null ? 'the two sides did not see each other again within 90 s' : `every peer sees every other one ${rejoinMs} ms after healing`)
    const settled = await waitReplicated(lab, files, { replicas, max: replicas + 1, observer: () => lab.host(majority[0]), since: healed, timeout: 90_000 })
    say(settled.ms == null ? `copies did not settle within ${replicas}..${replicas + 1}` : `copies settled within ${replicas}..${replicas + 1} ${settled.ms} ms after healing (most copies seen ${settled.highest})`)

    const reads = { majority: await probers.majority.stop(), minority: await probers.minority.stop() }
    const lost = []
    for (const f of files) if (await readFile(lab, lab.host(majority[0]), f) != null && await readFile(lab, lab.host(minority[0]), f) != null) lost.push(f.name)
    const afterHeal = repairFigures(lab.repairs(healed))
    const figures = {
      minority: minority.map(n => `h${n}`),
      filesLost: lost.length,
      majorityRestoredMs: restored.ms ?? null,
      minorityCopiesWhileSplit: minorityView.map(h => h?.copies ?? null),
      rejoinMs: rejoinMs ?? null,
      settleMs: settled.ms ?? null,
      mostCopiesAfterHeal: settled.highest,
      unreadableMs: Object.fromEntries(Object.entries(reads).map(([k, v]) => [k, v.reduce((s, a) => s + a.unreadableMs, 0)])),
      failedReads: Object.fromEntries(Object.entries(reads).map(([k, v]) => [k, `${v.reduce((s, a) => s + a.failed, 0)}/${v.reduce((s, a) => s + a.reads, 0)}`])),
      repairBytesDuringPartition: duringPartition.bytes - afterHeal.bytes,
      repairBytesAfterHeal: afterHeal.bytes,
      networkBytes: (await lab.traffic()) - trafficBefore
    }
    const reasons = [
      `${lost.length} of ${files.length} files lost`,
      restored.ms == null ? 'the majority never restored every copy' : `the majority restored every copy in ${(restored.ms / 1000).toFixed(1)} s`,
      settled.ms == null ? 'copies never settled after healing' : `after healing, copies settled within ${replicas}..${replicas + 1} in ${(settled.ms / 1000).toFixed(1)} s (most seen: ${settled.highest})`,
      `repairs moved ${formatBytes(duringPartition.bytes - afterHeal.bytes)} during the partition and ${formatBytes(afterHeal.bytes)} after it`
    ]
    return { pass: lost.length === 0 && restored.ms != null && settled.ms != null && rejoinMs != null, reasons, figures }
  }
})
