/**
 * `npm run bench`: every measurement in one run, so IonNet is compared with Helia and with the machine's limits as
 * ratios measured minutes apart on the same machine (absolute figures drift 20–30% between runs here).
 * Prints the tables and writes bench/results/<date>.json and bench/results/latest.json.
 *
 *   npm run bench               # full: 16, 256 and 1024 MiB; heal 256 MiB; 20 and 50 peers
 *   npm run bench -- --quick    # smoke test: 16 and 64 MiB; heal 32 MiB; 10 peers (results/*-quick.json)
 *
 * A section that fails is recorded with its error, and the others still run.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { measureBarePut } from './bare-put.ts'
import { machineInfo } from './common.ts'
import { measureHeal } from './heal.ts'
import { measureHelia } from './helia.ts'
import { measureIonNet } from './ionnet.ts'
import { measureLimits } from './limits.ts'
import { formatReport, judge } from './report.ts'
import { measureScale } from './scale.ts'
import { measureStream } from './stream.ts'
import type { Results } from './report.ts'

const PLANS = {
  full: { sizes: [16, 256, 1024], heal: 256, scale: [20, 50], tcpMiB: 1024, cryptoMiB: 256, fsyncMiB: 256, streamMiB: 256 },
  quick: { sizes: [16, 64], heal: 32, scale: [10], tcpMiB: 256, cryptoMiB: 64, fsyncMiB: 64, streamMiB: 64 }
}

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } })
const mode = values.quick === true ? 'quick' : 'full'
const plan = PLANS[mode]
const started = Date.now()
const results: Results = { mode, machine: { ...await machineInfo(), nodeOptions: process.env.NODE_OPTIONS ?? '' }, plan, helia: [], ionnet: [], scale: [], errors: {} }

/** Runs one section, logging progress on stderr; a failure is recorded instead of ending the run. */
async function section<T> (name: string, fn: () => Promise<T>): Promise<T | undefined> {
  const t = Date.now()
  process.stderr.write(`bench: ${name} ...\n`)
  try {
    const value = await fn()
    process.stderr.write(`bench: ${name} done in ${((Date.now() - t) / 1000).toFixed(1)} s\n`)
    return value
  } catch (err: any) {
    process.stderr.write(`bench: ${name} FAILED: ${err.stack ?? err}\n`)
    results.errors[name] = String(err.message ?? err)
    return undefined
  }
}

const limits = await section('machine limits', async () => measureLimits(plan))
const noise = await section(`libp2p stream noise ${plan.streamMiB} MiB`, async () => measureStream('noise', plan.streamMiB))
const tls = await section(`libp2p stream tls ${plan.streamMiB} MiB`, async () => measureStream('tls', plan.streamMiB))
const tlsSocket = await section(`libp2p stream tls-socket ${plan.streamMiB} MiB`, async () => measureStream('tls-socket', plan.streamMiB))
const noiseReceiver = await section(`bare receiver over noise ${plan.streamMiB} MiB`, async () => measureStream('noise', plan.streamMiB, 'receive'))
const tlsSocketReceiver = await section(`bare receiver over tls-socket ${plan.streamMiB} MiB`, async () => measureStream('tls-socket', plan.streamMiB, 'receive'))
const barePutR1 = await section(`bare putter, 1 copy, ${plan.streamMiB} MiB`, async () => measureBarePut(1, plan.streamMiB))
const barePutR3 = await section(`bare putter, 3 copies, ${plan.streamMiB} MiB`, async () => measureBarePut(3, plan.streamMiB))
if (limits != null) {
  results.limits = {
    ...limits,
    libp2pNoiseMiBs: noise?.MiBs ?? null,
    libp2pTlsMiBs: tls?.MiBs ?? null,
    libp2pTlsSocketMiBs: tlsSocket?.MiBs ?? null,
    receiverNoiseMiBs: noiseReceiver?.MiBs ?? null,
    receiverTlsSocketMiBs: tlsSocketReceiver?.MiBs ?? null,
    streamCpuMsPerMiB: {
      noise: noise?.cpuMsPerMiB ?? null,
      tls: tls?.cpuMsPerMiB ?? null,
      tlsSocket: tlsSocket?.cpuMsPerMiB ?? null,
      receiverNoise: noiseReceiver?.cpuMsPerMiB ?? null,
      receiverTlsSocket: tlsSocketReceiver?.cpuMsPerMiB ?? null
    },
    barePutR1MiBs: barePutR1 ?? null,
    barePutR3MiBs: barePutR3 ?? null
  }
}
for (const size of plan.sizes) {
  const run = await section(`helia ${size} MiB`, async () => measureHelia(size))
  if (run != null) results.helia.push(run)
}
for (const size of plan.sizes) {
  const run = await section(`ionnet ${size} MiB`, async () => measureIonNet(size))
  if (run != null) results.ionnet.push(run)
}
results.heal = await section(`heal ${plan.heal} MiB`, async () => measureHeal(plan.heal))
results.scale = await section(`scale ${plan.scale.join(', ')} peers`, async () => measureScale(plan.scale, {
  onError: (count, err) => { results.errors[`scale ${count} peers`] = String(err.message ?? err) }
})) ?? []
results.machine.durationS = Math.round((Date.now() - started) / 1000)

const verdict = judge(results)
const report = formatReport(results, verdict)
console.log(report)
await save({ ...results, ...verdict, report })
process.exit(0)

/** Writes results/<date>.json and results/latest.json (quick runs: *-quick.json), each via a temp file. */
async function save (data: unknown): Promise<void> {
  const dir = new URL('./results/', import.meta.url)
  await mkdir(dir, { recursive: true })
  const suffix = mode === 'quick' ? '-quick' : ''
  const stamp = String(results.machine.date).replace(/:/g, '-').replace(/\.\d+Z$/, 'Z')
  const text = JSON.stringify(data, null, 2) + '\n'
  for (const name of [`${stamp}${suffix}.json`, `latest${suffix}.json`]) {
    const path = new URL(name, dir).pathname
    await writeFile(`${path}.tmp`, text)
    await rename(`${path}.tmp`, path)
    console.log(`wrote bench/results/${name}`)
  }
}
