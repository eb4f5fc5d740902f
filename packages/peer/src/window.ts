/**
 * Bounded windows of concurrent tasks, for put and get. it-parallel was used here before, but its window can grow
 * without bound: when a slot frees while its source is between items, the wake-up is spent twice and the window
 * grows by one, and it never waits again once it is past its limit. A 1 GiB get then held 1000 decrypted chunks
 * (600 MiB) whenever the writer was slower than the network.
 */
import { MAX_WINDOW, MIN_WINDOW } from './constants.ts'

/** How many chunks of `chunkSize` bytes a window of `bytes` holds, within MIN_WINDOW and MAX_WINDOW. */
export function chunksInWindow (bytes: number, chunkSize: number): number {
  return Math.min(MAX_WINDOW, Math.max(MIN_WINDOW, Math.floor(bytes / Math.max(1, chunkSize))))
}

/** A task to run: started only when a slot in the window is free. */
export type Task<T> = () => Promise<T>

type Settled<T> = { id: number, ok: true, value: T } | { id: number, ok: false, error: unknown }

/**
 * Runs tasks with at most `window` of them started and not yet consumed, and yields their results in input order.
 * A task's failure is thrown when its turn comes.
 */
export async function * inOrder<T> (tasks: AsyncIterable<Task<T>> | Iterable<Task<T>>, window: number): AsyncGenerator<T> {
  const source = iterate(tasks)
  const line: Array<Promise<Settled<T>>> = []
  let ended = false
  try {
    while (true) {
      while (!ended && line.length < window) {
        const next = await source.next()
        if (next.done === true) ended = true
        else line.push(settle(0, next.value))
      }
      const first = line.shift()
      if (first == null) return
      yield unwrap(await first)
    }
  } finally {
    await source.return?.()
  }
}

/**
 * Runs tasks with at most `window` of them running at once and yields results as they finish. The first failure is
 * thrown as soon as it happens; tasks still running are not awaited.
 */
export async function * asCompleted<T> (tasks: AsyncIterable<Task<T>> | Iterable<Task<T>>, window: number): AsyncGenerator<T> {
  const source = iterate(tasks)
  const running = new Map<number, Promise<Settled<T>>>()
  let ended = false
  let ids = 0
  try {
    while (true) {
      while (!ended && running.size < window) {
        const next = await source.next()
        if (next.done === true) ended = true
        else running.set(ids, settle(ids++, next.value))
      }
      if (running.size === 0) return
      const done = await Promise.race(running.values())
      running.delete(done.id)
      yield unwrap(done)
    }
  } finally {
    await source.return?.()
  }
}

function iterate<T> (tasks: AsyncIterable<T> | Iterable<T>): AsyncIterator<T> | Iterator<T> {
  return Symbol.asyncIterator in tasks ? tasks[Symbol.asyncIterator]() : tasks[Symbol.iterator]()
}

/** Never rejects, so a failure waiting in line is not reported as unhandled. */
async function settle<T> (id: number, task: Task<T>): Promise<Settled<T>> {
  try {
    return { id, ok: true, value: await task() }
  } catch (error) {
    return { id, ok: false, error }
  }
}

function unwrap<T> (s: Settled<T>): T {
  if (!s.ok) throw s.error
  return s.value
}
