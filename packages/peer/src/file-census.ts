import type { KeyringEntry } from './keyring.ts'
import type { Logger } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

/** Live copies of the blocks of one file, as the dashboard draws them. */
export interface FileCopies {
  cid: string
  link: string
  name: string
  size: number
  /** Replica count the file was put with. */
  replicas: number
  /** ISO time the file was put. */
  added: string
  /** Blocks of the file (data chunks plus manifest blocks); 0 until the manifest was read. */
  blocks: number
  /**
   * Live copies of each block in file order, root manifest first; empty until the first count. Holds every block
   * when `copies.length === blocks`, else an even sample of them.
   */
  copies: number[]
  /** ms since the copies were counted; null before the first count. */
  ageMs: number | null
  /** Why the file's blocks could not be listed or counted, if they could not. */
  error?: string
}

export interface FileCensusComponents {
  /** The files this peer put. */
  files(): Promise<KeyringEntry[]>
  /** A file's blocks in file order (root first): all of them up to `max`, an even sample beyond; and their number. */
  blocks(entry: KeyringEntry, max: number, signal: AbortSignal): Promise<{ cids: CID[], total: number }>
  /** Live copies of each chunk. */
  census(chunks: Array<{ cid: CID, replicas: number }>, signal: AbortSignal): Promise<number[]>
  log: Logger
}

export interface FileCensusInit {
  /** Most recent files followed. */
  files: number
  /** ms between two counts of one file. */
  refresh: number
  /** Blocks counted per step over all files. */
  budget: number
  /** Blocks per file at most (a sample beyond). */
  maxBlocks: number
  /** ms a manifest read or a count may take. */
  timeout: number
}

interface Tracked {
  entry: KeyringEntry
  cids?: CID[]
  total: number
  copies: number[]
  counted: number
  retryAt: number
  error?: string
}

/** Manifests read at once; a file whose manifest is on no live peer must not hold up the others. */
const RESOLVE_CONCURRENCY = 4

/** A file whose blocks could not be listed is tried again after this long. */
const RESOLVE_RETRY = 10_000

/** A count this close to due is due: with 1 s steps, a 2 s refresh then means every other step, not every third. */
const DUE_SLACK = 250

/**
 * Keeps the live copies of the blocks of a peer's most recent files, recounting each one every `refresh` ms within
 * a budget of blocks per step, so watching many files costs a bounded number of `has` requests per second. Each
 * file's block list is read once from its manifest and kept.
 */
export class FileCensus {
  readonly #c: FileCensusComponents
  readonly #init: FileCensusInit
  #tracked: Tracked[] = []

  constructor (components: FileCensusComponents, init: FileCensusInit) {
    this.#c = components
    this.#init = init
  }

  /** The followed files, newest first. */
  view (now = Date.now()): FileCopies[] {
    return this.#tracked.map(t => ({
      cid: t.entry.cid,
      link: t.entry.link,
      name: t.entry.name,
      size: t.entry.size,
      replicas: t.entry.replicas,
      added: t.entry.added,
      blocks: t.total,
      copies: t.copies,
      ageMs: t.counted > 0 ? now - t.counted : null,
      ...(t.error != null ? { error: t.error } : {})
    }))
  }

  /** Counts every followed file at the next step, e.g. after a peer died or joined. */
  markDue (): void {
    for (const t of this.#tracked) t.counted = 0
  }

  /** One round: follow new files, list the blocks of files not listed yet, recount the files that are due. */
  async step (signal: AbortSignal): Promise<void> {
    await this.#follow()
    await this.#resolve(signal)
    await this.#recount(signal)
  }

  async #follow (): Promise<void> {
    const recent = (await this.#c.files()).sort((a, b) => b.added.localeCompare(a.added)).slice(0, this.#init.files)
    const known = new Map(this.#tracked.map(t => [t.entry.cid, t]))
    this.#tracked = recent.map(entry => known.get(entry.cid) ?? { entry, total: 0, copies: [], counted: 0, retryAt: 0 })
  }

  async #resolve (signal: AbortSignal): Promise<void> {
    const now = Date.now()
    const todo = this.#tracked.filter(t => t.cids == null && t.retryAt <= now).slice(0, RESOLVE_CONCURRENCY)
    await Promise.all(todo.map(async t => {
      try {
        const { cids, total } = await this.#c.blocks(t.entry, this.#init.maxBlocks, deadline(signal, this.#init.timeout))
        t.cids = cids
        t.total = total
        t.error = undefined
      } catch (err: any) {
        if (signal.aborted) return
        t.retryAt = Date.now() + RESOLVE_RETRY
        t.error = `cannot read the manifest: ${err.message}`
        this.#c.log('dashboard: listing the blocks of %s failed: %s', t.entry.cid, err.message)
      }
    }))
  }

  async #recount (signal: AbortSignal): Promise<void> {
    const now = Date.now()
    const due = this.#tracked
      .filter(t => t.cids != null && now - t.counted >= this.#init.refresh - DUE_SLACK)
      .sort((a, b) => a.counted - b.counted)
    const batch: Tracked[] = []
    let blocks = 0
    for (const t of due) {
      const n = t.cids?.length ?? 0
      if (batch.length > 0 && blocks + n > this.#init.budget) break
      batch.push(t)
      blocks += n
    }
    if (batch.length === 0) return
    const chunks = batch.flatMap(t => (t.cids ?? []).map(cid => ({ cid, replicas: t.entry.replicas })))
    try {
      const limit = deadline(signal, this.#init.timeout)
      const counts = await this.#c.census(chunks, limit)
      // an aborted count reads as missing copies: keep the last good one instead
      limit.throwIfAborted()
      let i = 0
      for (const t of batch) {
        const n = t.cids?.length ?? 0
        t.copies = counts.slice(i, i + n)
        t.counted = now
        t.error = undefined
        i += n
      }
    } catch (err: any) {
      if (signal.aborted) return
      for (const t of batch) t.counted = now
      this.#c.log('dashboard: counting copies failed: %s', err.message)
    }
  }
}

function deadline (signal: AbortSignal, ms: number): AbortSignal {
  return AbortSignal.any([signal, AbortSignal.timeout(ms)])
}
