import { DeadlineError } from './errors.ts'

/** Deadline and polling interval of a wait. */
export interface WaitOptions {
  timeout?: number
  interval?: number
  /** What is awaited, for the error message. */
  message?: string
  signal?: AbortSignal
}

/**
 * Polls `condition` until it returns a truthy value, which it resolves; DeadlineError (with the last error the
 * condition threw, if any) once the deadline passes. Conditions, never fixed sleeps: a busy machine only makes the
 * wait longer, not wrong.
 */
export async function waitFor<T> (condition: () => Promise<T> | T, options: WaitOptions = {}): Promise<NonNullable<T>> {
  const deadline = Date.now() + (options.timeout ?? 30_000)
  let last: unknown
  for (;;) {
    options.signal?.throwIfAborted()
    try {
      const v = await condition()
      if (v) return v as NonNullable<T>
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) {
      throw new DeadlineError(`timed out after ${options.timeout ?? 30_000} ms waiting for ${options.message ?? 'a condition'}${last != null ? `: ${(last as Error).message ?? String(last)}` : ''}`)
    }
    await sleep(options.interval ?? 200, options.signal)
  }
}

/** Resolves after `ms`, or rejects when the signal aborts. */
export async function sleep (ms: number, signal?: AbortSignal): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve() }, ms)
    const onAbort = (): void => { clearTimeout(timer); reject(signal!.reason) }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
