import { createReadStream, readFileSync } from 'node:fs'
import { mkdir, stat } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { IonNetClient, readApiInfo, writeFileAtomic } from '@ionnet/client'
import { Command, InvalidArgumentError } from 'commander'
import { DEFAULT_API, DEFAULT_LISTEN, DEFAULT_REPLICAS, DEVNET_HEARTBEAT, DEVNET_PEERS, HEARTBEAT_INTERVAL, HEARTBEAT_PEERS, DEAD_AFTER_MISSED } from './constants.ts'
import { dashboardUrl } from './dashboard-files.ts'
import { BadRequestError, LocalFileError } from './errors.ts'
import { formatBytes, progress } from './progress.ts'
import { repoPath } from './repo.ts'
import { readSwarmKey, writeNewSwarmKey } from './swarm-key.ts'
import type { Progress } from './progress.ts'
import type { RepairEvent } from '@ionnet/healer'
import type { Writable } from 'node:stream'

/** Where the CLI writes; tests and embedders can capture it. */
export interface CliIo {
  stdout: Writable
  stderr: Writable
}

interface GlobalOptions { repo?: string, json?: boolean }

const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version

/**
 * Runs the `ionnet` command line. Resolves the exit code: 0 on success, 1 on any error (printed as one line).
 * `peer start` resolves only when the peer has stopped.
 */
export async function main (argv: string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const program = buildProgram(io)
  try {
    await program.parseAsync(argv, { from: 'user' })
    return 0
  } catch (err: any) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0
    if (typeof err.code === 'string' && err.code.startsWith('commander.')) return 1
    const json = argv.includes('--json')
    if (json) io.stdout.write(JSON.stringify({ error: { code: err.code ?? 'ERR_INTERNAL', message: err.message, missing: err.missing } }) + '\n')
    io.stderr.write(`ionnet: ${oneLine(err.message ?? String(err))}\n`)
    return 1
  }
}

