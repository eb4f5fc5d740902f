/**
 * Preloaded into a CLI process (`node --import ./rss-probe.ts ...`) by cli.ts: when the process exits, writes its
 * peak resident memory (VmHWM from /proc/self/status, in KiB) to file descriptor 3, which cli.ts reads. The peak is
 * exact, where sampling from outside would miss the last moments before exit.
 */
import { readFileSync, writeSync } from 'node:fs'

process.on('exit', () => {
  try {
    writeSync(3, /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0')
  } catch {}
})
