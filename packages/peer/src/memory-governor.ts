import v8 from 'node:v8'
import vm from 'node:vm'
import { HEAP_GROWING_PERCENT, MEMORY_BUDGET, MEMORY_CHECK_INTERVAL, MEMORY_GC_STEP } from './constants.ts'

/**
 * Keeps garbage buffers and heap objects from piling up during transfers. Chunk buffers live across several
 * awaits, so V8 promotes them to the old generation, and it only collects those once external memory has grown by
 * tens of MiB; on a 1 GiB transfer that lag alone added 40–70 MiB to a peer's peak RSS. When the bytes held in
 * ArrayBuffers and on the heap have grown by `step` since the last collection and the process is over its `budget`
 * of resident memory, this runs one, so the peak stays near the budget. Only then: a forced collection is a full
 * stop-the-world pause of 30–160 ms on a peer's heap, and forcing one every 16 MiB cost a reader a quarter of a
 * get's wall time (26 pauses, 1.8 s, on 256 MiB). Below the budget V8's own incremental collections do the work,
 * and they are told to let the heap grow to twice its live size first (HEAP_GROWING_PERCENT), so a peer moving
 * chunks does not spend its time collecting a heap that barely grew.
 */
export class MemoryGovernor {
  /** Collections this governor forced. */
  collections = 0
  readonly #step: number
  readonly #budget: number
  readonly #interval: number
  readonly #gc: () => void
  #baseline = 0
  #timer?: ReturnType<typeof setInterval>

  constructor (init: { step?: number, budget?: number, interval?: number, heapGrowingPercent?: number } = {}) {
    this.#step = init.step ?? MEMORY_GC_STEP
    this.#budget = init.budget ?? MEMORY_BUDGET
    this.#interval = init.interval ?? MEMORY_CHECK_INTERVAL
    // exposing gc at run time is supported by V8 and avoids asking every launcher to pass --expose-gc
    v8.setFlagsFromString('--expose-gc')
    v8.setFlagsFromString(`--heap-growing-percent=${init.heapGrowingPercent ?? HEAP_GROWING_PERCENT}`)
    // V8 counts every ArrayBuffer byte allocated since the last full collection towards the old generation's limit,
    // even bytes a scavenge already freed. A get allocates several buffers per byte it moves (TLS records, the
    // chunk, its plaintext), so a reader ran a full collection every 110–150 ms of some gets: 8–11 in three gets of
    // 256 MiB, in 3 of 4 runs. With this flag V8 counts what ArrayBuffers hold now, in the same limit as the heap:
    // no full collection in 15 gets, and gets at 142–257 MiB/s (median 219) against 128–226 (median 177), in
    // alternating runs of 3 gets each. Later V8 versions made this the default (V8 513bb22991) and dropped the
    // flag; Node is pinned at 24, whose V8 still has it.
    v8.setFlagsFromString('--external-memory-accounted-in-global-limit')
    this.#gc = vm.runInNewContext('gc')
  }

  start (): void {
    this.#baseline = heldBytes()
    this.#timer = setInterval(() => { this.#check() }, this.#interval)
    this.#timer.unref()
  }

  stop (): void {
    clearInterval(this.#timer)
  }

  #check (): void {
    // below the budget nothing is collected. An idle peer runs this ten times a second, and reading the resident size
    // (from /proc) was 4% of an idle peer's CPU samples in a 50-peer network: the peak size, from getrusage, costs a
    // tenth as much (0.9 µs against 9.3) and settles it until the process first reaches its budget
    if (process.resourceUsage().maxRSS * 1024 < this.#budget || process.memoryUsage.rss() < this.#budget) return
    const held = heldBytes()
    if (held - this.#baseline < this.#step) {
      this.#baseline = Math.min(this.#baseline, held)
      return
    }
    this.#gc()
    this.collections++
    this.#baseline = heldBytes()
  }
}

/**
 * Buffers plus the JS heap in use: DHT announcements made in a burst leave up to 100 MiB of garbage objects on the
 * heap before V8 collects them, which took a peer's RSS past 320 MiB while no buffer was held at all.
 */
function heldBytes (): number {
  const { arrayBuffers, heapUsed } = process.memoryUsage()
  return arrayBuffers + heapUsed
}
