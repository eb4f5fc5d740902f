/**
 * Runs tasks one at a time per key, so a put, a delete and a replica update
 * of the same chunk never interleave while different chunks proceed in parallel.
 */
export class KeyLock {
  readonly #tails = new Map<string, Promise<void>>()

  async run <T> (key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key)
    const { promise: done, resolve } = Promise.withResolvers<void>()
    const tail = (previous ?? Promise.resolve()).then(async () => done)
    this.#tails.set(key, tail)

    try {
      await previous
      return await task()
    } finally {
      resolve()
      if (this.#tails.get(key) === tail) {
        this.#tails.delete(key)
      }
    }
  }

  /** Resolves once every task queued so far has finished. */
  async settled (): Promise<void> {
    await Promise.all(this.#tails.values())
  }
}
