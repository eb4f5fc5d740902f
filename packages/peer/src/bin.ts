#!/usr/bin/env -S node --max-semi-space-size=2
import { main } from './cli.ts'

// exit explicitly: libp2p leaves timers behind after stop, and the exit code must not wait for them
process.exit(await main(process.argv.slice(2)))
