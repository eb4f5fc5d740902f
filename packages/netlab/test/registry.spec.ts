import { expect } from 'chai'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { checkSupport, findLabs, removeStaleLabs } from '../src/index.ts'
import { labDir, labIdOf, namespaceName, ownRecord, ownerAlive, processStartTime, removeLab, stateDir, writeRecord } from '../src/registry.ts'

describe('netlab: lab records', () => {
  it('names namespaces after the lab and reads the lab back from the name', () => {
    expect(namespaceName('a1b2c3', 'h12')).to.equal('ionlab-a1b2c3-h12')
    expect(labIdOf('ionlab-a1b2c3-h12')).to.equal('a1b2c3')
    expect(labIdOf('ionlab-a1b2c3-sw')).to.equal('a1b2c3')
    expect(labIdOf('ionlab-probe-a1b2c3')).to.equal(undefined)
    expect(labIdOf('other-a1b2c3-h1')).to.equal(undefined)
  })

  it('tells a running owner from a dead one, and from a reused pid', () => {
    expect(ownerAlive(ownRecord('a1b2c3'))).to.equal(true)
    const child = spawnSync(process.execPath, ['-e', '0'])
    expect(ownerAlive({ pid: child.pid!, startTime: '1' })).to.equal(false)
    // our own pid with another start time: a process that took over a dead owner's pid
    expect(ownerAlive({ pid: process.pid, startTime: String(Number(processStartTime(process.pid)) - 1) })).to.equal(false)
  })
})

describe('netlab: labs left behind by a crash', function () {
  this.timeout(30_000)

  before(async function () {
    const support = await checkSupport()
    if (!support.ok) {
      console.log(`      skipping the lab tests: ${support.reason}`)
      this.skip()
    }
  })

  /** What a lab leaves behind: a record, a switch and a host namespace with a process inside, and its folder. */
  async function fakeLab (labId: string, owner: { pid: number, startTime: string }): Promise<{ sleeper: ReturnType<typeof spawn> }> {
    await writeRecord({ ...ownRecord(labId), ...owner })
    await mkdir(labDir(labId), { recursive: true })
    for (const suffix of ['sw', 'h1']) spawnSync('ip', ['netns', 'add', namespaceName(labId, suffix)])
    const sleeper = spawn('ip', ['netns', 'exec', namespaceName(labId, 'h1'), 'sleep', '60'], { stdio: 'ignore' })
    // the sleeper must not keep mocha alive if a test fails before the clean-up kills it
    sleeper.unref()
    await new Promise(resolve => sleeper.once('spawn', resolve))
    return { sleeper }
  }

  it('removes a lab whose owner died: its processes, namespaces, folder and record', async () => {
    const dead = spawnSync(process.execPath, ['-e', '0'])
    const { sleeper } = await fakeLab('dead01', { pid: dead.pid!, startTime: '1' })
    const exited = new Promise(resolve => sleeper.once('exit', resolve))
    expect((await findLabs()).find(l => l.labId === 'dead01')?.stale).to.equal(true)

    expect(await removeStaleLabs()).to.include('dead01')
    await exited
    expect((await findLabs()).some(l => l.labId === 'dead01')).to.equal(false)
    expect(existsSync(labDir('dead01'))).to.equal(false)
    expect(existsSync(join(stateDir(), 'dead01.json'))).to.equal(false)
  })

  it('leaves alone a lab whose owner still runs', async () => {
    const { sleeper } = await fakeLab('a11ce1', ownRecord('a11ce1'))
    try {
      expect(await removeStaleLabs()).to.not.include('a11ce1')
      const lab = (await findLabs()).find(l => l.labId === 'a11ce1')
      expect(lab?.stale).to.equal(false)
      expect(lab?.namespaces).to.have.members([namespaceName('a11ce1', 'sw'), namespaceName('a11ce1', 'h1')])
      expect(sleeper.exitCode).to.equal(null)
    } finally {
      await removeLab('a11ce1')
    }
  })
})