function buildProgram (io: CliIo): Command {
  const program = new Command('ionnet')
    .description('IonNet: store files as encrypted chunks on a self-healing peer-to-peer network')
    .version(VERSION, '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({ writeOut: s => io.stdout.write(s), writeErr: s => io.stderr.write(s) })
    .showHelpAfterError()
    .addHelpText('after', '\nExample:\n  ionnet peer start                  # run a peer with the repo ~/.ionnet\n  ionnet put photo.jpg               # prints a link\n  ionnet get <link> -o photo.jpg')
  const withGlobals = (cmd: Command): Command => cmd
    .option('--repo <dir>', 'repo folder of the peer (default: $IONNET_REPO or ~/.ionnet)')
    .option('--json', 'print one JSON object on stdout instead of text')

  const peer = program.command('peer').description('run and manage the local peer')
  withGlobals(peer.command('start'))
    .description('run a peer in the foreground until Ctrl-C')
    .option('--listen <multiaddr>', 'address to listen on (repeatable)', collect, [])
    .option('--bootstrap <multiaddr>', 'peer to join through, with /p2p/<id> (repeatable)', collect, [])
    .option('--api <host:port>', 'address of the local HTTP API', DEFAULT_API)
    .option('--capacity <size>', 'most bytes this peer stores for the network, e.g. 50GiB (default: unlimited)', parseSize)
    .option('--heartbeat <ms>', 'heartbeat interval in ms', parsePositiveInt, HEARTBEAT_INTERVAL)
    .option('--dead-after <beats>', 'missed heartbeats after which a peer is dead', parsePositiveInt, DEAD_AFTER_MISSED)
    .option('--heartbeat-peers <n>', `live peers up to which --heartbeat holds; beyond, it grows with their number (default: ${HEARTBEAT_PEERS})`, parsePositiveInt)
    .option('--mdns', 'discover peers on the local network with mDNS (multicast)')
    .option('--swarm-key <file>', 'join the private swarm of this pre-shared key (default: <repo>/swarm.key if present)')
    .option('--api-public', 'allow --api on an address other than loopback (the token is still required)')
    .option('--chunk-timeout <ms>', 'ms a chunk transfer may wait for the next bytes before the peer counts as stalled', parsePositiveInt)
    .option('--heal-interval <ms>', 'ms between full healer passes (peers dying or joining also start one)', parsePositiveInt)
    .option('--repair-concurrency <n>', 'repairs in flight at once', parsePositiveInt)
    .option('--repair-bandwidth <size>', 'bytes per second repairs may send, e.g. 32MiB', parseSize)
    .option('--scrub-rate <n>', 'stored chunks re-verified per second (0: off)', parseNonNegativeInt)
    .option('--scrub-interval <ms>', 'least ms between the starts of two scrub passes over the store (default: a day)', parsePositiveInt)
    .addHelpText('after', `\nDefault listen address: ${DEFAULT_LISTEN.join(', ')}\n\nExample:\n  ionnet peer start --repo /tmp/p2 --listen /ip4/127.0.0.1/tcp/0 --api 127.0.0.1:0 \\\n    --bootstrap /ip4/127.0.0.1/tcp/7878/p2p/12D3Koo...`)
    .action(async (opts) => { await startPeer(opts, io) })

  const swarm = program.command('swarm-key').description('private swarms: only peers holding the same key can connect')
  withGlobals(swarm.command('new'))
    .description('write a new pre-shared key; peers started with it (or with it in their repo) form a private swarm')
    .option('--out <file>', 'where to write the key (default: <repo>/swarm.key)')
    .addHelpText('after', '\nExample:\n  ionnet swarm-key new --out swarm.key       # then give swarm.key to every peer of the swarm\n  ionnet peer start --swarm-key swarm.key')
    .action(async (opts) => {
      const path = resolve(opts.out ?? join(repoPath(opts.repo), 'swarm.key'))
      await mkdir(dirname(path), { recursive: true })
      await writeNewSwarmKey(path)
      io.stdout.write(opts.json === true ? JSON.stringify({ path }) + '\n' : `${path}\n`)
    })

  withGlobals(program.command('put'))
    .description('store a file on the network and print its link')
    .argument('<file>', 'file to store')
    .option('--replicas <n>', 'copies of every chunk to keep on distinct peers', parsePositiveInt, DEFAULT_REPLICAS)
    .option('--name <name>', 'file name recorded in the manifest (default: the file\'s own)')
    .option('--chunk-size <size>', 'plaintext bytes per chunk (default 2MiB)', parseSize)
    .addHelpText('after', '\nExample:\n  ionnet put report.pdf --replicas 3')
    .action(async (file: string, opts) => {
      const client = await IonNetClient.forRepo(repoPath(opts.repo))
      const info = await stat(file).catch((err: any) => { throw new LocalFileError(`cannot read ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`) })
      if (!info.isFile()) throw new LocalFileError(`cannot read ${file}: not a regular file`)
      const putOptions = { name: opts.name ?? basename(file), replicas: opts.replicas, chunkSize: opts.chunkSize }
      const bar = progress(io.stderr, 'put', info.size, opts.json === true)
      // by path, a peer on this machine reads the file itself; someone watching a bar gets the file streamed instead,
      // so the bar can count what was sent
      const result = await client.put(bar.quiet ? resolve(file) : createReadStream(file), { ...putOptions, onProgress: bar.update })
        .finally(() => { bar.stop() })
      if (opts.json === true) {
        io.stdout.write(JSON.stringify(result) + '\n')
        return
      }
      io.stdout.write(result.link + '\n')
      if (result.warning != null) io.stderr.write(`ionnet: warning: ${result.warning}\n`)
    })

  withGlobals(program.command('get'))
    .description('fetch a file by its link and write it to a file or stdout')
    .argument('<link>', 'link printed by put (<CID>#<key>); the CID alone works on the peer that put the file')
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .addHelpText('after', '\nExample:\n  ionnet get \'ionnet://bafkrei...#z...\' -o report.pdf')
    .action(async (link: string, opts) => {
      if (opts.json === true && opts.output == null) throw new BadRequestError('--json needs -o <file>: stdout carries the JSON')
      const client = await IonNetClient.forRepo(repoPath(opts.repo))
      // no bar when the file itself goes to the terminal
      const watched = opts.output != null && opts.json !== true && (io.stderr as { isTTY?: boolean }).isTTY === true
      if (opts.output != null && client.local && !watched) {
        const result = await client.getTo(link, resolve(opts.output))
        if (opts.json === true) io.stdout.write(JSON.stringify(result) + '\n')
        return
      }
      // the bar needs the size, which comes with the answer; progress counts only start after it
      let bar: Progress | undefined
      const download = await client.get(link, { onProgress: (n) => { bar?.update(n) } })
      bar = progress(io.stderr, 'get', download.size, !watched)
      try {
        const written = opts.output == null ? await copyTo(download.content, io.stdout) : await writeFileAtomic(opts.output, download.content)
        if (opts.json === true) io.stdout.write(JSON.stringify({ name: download.name, size: written, output: opts.output }) + '\n')
      } finally {
        bar.stop()
      }
    })

  withGlobals(program.command('peers'))
    .description('list known peers: alive, overdue (missed its last heartbeat) or dead')
    .addHelpText('after', '\nExample:\n  ionnet peers                  # peer ID, state, last heartbeat, chunks, stored and free bytes')
    .action(async (opts: GlobalOptions) => {
      const peers = await (await IonNetClient.forRepo(repoPath(opts.repo))).peers()
      if (opts.json === true) {
        io.stdout.write(JSON.stringify({ peers }) + '\n')
        return
      }
      io.stdout.write(table(['PEER', 'STATE', 'LAST SEEN', 'CHUNKS', 'STORED', 'FREE'], peers.map(p => [
        p.peerId, p.alive ? (p.overdue ? 'overdue' : 'alive') : 'dead', `${(p.lastSeenMs / 1000).toFixed(1)}s ago`, String(p.chunks), formatBytes(p.bytes), p.free == null ? 'unlimited' : formatBytes(p.free)
      ])))
    })

  withGlobals(program.command('ls'))
    .description('list the files this peer put')
    .addHelpText('after', '\nExample:\n  ionnet ls --json              # the links too: `get <CID>` works here without the key')
    .action(async (opts: GlobalOptions) => {
      const files = await (await IonNetClient.forRepo(repoPath(opts.repo))).files()
      if (opts.json === true) {
        io.stdout.write(JSON.stringify({ files }) + '\n')
        return
      }
      io.stdout.write(table(['NAME', 'SIZE', 'CHUNKS', 'ADDED', 'LINK'], files.map(f => [f.name, formatBytes(f.size), String(f.chunks), f.added.slice(0, 19), f.link])))
    })

  withGlobals(program.command('health'))
    .description('count the live copies of every chunk of a file')
    .argument('<link>', 'link of the file (or its CID on the peer that put it)')
    .addHelpText('after', '\nExample:\n  ionnet health \'ionnet://bafkrei...#z...\'')
    .action(async (link: string, opts: GlobalOptions) => {
      const report = await (await IonNetClient.forRepo(repoPath(opts.repo))).health(link)
      if (opts.json === true) {
        io.stdout.write(JSON.stringify(report) + '\n')
        return
      }
      const { copies: _, ...rest } = report
      io.stdout.write(table(['FILE', 'SIZE', 'BLOCKS', 'WANTED', 'MIN', 'MEDIAN', 'UNDER', 'MISSING'], [[
        rest.name, formatBytes(rest.size), String(rest.blocks), String(rest.replicas), String(rest.min), String(rest.median), String(rest.underReplicated), String(rest.missing)
      ]]))
    })

  program.command('devnet')
    .description('start a playground: n peers on loopback in temporary repos, until Ctrl-C')
    .argument('[n]', 'number of peers', parsePositiveInt, DEVNET_PEERS)
    .option('--dir <dir>', 'keep the repos in this folder (default: a temporary folder, removed on exit)')
    .option('--heartbeat <ms>', 'heartbeat interval of the peers in ms', parsePositiveInt, DEVNET_HEARTBEAT)
    .option('--json', 'print the peers as one JSON object, then repairs as JSON lines')
    .addHelpText('after', '\nExample:\n  ionnet devnet 5                              # then, in another terminal:\n  ionnet put photo.jpg --repo <repo of peer 1>\n  ionnet get <link> -o copy.jpg --repo <repo of peer 5>')
    .action(async (n: number, opts) => { await runDevnet(n, opts, io) })

  withGlobals(program.command('dashboard'))
    .description('print the address of the running peer\'s web dashboard (it carries the API token: keep it to yourself)')
    .action(async (opts: GlobalOptions) => {
      // the same check every other command makes: a missing api.json means no peer runs there
      const info = await readApiInfo(repoPath(opts.repo))
      const url = dashboardUrl(info.url, info.token)
      io.stdout.write(opts.json === true ? JSON.stringify({ url }) + '\n' : `${url}\n`)
    })

  withGlobals(program.command('id'))
    .description('show the peer ID and addresses of the running peer')
    .addHelpText('after', '\nExample:\n  ionnet id                     # give another peer one of these addresses for --bootstrap')
    .action(async (opts: GlobalOptions) => {
      const id = await (await IonNetClient.forRepo(repoPath(opts.repo))).id()
      io.stdout.write(opts.json === true ? JSON.stringify(id) + '\n' : `${id.peerId}\n${id.addrs.map(a => `  ${a}`).join('\n')}\n`)
    })
  return program
}

async function startPeer (opts: any, io: CliIo): Promise<void> {
  // loaded only here: the other commands stay quick because they never load libp2p
  const { startDaemon } = await import('./daemon.ts')
  const swarmKey = opts.swarmKey == null ? undefined : await readSwarmKey(opts.swarmKey)
  if (!isLoopbackApi(opts.api) && opts.apiPublic !== true) {
    throw new BadRequestError(`--api ${opts.api} is not a loopback address; add --api-public to expose the API (it still requires the token)`)
  }
  const signalled = untilSignal()
  const daemon = await startDaemon({
    swarmKey,
    chunkTimeout: opts.chunkTimeout,
    repo: repoPath(opts.repo),
    listen: opts.listen.length > 0 ? opts.listen : undefined,
    bootstrap: opts.bootstrap,
    api: opts.api,
    capacity: opts.capacity,
    heartbeat: opts.heartbeat,
    deadAfter: opts.deadAfter,
    heartbeatPeers: opts.heartbeatPeers,
    mdns: opts.mdns === true,
    healer: { interval: opts.healInterval, concurrency: opts.repairConcurrency, bandwidth: opts.repairBandwidth, scrubRate: opts.scrubRate, scrubInterval: opts.scrubInterval }
  })
  daemon.peer.healer.addEventListener('repair', (evt) => {
    const r = (evt as CustomEvent<RepairEvent>).detail
    io.stdout.write(opts.json === true
      ? JSON.stringify({ event: 'repair', ...r }) + '\n'
      : `${r.reason} ${r.cid} from ${r.from} to ${r.to} in ${r.ms} ms\n`)
  })
  const id = daemon.peer.identity()
  if (opts.json === true) {
    io.stdout.write(JSON.stringify({ peerId: id.peerId, addrs: id.addrs, api: daemon.apiUrl, dashboard: daemon.dashboardUrl, repo: daemon.peer.repo.dir }) + '\n')
  } else {
    io.stdout.write(`IonNet peer ${id.peerId}\nrepo ${daemon.peer.repo.dir}\nlistening on\n${id.addrs.map(a => `  ${a}`).join('\n')}\nAPI ${daemon.apiUrl}\n` +
      `dashboard ${daemon.dashboardUrl}\n`)
  }
  await signalled
  await stopQuietly(daemon.stop, io)
}

/** Resolves on the first Ctrl-C or SIGTERM; a second Ctrl-C while stopping exits at once. */
async function untilSignal (): Promise<void> {
  await new Promise<void>((resolve) => {
    const onSignal = (): void => {
      process.removeListener('SIGINT', onSignal)
      process.removeListener('SIGTERM', onSignal)
      process.once('SIGINT', () => process.exit(130))
      resolve()
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  })
}

async function stopQuietly (stop: () => Promise<void>, io: CliIo): Promise<void> {
  await stop().catch((err: Error) => { io.stderr.write(`ionnet: error while stopping: ${err.message}\n`) })
}

async function runDevnet (n: number, opts: { dir?: string, heartbeat: number, json?: boolean }, io: CliIo): Promise<void> {
  const { startDevnet } = await import('./devnet.ts')
  const json = opts.json === true
  // listen before starting: a Ctrl-C while the peers come up must stop the ones already running
  const signalled = untilSignal()
  const abort = new AbortController()
  void signalled.then(() => { abort.abort(new Error('stopped by a signal')) })
  const net = await startDevnet({
    signal: abort.signal,
    peers: n,
    dir: opts.dir == null ? undefined : resolve(opts.dir),
    heartbeat: opts.heartbeat,
    onLine: (peer, line) => { io.stdout.write(json ? line + '\n' : `peer ${peer}: ${describeEvent(line)}\n`) },
    onExit: (peer, code) => { io.stdout.write(json ? JSON.stringify({ event: 'exit', peer, code }) + '\n' : `peer ${peer}: exited (${code ?? 'killed'})\n`) }
  }).catch((err: Error) => {
    if (abort.signal.aborted) return undefined
    throw err
  })
  if (net == null) return
  if (json) {
    io.stdout.write(JSON.stringify({ dir: net.dir, peers: net.peers }) + '\n')
  } else {
    io.stdout.write(table(['#', 'PEER', 'PID', 'REPO'], net.peers.map(p => [String(p.index), p.peerId, String(p.pid), p.repo])))
    io.stdout.write(`\nDashboard (each peer serves one; the address carries its token):\n  ${net.peers[0].dashboard}\n`)
    const last = net.peers.at(-1)!
    io.stdout.write(`\n${n} peers running. Try, in another terminal:\n  ionnet put <file> --repo ${net.peers[0].repo}\n  ionnet get <link> -o <file> --repo ${last.repo}\n  kill ${last.pid}    # and watch the others repair\nCtrl-C stops them all${opts.dir == null ? ' and removes their repos' : ''}.\n\n`)
  }
  await signalled
  await stopQuietly(net.stop, io)
}

/** A peer's JSON event line as a sentence; other lines as they are. */
function describeEvent (line: string): string {
  try {
    const e = JSON.parse(line)
    if (e.event === 'repair') return `${e.reason} ${e.cid} from ${e.from.slice(-8)} to ${e.to.slice(-8)} in ${e.ms} ms`
  } catch {}
  return line
}

async function copyTo (content: AsyncIterable<Uint8Array>, out: Writable): Promise<number> {
  let n = 0
  for await (const piece of content) {
    n += piece.length
    if (!out.write(piece)) await new Promise(resolve => out.once('drain', resolve))
  }
  return n
}

function isLoopbackApi (address: string): boolean {
  const host = address.replace(/:\d+$/, '').replace(/^\[|\]$/g, '')
  return host === 'localhost' || host === '::1' || /^127\./.test(host)
}

function collect (value: string, previous: string[]): string[] {
  return [...previous, value]
}

function parseNonNegativeInt (value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number')
  return Number(value)
}

function parsePositiveInt (value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('expected a positive integer')
  return Number(value)
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, kib: 1024, m: 1e6, mb: 1e6, mib: 1024 ** 2, g: 1e9, gb: 1e9, gib: 1024 ** 3, t: 1e12, tb: 1e12, tib: 1024 ** 4 }

/** Parses sizes like 1048576, 512KiB, 1.5GB. */
export function parseSize (value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value)
  const unit = UNITS[m?.[2].toLowerCase() ?? 'x']
  if (m == null || unit == null) throw new InvalidArgumentError('expected a size such as 1048576, 512KiB or 10GiB')
  return Math.floor(Number(m[1]) * unit)
}

function table (head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map(r => r[i].length)))
  return [head, ...rows].map(r => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n') + '\n'
}

function oneLine (s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim()
}

