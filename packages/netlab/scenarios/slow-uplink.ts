/**
 * Slow uplink: the uploader's link sends at `rate` only (a home connection's upload), while the rest of the
 * network is fast. Every copy of the put leaves through that link.
 *
 * Measures the put's duration and goodput, how much of the link it used, whether the other peers kept seeing the
 * uploader alive while its link was saturated, and the reads that follow.
 *
 *   npm run lab -- slow-uplink --rate 10mbit --size 6MiB
 */
import { defineScenario, formatBytes, formatRate, readFile, sleep, waitReplicated } from '../src/index.ts'

export default defineScenario({
  name: 'slow-uplink',
  description: 'put a file from a host whose upload is limited with tbf, and see the put, the copies and the heartbeats',
  hosts: 5,
  options: [
    { name: 'rate', kind: 'rate', default: '10mbit', help: 'upload rate of the uploader (tbf), e.g. 10mbit' },
    { name: 'size', kind: 'size', default: '6MiB', help: 'bytes of the file' },
    { name: 'replicas', kind: 'int', default: 3, help: '--replicas of the put' }
  ],
  async run (lab, { options, say }) {
    const { rate, replicas } = options
    const uploader = lab.host(1)
    const watcher = lab.host(2)
    await lab.limit(uploader, { up: rate })

    // while the uplink is full, does the rest of the network still hear the uploader's heartbeats?
    let seenDead = 0
    let polls = 0
    let putting = true
    const watch = (async () => {
      while (putting) {
        const row = (await lab.peers(watcher).catch(() => [])).find(p => p.peerId === uploader.peerId)
        polls++
        if (row != null && !row.alive) seenDead++
        await sleep(300)
      }
    })()
    const file = await lab.randomFile('upload.bin', options.size)
    const sentBefore = (await lab.counters(uploader)).tx
    const started = Date.now()
    const put = await lab.put(uploader, file.path, { replicas })
    const putMs = Date.now() - started
    const sent = (await lab.counters(uploader)).tx - sentBefore
    putting = false
    await watch
    const stored = { name: 'upload.bin', link: put.link, sha256: file.sha256, size: file.size }
    say(`put ${formatBytes(file.size)} in ${putMs} ms: ${formatRate(file.size * 8000 / putMs)} of file, ${formatRate(sent * 8000 / putMs)} on the wire (limit ${formatRate(rate)})`)

    const replicated = await waitReplicated(lab, [stored], { replicas, observer: () => watcher, timeout: 60_000 })
    const readers = lab.hosts.filter(h => h !== uploader)
    const reads = await Promise.all(readers.map(async h => readFile(lab, h, stored)))
    const failed = reads.filter(r => r != null)
    const figures = {
      rate,
      putMs,
      putGoodput: Math.round(file.size * 8000 / putMs),
      uplinkBytes: sent,
      uplinkUse: +(sent * 8000 / putMs / rate).toFixed(2),
      minCopies: put.minCopies,
      uploaderSeenDead: `${seenDead}/${polls} polls`,
      replicatedMs: replicated.ms ?? null,
      readsFailed: failed.length,
      filesLost: failed.length === readers.length ? 1 : 0
    }
    const reasons = [
      `put got ${put.minCopies} of ${replicas} copies in ${(putMs / 1000).toFixed(1)} s; ${formatBytes(sent)} left the uploader (${Math.round(figures.uplinkUse * 100)}% of its uplink)`,
      ...(put.warning == null ? [] : [`the put warned: ${put.warning}`]),
      replicated.ms == null ? `the file never reached ${replicas} copies` : `every block had ${replicas} copies ${replicated.ms} ms after the put returned`,
      `the uploader was seen dead in ${seenDead} of ${polls} polls during the put`,
      `${readers.length - failed.length} of ${readers.length} reads from the other hosts were byte-identical`
    ]
    // a put short of copies is a finding, not a failure: what matters is that the healer completes them
    return { pass: replicated.ms != null && failed.length === 0, reasons, figures }
  }
})
