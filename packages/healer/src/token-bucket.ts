/**
 * Limits bytes per second: `take(n)` resolves once n bytes fit in the budget. A burst of one second's worth is
 * allowed, so a single chunk larger than the rate still goes through.
 */
export class TokenBucket {
  readonly #rate: number
  #tokens: number
  #last = Date.now()

  constructor (bytesPerSecond: number) {
    this.#rate = bytesPerSecond
    this.#tokens = bytesPerSecond
  }

  async take (bytes: number, signal?: AbortSignal): Promise<void> {
    for (;;) {
      this.#refill()
      if (this.#tokens >= Math.min(bytes, this.#rate)) {
        this.#tokens -= bytes
        return
      }
      const wait = Math.ceil(((Math.min(bytes, this.#rate) - this.#tokens) / this.#rate) * 1000)
      await new Promise((resolve, reject) => {
        const t = setTimeout(resolve, wait)
        signal?.addEventListener('abort', () => { clearTimeout(t); reject(signal.reason) }, { once: true })
      })
    }
  }

  #refill (): void {
    const now = Date.now()
    this.#tokens = Math.min(this.#rate, this.#tokens + ((now - this.#last) / 1000) * this.#rate)
    this.#last = now
  }
}
