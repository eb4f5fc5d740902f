/**
 * Preloaded into a CLI process (`node --import ./rss-probe.js ...`) by cli.ts: when the process exits, writes its
 * peak resident memory (VmHWM from /proc/self/status, in KiB) and the CPU time it used (user + system, all threads,
 * in microseconds) to file descriptor 3, which cli.ts reads. Both are exact, where sampling from outside would miss
 * the last moments before exit.
 *
 * Plain JavaScript on purpose, like the CLI's own bin.js: a TypeScript preload makes Node load its type stripper,
 * which the CLI avoids and a user never runs. As a .ts file it added 17 MiB to every CLI process's peak RSS and
 * 20–30 ms to its start-up, and both counted against IonNet.
 */
import { readFileSync, writeSync } from 'node:fs'

process.on('exit', () => {
  try {
    const cpu = process.cpuUsage()
    writeSync(3, `${/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0'} ${cpu.user + cpu.system}`)
  } catch {}
})
