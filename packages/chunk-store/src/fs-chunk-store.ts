import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { logger } from '@libp2p/logger'
import { bytesMatch, chunkFileCid, shardOf } from './cid.ts'
import { BLOCKS_DIR, META_SUFFIX, TMP_DIR, WRITE_BATCH } from './constants.ts'
import { ChunkCorruptError, ChunkMismatchError, ChunkNotFoundError, StorageError, StoreNotOpenError } from './errors.ts'
import { IncomingChunk } from './incoming-chunk.ts'
import { KeyLock } from './key-lock.ts'
import { SpaceLedger } from './space-ledger.ts'
import { checkChunkSize, checkCid, checkReplicas, resolveLimits } from './validate.ts'
import type { ChunkInfo, ChunkStore, ChunkStoreInit, GetOptions, PutOptions } from './index.ts'
import type { Limits } from './validate.ts'
import type { CID } from 'multiformats/cid'

const log = logger('ionnet:chunk-store')

/** The few file operations the store uses; `node:fs/promises` satisfies it, tests wrap it to inject faults. */
export interface ChunkFs {
  open(path: string, flags: string): Promise<ChunkFileHandle>
  readFile(path: string, options?: { signal?: AbortSignal }): Promise<Uint8Array>
  writeFile(path: string, data: string): Promise<void>
  rename(from: string, to: string): Promise<void>
  unlink(path: string): Promise<void>
  mkdir(path: string, options: { recursive: true }): Promise<unknown>
  rm(path: string, options: { recursive: true, force: true }): Promise<void>
  readdir(path: string): Promise<string[]>
  stat(path: string): Promise<{ size: number }>
}

export interface ChunkFileHandle {
  writev(pieces: Uint8Array[]): Promise<{ bytesWritten: number }>
  sync(): Promise<void>
  close(): Promise<void>
}

export interface FsChunkStoreComponents {
  fs: ChunkFs
}

/**
 * Chunks as files under `<dir>/blocks/<shard>/<cid>`, each written to
 * `<dir>/tmp` first and renamed into place, so a chunk file is either whole or absent.
 */
export class FsChunkStore implements ChunkStore {
  readonly #fs: ChunkFs
  readonly #blocksDir: string
  readonly #tmpDir: string
  readonly #limits: Limits
  readonly #ledger: SpaceLedger
  readonly #locks = new KeyLock()
  readonly #shards = new Set<string>()
  /**
   * Replica counts read from or written to the sidecars. The store is their only writer, and every healer pass asks
   * for the count of every chunk held, here and on the peers that share them: reading each sidecar anew cost four
   * file operations per chunk and pass. Presence is still checked on disk each time, so a chunk file that vanished
   * is noticed as before.
   */
  readonly #replicaCounts = new Map<string, number>()
  #open = false

  constructor (components: FsChunkStoreComponents, init: ChunkStoreInit) {
    this.#fs = components.fs
    this.#blocksDir = join(init.dir, BLOCKS_DIR)
    this.#tmpDir = join(init.dir, TMP_DIR)
    this.#limits = resolveLimits(init)
    this.#ledger = new SpaceLedger(this.#limits.capacity)
  }

  get capacity (): number {
    return this.#ledger.capacity
  }

  get size (): number {
    return this.#ledger.used
  }

  get count (): number {
    return this.#ledger.count
  }

  get free (): number {
    return this.#ledger.free
  }

