import { readdir } from 'node:fs/promises'
import { Command, InvalidArgumentError, Option } from 'commander'
import { DEAD_AFTER, HEAL_INTERVAL, HEARTBEAT, MAX_HOSTS } from './constants.ts'
import { seededRandom, table } from './figures.ts'
import { createLab, parseRate } from './lab.ts'
import { runConsole } from './console.ts'
import { findLabs, namespaceAge, removeStaleLabs } from './registry.ts'
import type { Lab, LabInit } from './lab.ts'
import type { OptionKind, Scenario, Verdict } from './scenario.ts'
import type { Writable } from 'node:stream'

/** Where the CLI writes. */
export interface LabCliIo {
  stdout: Writable
  stderr: Writable
}

const SCENARIOS = new URL('../scenarios/', import.meta.url)

/**
 * Runs the `ionnet-lab` command line; resolves the exit code (0: the scenario passed, 1: it failed or an error,
 * 130: interrupted). The lab is removed on every path, Ctrl-C included.
 */
export async function main (argv: string[], io: LabCliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const program = new Command('ionnet-lab')
    .description('IonNet on an emulated network: real peers in Linux network namespaces, with faults (needs root and iproute2)')
    .exitOverride()
    .configureOutput({ writeOut: s => io.stdout.write(s), writeErr: s => io.stderr.write(s) })
    .showHelpAfterError()
    .addHelpText('after', '\nExamples:\n  npm run lab -- churn --hosts 12          # a scenario: prints progress, figures and a verdict\n  npm run lab -- up --hosts 5              # a lab to drive by hand: cut, partition, limit, kill...\n  npm run lab -- clean                     # remove labs left by crashed runs')
  let code = 0
  for (const scenario of await loadScenarios()) {
    const cmd = withLabOptions(program.command(scenario.name), scenario.hosts).description(scenario.description)
    for (const o of scenario.options) cmd.addOption(new Option(`--${o.name} <${o.kind === 'string' ? 'value' : o.kind}>`, o.help).default(parse(o.kind, String(o.default))).argParser(v => parse(o.kind, v)))
    cmd.option('--seed <n>', 'seed of the random schedule (default: random, printed)', parseInteger)
      .option('--json', 'print only the verdict, as one JSON object')
      .action(async (opts) => { code = await runScenario(scenario, opts, io) })
  }
  withLabOptions(program.command('up'), 4)
    .description('start a lab and read fault commands from the terminal (type help)')
    .action(async (opts) => { code = await runUp(opts, io) })
  program.command('list').description('labs on this machine, with their owners')
    .action(async () => {
      const labs = await findLabs()
      io.stdout.write(labs.length === 0
        ? 'no labs\n'
        : table(['LAB', 'OWNER PID', 'STATE', 'NAMESPACES', 'AGE (s)'], labs.map(l => [l.labId, l.record?.pid, l.stale ? 'stale' : 'running', l.namespaces.length, l.namespaces[0] == null ? undefined : namespaceAge(l.namespaces[0])])) + '\n')
    })
  program.command('clean').description('remove labs whose owner process is gone (peers, namespaces, folders)')
    .action(async () => {
      const removed = await removeStaleLabs()
      io.stdout.write(removed.length === 0 ? 'no stale labs\n' : `removed ${removed.join(', ')}\n`)
    })
  try {
    await program.parseAsync(argv, { from: 'user' })
    return code
  } catch (err: any) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') return 0
    if (typeof err.code === 'string' && err.code.startsWith('commander.')) return 1
    io.stderr.write(`ionnet-lab: ${String(err.message ?? err).replace(/\s*\n\s*/g, ' ')}\n`)
    return 1
  }
}

function withLabOptions (cmd: Command, hosts: number): Command {
  return cmd
    .option('--hosts <n>', `hosts in the lab (1..${MAX_HOSTS})`, parseInteger, hosts)
    .option('--heartbeat <ms>', 'heartbeat interval of the peers', parseInteger, HEARTBEAT)
    .option('--dead-after <beats>', 'missed heartbeats after which a peer is dead', parseInteger, DEAD_AFTER)
    .option('--heal-interval <ms>', 'healer pass interval of the peers', parseInteger, HEAL_INTERVAL)
    .option('--peer-arg <arg>', 'extra argument for every `ionnet peer start` (repeatable, e.g. --peer-arg=--chunk-timeout --peer-arg=5000)', (v: string, prev: string[]) => [...prev, v], [])
    .option('--keep', 'keep the lab after the scenario until Ctrl-C, to look around (ip netns exec ... bash)')
}

