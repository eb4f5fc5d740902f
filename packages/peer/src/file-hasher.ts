import { Worker } from 'node:worker_threads'

/** Messages to the worker (file-hasher-worker.ts). */
export type ToWorker =
  | { op: 'advance', id: number, path: string, bytes: number }
  | { op: 'digest', id: number, path: string }
  | { op: 'close', id: number }

/** The worker's answers: a digest, or why there is none. */
export type FromWorker = { id: number, digest: Uint8Array, error?: undefined } | { id: number, error: string }

/** What the worker owes one open hash: its digest once asked, or the reason it can never give it. */
interface Owed {
  resolve?(digest: Uint8Array): void
  reject?(err: Error): void
  error?: Error
}

/**
 * sha2-256 of a file while it is being written, computed on a worker thread that reads the file behind the writer.
 * A get's main thread fetches, decrypts and writes every chunk; hashing the whole file there as well took 15% of its
 * time while the machine's other core had room. Reading back what landed in the page cache costs the worker a copy,
 * and checks what is on disk rather than what was meant to be.
 *
 * One worker serves every hash of the process; it is started on first use and holds the process open only while a
 * hash is.
 */
export class FileHasher {
  static #worker: Worker | undefined
  static readonly #open = new Map<number, Owed>()
  static #ids = 0
  readonly #id = ++FileHasher.#ids
  readonly #path: string
  readonly #owed: Owed = {}
  #done = false

  /** Hashes the file at `path`, which the caller is writing from its start. */
  constructor (path: string) {
    this.#path = path
    FileHasher.#open.set(this.#id, this.#owed)
    FileHasher.#thread().ref()
  }

  /** The file now holds `bytes` bytes, for good: the worker hashes up to there. */
  advance (bytes: number): void {
    if (this.#done) throw new Error('FileHasher: advance() after digest() or discard()')
    if (this.#owed.error == null) this.#post({ op: 'advance', id: this.#id, path: this.#path, bytes })
  }

  /** The digest of the file's first `bytes` bytes, as last advanced to. */
  async digest (): Promise<Uint8Array> {
    if (this.#done) throw new Error('FileHasher: digest() called twice')
    this.#done = true
    if (this.#owed.error != null) {
      this.discard()
      throw this.#owed.error
    }
    const digest = new Promise<Uint8Array>((resolve, reject) => Object.assign(this.#owed, { resolve, reject }))
    this.#post({ op: 'digest', id: this.#id, path: this.#path })
    return digest
  }

  /** Forgets the hash (a failed transfer); safe to call at any time. */
  discard (): void {
    this.#done = true
    if (!FileHasher.#open.has(this.#id)) return
    FileHasher.#settle(this.#id)
    FileHasher.#worker?.postMessage({ op: 'close', id: this.#id } satisfies ToWorker)
  }

  #post (msg: ToWorker): void {
    FileHasher.#thread().postMessage(msg)
  }

  static #thread (): Worker {
    if (this.#worker != null) return this.#worker
    // the process's own flags are not the worker's business: some (--input-type, say) stop a worker from starting
    const worker = new Worker(new URL('./file-hasher-worker.ts', import.meta.url), { execArgv: [] })
    worker.on('message', (msg: FromWorker) => {
      const owed = this.#open.get(msg.id)
      if (owed == null) return
      if (msg.error == null) owed.resolve?.(msg.digest)
      else {
        owed.error = new Error(`could not hash the file written: ${msg.error}`)
        owed.reject?.(owed.error)
      }
      if (owed.resolve != null) this.#settle(msg.id)
    })
    // a dead worker fails every open hash; the next hash starts a fresh worker
    const fail = (err: Error): void => {
      if (this.#worker !== worker) return
      this.#worker = undefined
      for (const [id, owed] of this.#open) {
        owed.error = new Error(`hashing thread failed: ${err.message}`)
        owed.reject?.(owed.error)
        this.#open.delete(id)
      }
    }
    worker.on('error', fail)
    worker.on('exit', code => { fail(new Error(`exited with code ${code}`)) })
    this.#worker = worker
    return worker
  }

  static #settle (id: number): void {
    this.#open.delete(id)
    // an idle worker must not keep the process alive
    if (this.#open.size === 0) this.#worker?.unref()
  }
}