  async open (): Promise<void> {
    if (this.#open) {
      return
    }
    await io('prepare store folders', async () => {
      await this.#fs.mkdir(this.#blocksDir, { recursive: true })
      // whatever is in tmp was being written when the process died
      await this.#fs.rm(this.#tmpDir, { recursive: true, force: true })
      await this.#fs.mkdir(this.#tmpDir, { recursive: true })
    })
    this.#ledger.reset()
    this.#shards.clear()
    this.#replicaCounts.clear()
    await this.#scan()
    this.#open = true
    log('opened %s with %d chunks, %d bytes', this.#blocksDir, this.count, this.size)
  }

  async close (): Promise<void> {
    this.#open = false
    await this.#locks.settled()
  }

  async has (cid: CID): Promise<boolean> {
    return this.#holds(this.#key(cid))
  }

  async put (cid: CID, bytes: Uint8Array, options: PutOptions = {}): Promise<void> {
    const key = this.#key(cid)
    checkChunkSize(bytes.length, this.#limits.maxChunkSize)
    const replicas = checkReplicas(options.replicas ?? this.#limits.defaultReplicas)
    if (options.verify !== false && !bytesMatch(cid, bytes)) {
      throw new ChunkMismatchError(key)
    }
    options.signal?.throwIfAborted()

    await this.#locks.run(key, async () => {
      if (await this.#holds(key)) {
        await this.#raiseReplicas(key, replicas)
        return
      }
      this.#ledger.reserve(bytes.length)
      try {
        await this.#install(key, [bytes], replicas, options.signal)
        this.#ledger.commit(bytes.length)
      } catch (err) {
        this.#ledger.release(bytes.length)
        throw err
      }
    })
  }

  async putStream (cid: CID, source: AsyncIterable<Uint8Array>, options: PutOptions = {}): Promise<void> {
    const key = this.#key(cid)
    const replicas = checkReplicas(options.replicas ?? this.#limits.defaultReplicas)
    options.signal?.throwIfAborted()

    await this.#locks.run(key, async () => {
      const held = await this.#holds(key)
      const incoming = new IncomingChunk(cid, this.#limits.maxChunkSize, held ? undefined : this.#ledger)
      try {
        if (held) {
          // still read and check the bytes, so a wrong stream fails the same way whether or not the chunk is held
          for await (const _ of incoming.check(source, options.signal)) {}
          await this.#raiseReplicas(key, replicas)
        } else {
          await this.#install(key, incoming.check(source, options.signal), replicas, options.signal)
          incoming.commit()
        }
      } finally {
        incoming.release()
      }
    })
  }

  async get (cid: CID, options: GetOptions = {}): Promise<Uint8Array> {
    const key = this.#key(cid)
    const bytes = await this.#read(key, options.signal)
    if (options.verify !== false && !bytesMatch(cid, bytes)) {
      log.error('chunk %s is corrupt on disk', key)
      throw new ChunkCorruptError(key)
    }
    return bytes
  }

  async delete (cid: CID): Promise<boolean> {
    const key = this.#key(cid)
    return this.#locks.run(key, async () => {
      const size = await this.#sizeOf(key)
      if (size === undefined) {
        return false
      }
      await io(`delete chunk ${key}`, async () => this.#fs.unlink(this.#chunkPath(key)))
      this.#ledger.remove(size)
      this.#replicaCounts.delete(key)
      await this.#fs.unlink(this.#metaPath(key)).catch(err => {
        // an orphaned sidecar is harmless and open() removes it
        if (!isNotFound(err)) log.error('could not delete replica record of %s - %e', key, err)
      })
      return true
    })
  }

  async * list (): AsyncGenerator<ChunkInfo> {
    this.#assertOpen()
    for await (const { shard, names } of this.#shardListings()) {
      for (const name of names) {
        const cid = chunkFileCid(shard, name)
        const size = cid == null ? undefined : await this.#sizeOf(name)
        // skips sidecars, strangers, and chunks deleted while listing
        if (cid != null && size !== undefined) {
          yield { cid, size, replicas: await this.#readReplicas(name) }
        }
      }
    }
  }

  async replicas (cid: CID): Promise<number | undefined> {
    const key = this.#key(cid)
    return await this.#holds(key) ? this.#readReplicas(key) : undefined
  }

  async setReplicas (cid: CID, replicas: number): Promise<void> {
    const key = this.#key(cid)
    checkReplicas(replicas)
    await this.#locks.run(key, async () => {
      if (!await this.#holds(key)) {
        throw new ChunkNotFoundError(key)
      }
      await this.#writeMeta(key, replicas)
    })
  }

  async verify (cid: CID): Promise<boolean> {
    const key = this.#key(cid)
    return bytesMatch(cid, await this.#read(key))
  }

  #assertOpen (): void {
    if (!this.#open) {
      throw new StoreNotOpenError()
    }
  }

  #key (cid: CID): string {
    this.#assertOpen()
    return checkCid(cid)
  }

  #chunkPath (key: string): string {
    return join(this.#blocksDir, shardOf(key), key)
  }

  #metaPath (key: string): string {
    return this.#chunkPath(key) + META_SUFFIX
  }

  #tmpPath (key: string): string {
    return join(this.#tmpDir, `${key}.${randomBytes(6).toString('hex')}`)
  }

  async #holds (key: string): Promise<boolean> {
    return await this.#sizeOf(key) !== undefined
  }

  async #sizeOf (key: string): Promise<number | undefined> {
    try {
      return (await this.#fs.stat(this.#chunkPath(key))).size
    } catch (err) {
      if (isNotFound(err)) return undefined
      throw new StorageError(`could not stat chunk ${key}: ${messageOf(err)}`, { cause: err })
    }
  }

  async #read (key: string, signal?: AbortSignal): Promise<Uint8Array> {
    try {
      return await this.#fs.readFile(this.#chunkPath(key), { signal })
    } catch (err) {
      if (isNotFound(err)) throw new ChunkNotFoundError(key)
      if (signal?.aborted === true) throw err
      throw new StorageError(`could not read chunk ${key}: ${messageOf(err)}`, { cause: err })
    }
  }

  /**
   * Temp file, fsync, then rename: after a crash the chunk is either whole or absent.
   * The sidecar goes in first so a visible chunk always has its replica count.
   */
  async #install (key: string, pieces: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, replicas: number, signal?: AbortSignal): Promise<void> {
    const tmp = this.#tmpPath(key)
    const shardDir = await this.#shardDir(key)
    try {
      await this.#writeTemp(tmp, pieces, signal)
      await this.#writeMeta(key, replicas)
      await io(`install chunk ${key}`, async () => this.#fs.rename(tmp, this.#chunkPath(key)))
    } catch (err) {
      await this.#discard(tmp)
      await this.#discard(this.#metaPath(key))
      this.#replicaCounts.delete(key)
      if (isOutOfSpace(err)) this.#ledger.markDiskFull()
      throw err
    }
    await this.#syncDir(shardDir)
    log.trace('stored chunk %s', key)
  }

  async #writeTemp (path: string, pieces: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, signal?: AbortSignal): Promise<void> {
    const file = await io('create temp file', async () => this.#fs.open(path, 'wx'))
    try {
      // a chunk arrives as many small pieces (a TLS record is 16 KiB at most), and every write is a round trip to
      // libuv's thread pool: gathering them into one writev per WRITE_BATCH spared a storing peer 64 of those per MiB
      let batch: Uint8Array[] = []
      let batched = 0
      for await (const piece of pieces) {
        signal?.throwIfAborted()
        batch.push(piece)
        batched += piece.length
        if (batched >= WRITE_BATCH) {
          await io('write chunk', async () => writeAll(file, batch))
          batch = []
          batched = 0
        }
      }
      if (batch.length > 0) await io('write chunk', async () => writeAll(file, batch))
      await io('sync chunk', async () => file.sync())
    } catch (err) {
      await file.close().catch(() => {})
      throw err
    }
    await io('close temp file', async () => file.close())
  }

  /** No fsync: the count is a hint, and defaultReplicas stands in if a crash loses it. */
  async #writeMeta (key: string, replicas: number): Promise<void> {
    const tmp = this.#tmpPath(key) + META_SUFFIX
    try {
      await this.#fs.writeFile(tmp, JSON.stringify({ replicas }))
      await this.#fs.rename(tmp, this.#metaPath(key))
      this.#replicaCounts.set(key, replicas)
    } catch (err) {
      await this.#discard(tmp)
      throw new StorageError(`could not record replicas of ${key}: ${messageOf(err)}`, { cause: err })
    }
  }

  async #readReplicas (key: string): Promise<number> {
    const known = this.#replicaCounts.get(key)
    if (known !== undefined) return known
    try {
      const { replicas } = JSON.parse(new TextDecoder().decode(await this.#fs.readFile(this.#metaPath(key))))
      const count = checkReplicas(replicas)
      // a count written while this read was under way is newer than what the read found
      if (!this.#replicaCounts.has(key)) this.#replicaCounts.set(key, count)
      return count
    } catch (err) {
      if (!isNotFound(err)) log.error('unreadable replica record of %s, using the default - %e', key, err)
      return this.#limits.defaultReplicas
    }
  }

  async #raiseReplicas (key: string, replicas: number): Promise<void> {
    if (replicas > await this.#readReplicas(key)) {
      await this.#writeMeta(key, replicas)
    }
  }

  async #shardDir (key: string): Promise<string> {
    const shard = shardOf(key)
    const dir = join(this.#blocksDir, shard)
    if (!this.#shards.has(shard)) {
      await io(`create shard ${shard}`, async () => this.#fs.mkdir(dir, { recursive: true }))
      this.#shards.add(shard)
    }
    return dir
  }

  /** Makes the rename itself durable. Best effort: some platforms cannot fsync a folder. */
  async #syncDir (dir: string): Promise<void> {
    try {
      const handle = await this.#fs.open(dir, 'r')
      await handle.sync().finally(async () => handle.close())
    } catch (err) {
      log.trace('could not fsync %s - %e', dir, err)
    }
  }

  /** Cleanup after a failure must not hide that failure; open() sweeps tmp anyway. */
  async #discard (path: string): Promise<void> {
    await this.#fs.unlink(path).catch(err => {
      if (!isNotFound(err)) log.error('could not remove %s - %e', path, err)
    })
  }

  async #scan (): Promise<void> {
    for await (const { shard, names } of this.#shardListings()) {
      this.#shards.add(shard)
      const present = new Set(names)
      for (const name of names) {
        if (name.endsWith(META_SUFFIX)) {
          // a sidecar whose chunk never landed: the crash came between the two renames
          if (!present.has(name.slice(0, -META_SUFFIX.length))) await this.#discard(join(this.#blocksDir, shard, name))
        } else if (chunkFileCid(shard, name) != null) {
          const size = await this.#sizeOf(name)
          if (size !== undefined) this.#ledger.add(size)
        }
      }
    }
  }

  async * #shardListings (): AsyncGenerator<{ shard: string, names: string[] }> {
    const shards = await io('list shards', async () => this.#fs.readdir(this.#blocksDir))
    for (const shard of shards) {
      const names = await this.#fs.readdir(join(this.#blocksDir, shard)).catch(err => {
        // a stray file beside the shards, or a shard removed while listing
        if ((err as NodeJS.ErrnoException).code === 'ENOTDIR' || isNotFound(err)) return []
        throw new StorageError(`could not list shard ${shard}: ${messageOf(err)}`, { cause: err })
      })
      yield { shard, names }
    }
  }
}

/** Wraps file-system failures (ENOSPC, EIO...) as StorageError, keeping the original as cause. */
async function io <T> (action: string, task: () => Promise<T>): Promise<T> {
  try {
    return await task()
  } catch (err) {
    throw new StorageError(`could not ${action}: ${messageOf(err)}`, { cause: err })
  }
}

/** writev may land fewer bytes than asked; carries on from where it stopped. */
async function writeAll (file: ChunkFileHandle, pieces: Uint8Array[]): Promise<void> {
  const rest = pieces.filter(piece => piece.length > 0)
  let first = 0
  while (first < rest.length) {
    let { bytesWritten } = await file.writev(first === 0 ? rest : rest.slice(first))
    if (bytesWritten <= 0) throw new Error('the file system accepted no bytes')
    while (first < rest.length && bytesWritten >= rest[first].length) bytesWritten -= rest[first++].length
    if (bytesWritten > 0) rest[first] = rest[first].subarray(bytesWritten)
  }
}

function isOutOfSpace (err: unknown): boolean {
  const code = ((err as Error)?.cause as NodeJS.ErrnoException | undefined)?.code
  return code === 'ENOSPC' || code === 'EDQUOT'
}

function isNotFound (err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === 'ENOENT'
}

function messageOf (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
