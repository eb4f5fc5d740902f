/**
 * Flash crowd: one file, and every other host asks for it at the same moment, in waves.
 *
 * Measures how many gets succeed, their durations, the crowd's aggregate rate, and how the upload load spread over
 * the hosts (each host's own interface counters). `--rate` limits every host's link (tbf both ways) to see the
 * crowd against a network rather than against the CPU.
 *
 *   npm run lab -- flash-crowd --hosts 8 --waves 2 --rate 50mbit
 */
import { defineScenario, formatBytes, formatRate, percentile, readFile, storeFiles, table, waitReplicated } from '../src/index.ts'

export default defineScenario({
  name: 'flash-crowd',
  description: 'every host but the uploader gets the same file at the same moment, in waves',
  hosts: 8,
  options: [
    { name: 'size', kind: 'size', default: '4MiB', help: 'bytes of the file' },
    { name: 'replicas', kind: 'int', default: 3, help: '--replicas of the put' },
    { name: 'waves', kind: 'int', default: 2, help: 'times the whole crowd gets the file' },
    { name: 'rate', kind: 'rate', default: 'none', help: 'limit of every host\'s link, both ways (none: unlimited)' }
  ],
  async run (lab, { options, say }) {
    const { replicas } = options
    const [file] = await storeFiles(lab, { count: 1, size: options.size, replicas, from: () => lab.host(1) })
    await waitReplicated(lab, [file], { replicas, observer: () => lab.host(1), timeout: 60_000 })
    if (options.rate > 0) for (const h of lab.hosts) await lab.limit(h, { rate: options.rate })
    const crowd = lab.hosts.slice(1)
    const sentBefore = await Promise.all(lab.hosts.map(async h => (await lab.counters(h)).tx))

    const durations: number[] = []
    let failed = 0
    const started = Date.now()
    for (let wave = 1; wave <= options.waves; wave++) {
      const t = Date.now()
      const results = await Promise.all(crowd.map(async h => {
        const s = Date.now()
        const error = await readFile(lab, h, file)
        return { error, ms: Date.now() - s }
      }))
      for (const r of results) if (r.error == null) durations.push(r.ms); else failed++
      say(`wave ${wave}: ${results.filter(r => r.error == null).length}/${crowd.length} gets ok in ${Date.now() - t} ms`)
    }
    const wallMs = Date.now() - started
    const sent = (await Promise.all(lab.hosts.map(async h => (await lab.counters(h)).tx))).map((tx, i) => tx - sentBefore[i])
    const total = sent.reduce((s, b) => s + b, 0)
    const held = await Promise.all(lab.hosts.map(async h => (await lab.chunksOn(h)).size))
    const load = table(['HOST', 'CHUNKS HELD', 'SENT', 'SHARE'], lab.hosts.map((h, i) => [h.name, held[i], formatBytes(sent[i]), `${Math.round(100 * sent[i] / total)}%`]))
    const gets = crowd.length * options.waves
    const figures = {
      gets,
      failed,
      filesLost: failed === gets ? 1 : 0,
      getMs: { median: percentile(durations, 0.5), p95: percentile(durations, 0.95), max: percentile(durations, 1) },
      crowdRate: Math.round(durations.length * file.size * 8000 / wallMs),
      networkBytes: total,
      busiestShare: +(Math.max(...sent) / total).toFixed(2)
    }
    const reasons = [
      `${gets - failed} of ${gets} gets byte-identical; median ${figures.getMs.median} ms, p95 ${figures.getMs.p95} ms`,
      `the crowd got ${formatRate(figures.crowdRate)} together; the busiest host sent ${Math.round(figures.busiestShare * 100)}% of all bytes`
    ]
    return { pass: failed === 0, reasons, figures, tables: [load] }
  }
})
