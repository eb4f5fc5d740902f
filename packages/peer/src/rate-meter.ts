/**
 * Bytes per second over a sliding window, from a counter that only grows (such as the chunk protocol's byte
 * totals). Sampling a total instead of recording every transfer costs nothing on the transfer path.
 */
export class RateMeter {
  readonly #window: number
  #samples: Array<{ at: number, total: number }> = []

  /** `window`: ms of history the rate is averaged over. */
  constructor (window: number) {
    this.#window = window
  }

  /** Records the counter's value now; call it at a steady pace (every second, say). */
  sample (total: number, now = Date.now()): void {
    this.#samples.push({ at: now, total })
    // keep one sample at or before the window's start, so the rate always spans the whole window
    while (this.#samples.length > 2 && this.#samples[1].at <= now - this.#window) this.#samples.shift()
  }

  /** Bytes per second between the oldest sample in the window and the newest; 0 before two samples. */
  rate (): number {
    const first = this.#samples[0]
    const last = this.#samples[this.#samples.length - 1]
    if (first == null || last === first || last.at <= first.at) return 0
    return Math.max(0, (last.total - first.total) * 1000 / (last.at - first.at))
  }

  /** Forgets the history, e.g. after a pause in sampling that would average over a stale gap. */
  reset (): void {
    this.#samples = []
  }
}
