import { expect } from 'chai'
import { execFileSync } from 'node:child_process'
import { MiB, sha256File } from '../src/index.ts'
import { startLabOrSkip } from './start-lab.ts'
import type { Lab } from '../src/index.ts'

const LIMIT = 10e6 // bits per second
const SLOW = 4e6
const UPLINK = 1e6
const SIZE = 5 * MiB

describe('netlab: a host behind a 10 Mbit/s link', function () {
  this.timeout(120_000)
  let lab: Lab | undefined
  let file: { path: string, sha256: string }
  let link: string

  before(async function () {
    // host 3 offers no space, so it holds no chunk and every byte of its get crosses its link
    lab = await startLabOrSkip(this, { hosts: 3, heartbeat: 500, deadAfter: 4, healInterval: 1000, hostArgs: { 3: ['--capacity', '0'] } })
    file = await lab.randomFile('five.bin', SIZE)
    link = (await lab.put(1, file.path, { replicas: 2 })).link
    expect((await lab.chunksOn(3)).size).to.equal(0)
  })

  after(async () => {
    await lab?.destroy()
  })

  it('keeps every host on the lab subnet with no route out, and the machine\'s own interfaces untouched', async () => {
    const ip = (...args: string[]): any[] => JSON.parse(execFileSync('ip', ['-j', ...args], { encoding: 'utf8' }) || '[]')
    const v4 = (ns?: string): string[] => ip(...(ns == null ? [] : ['-n', ns]), '-4', 'addr', 'show').flatMap(l => l.addr_info.map((a: any) => `${l.ifname} ${a.local}/${a.prefixlen}`))
    for (const h of lab!.hosts) {
      expect(v4(h.ns)).to.have.members(['lo 127.0.0.1/8', `eth0 ${h.address}/24`])
      expect(ip('-n', h.ns, 'route', 'show').map(r => `${r.dst} ${r.dev}`)).to.deep.equal(['198.18.0.0/24 eth0'])
    }
    // the switch only forwards frames: no address to reach it by
    expect(v4(lab!.network.switchNs)).to.deep.equal(['lo 127.0.0.1/8'])
    expect(v4().filter(a => a.includes('198.18.'))).to.deep.equal([])
    // peers announce only their lab address
    for (const p of await lab!.peers(1)) expect(p.addrs.every(a => a.startsWith('/ip4/198.18.0.'))).to.equal(true)
  })

  it('gets a 5 MiB file through tbf at 50 to 110% of 10 Mbit/s', async () => {
    await lab!.limit(3, { rate: LIMIT })
    const got = await lab!.get(3, link)
    expect(await sha256File(got.output)).to.equal(file.sha256)
    expect(got.rate / LIMIT, `rate ${(got.rate / 1e6).toFixed(2)} Mbit/s over ${got.ms} ms`).to.be.within(0.5, 1.1)
  })

  it('gets the same file faster than the limit once the limit is gone (negative control)', async () => {
    await lab!.unlimit(3)
    const got = await lab!.get(3, link)
    expect(await sha256File(got.output)).to.equal(file.sha256)
    expect(got.rate / LIMIT, `rate ${(got.rate / 1e6).toFixed(2)} Mbit/s over ${got.ms} ms`).to.be.above(1.2)
  })
})

describe('netlab: a host behind a 4 Mbit/s link that waits 5 s for a chunk\'s next bytes', function () {
  this.timeout(120_000)
  let lab: Lab | undefined

  before(async function () {
    lab = await startLabOrSkip(this, { hosts: 3, heartbeat: 500, deadAfter: 4, healInterval: 1000, hostArgs: { 3: ['--capacity', '0', '--chunk-timeout', '5000'] } })
  })

  after(async () => {
    await lab?.destroy()
  })

  it('gets a file whose every chunk takes longer than that', async () => {
    // three 2 MiB chunks in flight share the link: each takes about 12 s. A deadline per chunk failed every one of
    // them; only silence may fail a chunk now
    const file = await lab!.randomFile('five.bin', SIZE)
    const { link } = await lab!.put(1, file.path, { replicas: 2 })
    await lab!.limit(3, { rate: SLOW })
    const got = await lab!.get(3, link)
    expect(await sha256File(got.output)).to.equal(file.sha256)
    expect(got.rate / SLOW, `rate ${(got.rate / 1e6).toFixed(2)} Mbit/s over ${got.ms} ms`).to.be.within(0.5, 1.1)
  })
})

describe('netlab: a host behind a 1 Mbit/s uplink puts a file with 3 copies', function () {
  this.timeout(120_000)
  let lab: Lab | undefined

  before(async function () {
    // host 1 keeps no copy itself, so every copy starts from it; it waits 5 s for signs of progress
    lab = await startLabOrSkip(this, { hosts: 4, heartbeat: 500, deadAfter: 4, healInterval: 1000, hostArgs: { 1: ['--capacity', '0', '--chunk-timeout', '5000'] } })
  })

  after(async () => {
    await lab?.destroy()
  })

  it('in about the time one copy takes: each chunk crosses the uplink once, and the holders pass it on', async () => {
    // 8 chunks of 128 KiB, all in flight at once: 1 MiB through 1 Mbit/s takes about 9 s, and each transfer crawls
    // at about 128 kbit/s. Sent three times from host 1, as before chains, the put took 28–30 s. Bounded by their own
    // size alone, chunks were given 5 s + 4 s, and the put failed: host 1's heartbeats queue behind its chunks, and a
    // chunk's yamux frame takes a second to reach its peer, while peers take a peer silent for 2 s for dead
    const file = await lab!.randomFile('one.bin', MiB)
    await lab!.limit(1, { up: UPLINK })
    const started = Date.now()
    const put = await lab!.put(1, file.path, { replicas: 3, chunkSize: 128 * 1024 })
    const ms = Date.now() - started
    expect(put.minCopies, `put took ${ms} ms: ${put.warning ?? ''}`).to.equal(3)
    const once = MiB * 8 * 1000 / ms
    expect(once / UPLINK, `one copy's bytes at ${(once / 1e6).toFixed(2)} Mbit/s over ${ms} ms`).to.be.within(0.5, 1.1)
    await lab!.unlimit(1)
    for (const host of [2, 3, 4]) expect((await lab!.chunksOn(host)).size, `blocks on host ${host}`).to.equal(put.chunks + 1)
    const got = await lab!.get(2, put.link)
    expect(await sha256File(got.output)).to.equal(file.sha256)
  })
})
