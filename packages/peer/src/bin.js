#!/usr/bin/env -S node --max-semi-space-size=2
// Plain JavaScript on purpose, and the only such file: Node strips a .ts entry point's types before it can turn on
// the compile cache, and loading its TypeScript stripper costs 40–60 ms and 17 MiB on every command. Every module
// imported below comes from Node's on-disk cache of compiled and stripped code (checked against each file's
// contents): `ionnet --version` went from 140 to 70–90 ms and its RSS from 93 to 64 MiB.
import { enableCompileCache } from 'node:module'
import { homedir } from 'node:os'
import { join } from 'node:path'

// in the user's own cache folder rather than Node's default in the shared temp folder, where another account could
// plant compiled code first
enableCompileCache(process.env.NODE_COMPILE_CACHE ?? join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'ionnet', 'node-compile-cache'))
const { main } = await import('./cli.ts')

// exit explicitly: libp2p leaves timers behind after stop, and the exit code must not wait for them
process.exit(await main(process.argv.slice(2)))
