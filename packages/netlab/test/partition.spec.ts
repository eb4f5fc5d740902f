import { expect } from 'chai'
import { isolatingGroup, MiB, sha256File, waitFor } from '../src/index.ts'
import { startLabOrSkip } from './start-lab.ts'
import type { Health, Lab } from '../src/index.ts'

const REPLICAS = 3
const MARGIN = 1 // the healer's SURPLUS_MARGIN: copies tolerated above the replica count

describe('netlab: a partition that cuts one replica of every chunk away', function () {
  this.timeout(180_000)
  let lab: Lab | undefined
  let file: { path: string, sha256: string }
  let link: string
  let minority: number[]
  let majority: number[]

  before(async function () {
    lab = await startLabOrSkip(this, { hosts: 5, heartbeat: 500, deadAfter: 4, healInterval: 1000 })
    file = await lab.randomFile('two.bin', 2 * MiB)
    link = (await lab.put(1, file.path, { replicas: REPLICAS })).link
    // two hosts that hold a copy of every block (2 blocks: 1 chunk and the manifest) and never all three
    minority = isolatingGroup(await lab.placement(), [1, 2, 3, 4, 5], { size: 2 })!
    expect(minority, 'a pair of hosts holding a copy of every block').to.not.equal(undefined)
    majority = [1, 2, 3, 4, 5].filter(n => !minority.includes(n))
  })

  after(async () => {
    await lab?.destroy()
  })

  it('serves a byte-identical get on the majority side during the partition', async () => {
    const l = lab!
    await l.partition([majority, minority])
    // negative control: the partition is real, the majority sees the minority dead
    await waitFor(async () => {
      const peers = await l.peers(majority[0])
      return minority.every(m => peers.some(p => p.peerId === l.host(m).peerId && !p.alive))
    }, { timeout: 30_000, message: 'the majority to see the minority dead' })
    const got = await l.get(majority[1], link)
    expect(await sha256File(got.output)).to.equal(file.sha256)
  })

  it(`restores copies on both sides, then drops back to at most replicas + ${MARGIN} live copies once healed`, async () => {
    const l = lab!
    const health = async (host: number): Promise<Health> => l.health(host, link)
    // while split, each side heals what it holds: 3 copies on the majority, 2 on the minority (all it has room for)
    await waitFor(async () => (await health(majority[0])).min >= REPLICAS, { timeout: 90_000, interval: 500, message: `${REPLICAS} copies of every block on the majority side` })
    await waitFor(async () => [...(await l.placement()).values()].every(hosts => hosts.filter(h => minority.includes(h)).length === 2),
      { timeout: 60_000, interval: 500, message: 'a copy of every block on both minority hosts' })
    const split = await l.placement()
    expect([...split.values()].map(hosts => hosts.length), 'copies on disk before healing').to.deep.equal([...split.values()].map(() => REPLICAS + 2))

    await l.heal()
    await l.waitForMesh()
    // the surplus goes: every block back within replicas..replicas + margin, as counted live and as found on disk
    const settled = await waitFor(async () => {
      const h = await health(majority[0])
      const onDisk = [...(await l.placement()).values()].map(hosts => hosts.length)
      return h.min >= REPLICAS && h.max <= REPLICAS + MARGIN && onDisk.every(n => n <= REPLICAS + MARGIN) ? h : undefined
    }, { timeout: 90_000, interval: 500, message: `every block within ${REPLICAS}..${REPLICAS + MARGIN} copies after healing` })
    expect(settled.underReplicated).to.equal(0)
    // and stays there: nobody copies it up again (three more counts, over several healer passes)
    for (const host of [minority[0], majority[1], minority[1]]) {
      const h = await health(host)
      expect(h.min, `fewest copies seen from h${host}`).to.be.at.least(REPLICAS)
      expect(h.max, `most copies seen from h${host}`).to.be.at.most(REPLICAS + MARGIN)
    }
  })
})
