import { expect } from 'chai'
import { logger } from '@libp2p/logger'
import { cidForChunk } from '@ionnet/chunk-store'
import { FileCensus } from '../src/file-census.ts'
import type { FileCensusInit } from '../src/file-census.ts'
import type { KeyringEntry } from '../src/keyring.ts'
import type { CID } from 'multiformats/cid'

function file (name: string, chunks: number, added: string): KeyringEntry {
  return { link: `ionnet://${name}#key`, cid: name, name, size: chunks * 1024, chunks, replicas: 3, added }
}

/** The blocks of a stub file: its manifest and its chunks. */
function blocksOf (entry: KeyringEntry): CID[] {
  return Array.from({ length: entry.chunks + 1 }, (_, i) => cidForChunk(Buffer.from(`${entry.cid}/${i}`)))
}

/** A census over stub files: `copies` says the live copies of each block (3 unless set), `rounds` what was asked. */
function setup (files: KeyringEntry[], init: Partial<FileCensusInit> = {}) {
  const copies = new Map<string, number>()
  const rounds: string[][] = []
  const listed: string[] = []
  let hang = false
  let unreadable = new Set<string>()
  const census = new FileCensus({
    files: async () => files,
    blocks: async (entry, max) => {
      listed.push(entry.cid)
      if (unreadable.has(entry.cid)) throw new Error('no live holder of the manifest')
      const all = blocksOf(entry)
      return { cids: all.slice(0, max), total: all.length }
    },
    census: async (chunks, signal) => {
      rounds.push([...new Set(chunks.map(c => fileOf(files, c.cid)))])
      if (hang) await new Promise((_resolve, reject) => signal.addEventListener('abort', () => { reject(signal.reason) }))
      return chunks.map(c => copies.get(c.cid.toString()) ?? 3)
    },
    log: logger('test:file-census')
  }, { files: 16, refresh: 60_000, budget: 2048, maxBlocks: 1024, timeout: 1000, ...init })
  return {
    census,
    copies,
    rounds,
    listed,
    hang: (v: boolean) => { hang = v },
    unreadable: (cids: string[]) => { unreadable = new Set(cids) }
  }
}

function fileOf (files: KeyringEntry[], cid: CID): string {
  return files.find(f => blocksOf(f).some(b => b.equals(cid)))?.cid ?? '?'
}

describe('file census (the dashboard\'s live copies)', () => {
  const signal = new AbortController().signal

  it('reports the live copies of every block of a file, root first', async () => {
    const f = file('a', 3, '2026-01-01')
    const t = setup([f])
    t.copies.set(blocksOf(f)[2].toString(), 1)
    await t.census.step(signal)
    const [view] = t.census.view()
    expect(view).to.include({ cid: 'a', name: 'a', blocks: 4, replicas: 3 })
    expect(view.copies).to.deep.equal([3, 3, 1, 3])
    expect(view.ageMs).to.be.a('number')
  })

  it('follows only the most recent files, newest first', async () => {
    const files = [file('old', 1, '2026-01-01'), file('new', 1, '2026-03-01'), file('mid', 1, '2026-02-01')]
    const t = setup(files, { files: 2 })
    await t.census.step(signal)
    expect(t.census.view().map(v => v.cid)).to.deep.equal(['new', 'mid'])
    expect(t.listed).to.not.include('old')
  })

  it('recounts a file no sooner than its refresh, and at once when marked due', async () => {
    const t = setup([file('a', 1, '2026-01-01')])
    await t.census.step(signal)
    await t.census.step(signal)
    expect(t.rounds).to.have.length(1)
    t.census.markDue()
    await t.census.step(signal)
    expect(t.rounds).to.have.length(2)
    // the manifest was read once
    expect(t.listed).to.deep.equal(['a'])
  })

  it('counts within its block budget per step, the longest-uncounted files first', async () => {
    const files = [file('a', 3, '2026-01-03'), file('b', 3, '2026-01-02'), file('c', 3, '2026-01-01')]
    const t = setup(files, { budget: 5, refresh: 0 })
    await t.census.step(signal)
    await t.census.step(signal)
    await t.census.step(signal)
    await t.census.step(signal)
    expect(t.rounds).to.deep.equal([['a'], ['b'], ['c'], ['a']])
    // negative control: with room for all, one step counts all
    const roomy = setup(files, { budget: 12, refresh: 0 })
    await roomy.census.step(signal)
    expect(roomy.rounds).to.deep.equal([['a', 'b', 'c']])
  })

  it('draws a large file from at most maxBlocks of its blocks, and says how many it has', async () => {
    const t = setup([file('big', 99, '2026-01-01')], { maxBlocks: 10 })
    await t.census.step(signal)
    const [view] = t.census.view()
    expect(view.blocks).to.equal(100)
    expect(view.copies).to.have.length(10)
  })

  it('keeps the last good count when a count times out, instead of showing copies as lost', async () => {
    const f = file('a', 1, '2026-01-01')
    const t = setup([f], { timeout: 50 })
    await t.census.step(signal)
    expect(t.census.view()[0].copies).to.deep.equal([3, 3])
    t.hang(true)
    t.census.markDue()
    await t.census.step(signal)
    expect(t.census.view()[0].copies).to.deep.equal([3, 3])
    expect(t.rounds).to.have.length(2)
  })

  it('names the reason when a file\'s blocks cannot be listed, and does not retry at once', async () => {
    const t = setup([file('lost', 1, '2026-01-01'), file('fine', 1, '2026-01-02')])
    t.unreadable(['lost'])
    await t.census.step(signal)
    await t.census.step(signal)
    const view = t.census.view()
    expect(view.find(v => v.cid === 'lost')).to.include({ blocks: 0 }).and.to.have.property('error').that.matches(/no live holder/)
    expect(view.find(v => v.cid === 'fine')?.copies).to.deep.equal([3, 3])
    expect(t.listed.filter(c => c === 'lost')).to.have.length(1)
  })
})
