import { expect } from 'chai'
import { ceilings, formatReport, judge } from '../bench/report.ts'
import type { Results } from '../bench/report.ts'

/** A run with only the machine limits the ceilings read; every other section empty. */
function run (limits: Partial<NonNullable<Results['limits']>>, cpus = 2): Results {
  return {
    mode: 'full',
    machine: { cpus },
    plan: { sizes: [256], heal: 256, scale: [50] },
    limits: {
      tcpLoopbackMiBs: 1300,
      sha256MiBs: 1000,
      aes256gcmMiBs: 1000,
      chunkFileFsyncMiBs: 400,
      chunkFileFsyncPassesMiBs: [400],
      sha256CpuMsPerMiB: 1,
      aes256gcmCpuMsPerMiB: 1,
      chunkFileFsyncCpuMsPerMiB: 1,
      libp2pNoiseMiBs: 200,
      libp2pTlsMiBs: 300,
      libp2pTlsSocketMiBs: 450,
      streamCpuMsPerMiB: { noise: 10, tls: 5, tlsSocket: 4, receiverNoise: null, receiverTlsSocket: null },
      ...limits
    },
    helia: [],
    ionnet: [],
    scale: [],
    errors: {}
  }
}

describe('bench ceilings: the most a transfer could reach on the machine', () => {
  it('divides the cores by the CPU per MiB of the steps each transfer cannot skip', () => {
    const c = ceilings(run({}))!
    // get: stream 4 + AES 1 = 5 ms per MiB; 2 cores: 400 MiB/s, under the stream's 450
    expect(c.get).to.deep.equal({ cpuMsPerMiB: 5, MiBs: 400, share: 0.89 })
    // put, 1 copy: AES 1 + hash 1 + stream 4 + hash 1 + chunk file 1 = 8: 250 MiB/s, 62.5% of the 400 MiB/s disk
    expect(c.putR1).to.deep.equal({ cpuMsPerMiB: 8, MiBs: 250, share: 0.63 })
    // put, 3 copies, the uploader holding one: 2 + 1 + 2 x 6 = 15: 133.3 MiB/s, 30% of the stream
    expect(c.putR3).to.deep.equal({ cpuMsPerMiB: 15, MiBs: 133.3, share: 0.3 })
  })

  it('never exceeds the stream or the disk a transfer needs', () => {
    const c = ceilings(run({ streamCpuMsPerMiB: { noise: 10, tls: 5, tlsSocket: 0.5, receiverNoise: null, receiverTlsSocket: null }, chunkFileFsyncMiBs: 100 }, 64))!
    expect(c.get.MiBs).to.equal(450)
    expect(c.get.share).to.equal(1)
    expect(c.putR1.MiBs).to.equal(100)
  })

  it('is left out of a run that did not measure the CPU of its steps', () => {
    const old = run({})
    delete old.limits!.streamCpuMsPerMiB
    expect(ceilings(old)).to.equal(undefined)
    const report = formatReport(old, judge(old))
    expect(report).to.include('| get                     | TLS stream, AES-256-GCM')
    expect(judge(old).targets.find(t => t.target.includes('>= 75%'))?.ceiling).to.equal('-')
  })

  it('stands beside each ratio target in the verdicts', () => {
    const r = run({})
    const targets = judge(r).targets
    expect(targets.find(t => t.target.includes('--replicas 3'))?.ceiling).to.equal('30%')
    expect(targets.find(t => t.target.includes('--replicas 1'))?.ceiling).to.equal('63%')
    expect(formatReport(r, judge(r))).to.match(/--replicas 3 >= 40% .*\| 30% +\|/)
  })
})
