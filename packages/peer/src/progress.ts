import { SingleBar } from 'cli-progress'
import type { Writable } from 'node:stream'

/** A progress display for one transfer; a no-op where nobody watches a terminal. */
export interface Progress {
  /** True when nothing is drawn. */
  readonly quiet: boolean
  /** Sets the bytes done so far. */
  update(done: number): void
  /** Removes the bar, leaving the terminal as it was. */
  stop(): void
}

/** Seconds of recent transfer the shown rate averages over: steady enough to read, quick to follow changes. */
const RATE_WINDOW = 3

/**
 * A bar with bytes, rate and ETA on `out` when it is a terminal and `quiet` is false; nothing otherwise, so piped
 * output and `--json` carry only the result.
 */
export function progress (out: Writable & { isTTY?: boolean }, label: string, total: number, quiet = false): Progress {
  if (quiet || out.isTTY !== true) return { quiet: true, update () {}, stop () {} }
  const bar = new SingleBar({
    stream: out,
    format: `${label} {bar} {percentage}% | {done} of {size} | {rate} | ETA {eta_formatted}`,
    barCompleteChar: '█',
    barIncompleteChar: '░',
    hideCursor: true,
    clearOnComplete: true,
    etaBuffer: 30,
    fps: 8
  })
  const samples: Array<{ t: number, n: number }> = []
  bar.start(total, 0, { done: formatBytes(0), size: formatBytes(total), rate: '-' })
  return {
    quiet: false,
    update (done: number) {
      const now = Date.now()
      samples.push({ t: now, n: done })
      while (samples.length > 2 && now - samples[0].t > RATE_WINDOW * 1000) samples.shift()
      const span = (now - samples[0].t) / 1000
      const rate = span > 0 ? `${formatBytes((done - samples[0].n) / span)}/s` : '-'
      bar.update(done, { done: formatBytes(done), rate })
    },
    stop () {
      bar.stop()
    }
  }
}

/** Bytes as B, KiB, MiB, GiB or TiB with one decimal. */
export function formatBytes (bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = bytes
  let i = 0
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++ }
  return `${i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`
}
