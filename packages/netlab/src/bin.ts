#!/usr/bin/env node
import { main } from './cli.ts'

// exit explicitly: child processes' pipes and timers must not keep the lab's owner alive after its verdict
process.exit(await main(process.argv.slice(2)))