function labInit (opts: any, io: LabCliIo, quiet = false): LabInit {
  return {
    hosts: opts.hosts,
    heartbeat: opts.heartbeat,
    deadAfter: opts.deadAfter,
    healInterval: opts.healInterval,
    peerArgs: opts.peerArg,
    log: quiet ? undefined : line => { io.stdout.write(`${stamp()} ${line}\n`) }
  }
}

async function runScenario (scenario: Scenario, opts: any, io: LabCliIo): Promise<number> {
  const seed: number = opts.seed ?? Math.floor(Math.random() * 2 ** 31)
  const quiet = opts.json === true
  const say = (line: string): void => { if (!quiet) io.stdout.write(`${stamp()} ${line}\n`) }
  const options = { ...opts, seed }
  const lab = createLab({ ...labInit(opts, io, quiet), ...scenario.lab?.(options) })
  const stop = interruptible(lab, io)
  try {
    say(`${scenario.name}: ${opts.hosts} hosts, seed ${seed}`)
    await lab.start()
    const random = (stream: string): () => number => seededRandom(seed ^ hash(stream))
    const verdict = await scenario.run(lab, { options, rng: seededRandom(seed), random, say })
    printVerdict(scenario, verdict, seed, quiet, io)
    if (opts.keep === true) await keep(lab, io)
    return verdict.pass ? 0 : 1
  } finally {
    stop()
    await lab.destroy()
  }
}

async function runUp (opts: any, io: LabCliIo): Promise<number> {
  const lab = createLab(labInit(opts, io))
  const stop = interruptible(lab, io)
  try {
    await lab.start()
    await runConsole(lab, { input: process.stdin, output: io.stdout })
    return 0
  } finally {
    stop()
    await lab.destroy()
  }
}

function printVerdict (scenario: Scenario, verdict: Verdict, seed: number, quiet: boolean, io: LabCliIo): void {
  const summary = { scenario: scenario.name, pass: verdict.pass, seed, ...verdict.figures }
  if (!quiet) {
    for (const t of verdict.tables ?? []) io.stdout.write(`\n${t}\n`)
    io.stdout.write(`\n${verdict.pass ? 'PASS' : 'FAIL'} ${scenario.name} (seed ${seed})\n${verdict.reasons.map(r => `  ${r}`).join('\n')}\n`)
  }
  io.stdout.write(JSON.stringify(summary) + '\n')
}

/** Ctrl-C or SIGTERM: remove the lab, then exit 130; a second Ctrl-C exits at once (the exit handler still cleans). */
function interruptible (lab: Lab, io: LabCliIo): () => void {
  const onSignal = (): void => {
    io.stderr.write('\ninterrupted: removing the lab\n')
    process.once('SIGINT', () => process.exit(130))
    lab.destroy().finally(() => process.exit(130))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  return () => {
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
  }
}

async function keep (lab: Lab, io: LabCliIo): Promise<void> {
  io.stdout.write(`\nlab ${lab.id} kept; a shell in host 1: ip netns exec ${lab.host(1).ns} bash\nCtrl-C removes it\n`)
  await new Promise(() => {})
}

async function loadScenarios (): Promise<Scenario[]> {
  const names = (await readdir(SCENARIOS).catch(() => [])).filter(n => n.endsWith('.ts')).sort()
  const scenarios: Scenario[] = []
  for (const name of names) scenarios.push((await import(new URL(name, SCENARIOS).href)).default)
  return scenarios
}

/** A 32-bit FNV-1a hash, to derive one seed per random stream. */
function hash (text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193)
  return h >>> 0
}

/** Line prefix: seconds since the CLI started, so runs can be compared line by line. */
const t0 = Date.now()
function stamp (): string {
  return `[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s]`
}

function parse (kind: OptionKind, value: string): number | string {
  switch (kind) {
    case 'int': return parseInteger(value)
    case 'number': {
      const n = Number(value)
      if (!Number.isFinite(n)) throw new InvalidArgumentError('expected a number')
      return n
    }
    case 'size': return parseSize(value)
    case 'rate': return value === 'none' ? 0 : parseRate(value)
    default: return value
  }
}

function parseInteger (value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number')
  return Number(value)
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, kib: 1024, m: 1e6, mb: 1e6, mib: 1024 ** 2, g: 1e9, gb: 1e9, gib: 1024 ** 3 }

function parseSize (value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value)
  const unit = UNITS[m?.[2].toLowerCase() ?? 'x']
  if (m == null || unit == null) throw new InvalidArgumentError('expected a size such as 4MiB or 1048576')
  return Math.floor(Number(m[1]) * unit)
}
