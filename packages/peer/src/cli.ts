import { createReadStream } from 'node:fs'
import { mkdir, stat } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { Command, InvalidArgumentError } from 'commander'
import { ApiClient } from './api-client.ts'
import { DEFAULT_API, DEFAULT_LISTEN, DEFAULT_REPLICAS, HEARTBEAT_INTERVAL, DEAD_AFTER_MISSED } from './constants.ts'
import { dashboardUrl } from './dashboard-files.ts'
import { BadRequestError, LocalFileError, PeerNotRunningError } from './errors.ts'
import { Repo, repoPath } from './repo.ts'
import { readSwarmKey, writeNewSwarmKey } from './swarm-key.ts'
import { writeFileAtomic } from './write-file.ts'
import type { RepairEvent } from '@ionnet/healer'
import type { Writable } from 'node:stream'

/** Where the CLI writes; tests and embedders can capture it. */
export interface CliIo {
  stdout: Writable
  stderr: Writable
}

interface GlobalOptions { repo?: string, json?: boolean }

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
    .option('--mdns', 'discover peers on the local network with mDNS (multicast)')
    .option('--swarm-key <file>', 'join the private swarm of this pre-shared key (default: <repo>/swarm.key if present)')
    .option('--api-public', 'allow --api on an address other than loopback (the token is still required)')
    .option('--chunk-timeout <ms>', 'ms a chunk request may take before its provider counts as stalled', parsePositiveInt)
    .option('--heal-interval <ms>', 'ms between full healer passes (peers dying or joining also start one)', parsePositiveInt)
    .option('--repair-concurrency <n>', 'repairs in flight at once', parsePositiveInt)
    .option('--repair-bandwidth <size>', 'bytes per second repairs may send, e.g. 32MiB', parseSize)
    .option('--scrub-rate <n>', 'stored chunks re-verified per second (0: off)', parseNonNegativeInt)
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
    .option('--chunk-size <size>', 'plaintext bytes per chunk (default 1MiB)', parseSize)
    .addHelpText('after', '\nExample:\n  ionnet put report.pdf --replicas 3')
    .action(async (file: string, opts) => {
      const client = await ApiClient.forRepo(repoPath(opts.repo))
      const info = await stat(file).catch((err: any) => { throw new LocalFileError(`cannot read ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`) })
      if (!info.isFile()) throw new LocalFileError(`cannot read ${file}: not a regular file`)
      const putOptions = { name: opts.name ?? basename(file), replicas: opts.replicas, chunkSize: opts.chunkSize }
      const result = client.local ? await client.putPath(resolve(file), putOptions) : await client.put(createReadStream(file), putOptions)
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
      const client = await ApiClient.forRepo(repoPath(opts.repo))
      if (opts.output != null && client.local) {
        const result = await client.getTo(link, resolve(opts.output))
        if (opts.json === true) io.stdout.write(JSON.stringify(result) + '\n')
        return
      }
      const download = await client.get(link)
      const written = opts.output == null ? await copyTo(download.content, io.stdout) : await writeFileAtomic(opts.output, download.content)
      if (opts.json === true) io.stdout.write(JSON.stringify({ name: download.name, size: written, output: opts.output }) + '\n')
    })

  withGlobals(program.command('peers'))
    .description('list known peers, alive or dead')
    .action(async (opts: GlobalOptions) => {
      const peers = await (await ApiClient.forRepo(repoPath(opts.repo))).peers()
      if (opts.json === true) {
        io.stdout.write(JSON.stringify({ peers }) + '\n')
        return
      }
      io.stdout.write(table(['PEER', 'STATE', 'LAST SEEN', 'CHUNKS', 'STORED', 'FREE'], peers.map(p => [
        p.peerId, p.alive ? 'alive' : 'dead', `${(p.lastSeenMs / 1000).toFixed(1)}s ago`, String(p.chunks), formatSize(p.bytes), p.free == null ? 'unlimited' : formatSize(p.free)
      ])))
    })

  withGlobals(program.command('ls'))
    .description('list the files this peer put')
    .action(async (opts: GlobalOptions) => {
      const files = await (await ApiClient.forRepo(repoPath(opts.repo))).files()
      if (opts.json === true) {
        io.stdout.write(JSON.stringify({ files }) + '\n')
        return
      }
      io.stdout.write(table(['NAME', 'SIZE', 'CHUNKS', 'ADDED', 'LINK'], files.map(f => [f.name, formatSize(f.size), String(f.chunks), f.added.slice(0, 19), f.link])))
    })

  withGlobals(program.command('health'))
    .description('count the live copies of every chunk of a file')
    .argument('<link>', 'link of the file (or its CID on the peer that put it)')
    .addHelpText('after', '\nExample:\n  ionnet health \'ionnet://bafkrei...#z...\'')
    .action(async (link: string, opts: GlobalOptions) => {
      const report = await (await ApiClient.forRepo(repoPath(opts.repo))).health(link)
      if (opts.json === true) {
        io.stdout.write(JSON.stringify(report) + '\n')
        return
      }
      const { copies: _, ...rest } = report
      io.stdout.write(table(['FILE', 'SIZE', 'BLOCKS', 'WANTED', 'MIN', 'MEDIAN', 'UNDER', 'MISSING'], [[
        rest.name, formatSize(rest.size), String(rest.blocks), String(rest.replicas), String(rest.min), String(rest.median), String(rest.underReplicated), String(rest.missing)
      ]]))
    })

  withGlobals(program.command('dashboard'))
    .description('print the address of the running peer\'s web dashboard (it carries the API token: keep it to yourself)')
    .action(async (opts: GlobalOptions) => {
      const info = await new Repo(repoPath(opts.repo)).readApi()
      if (info == null) throw new PeerNotRunningError(`no peer is running for repo ${repoPath(opts.repo)}; start one with: ionnet peer start`)
      const url = dashboardUrl(info.url, info.token)
      io.stdout.write(opts.json === true ? JSON.stringify({ url }) + '\n' : `${url}\n`)
    })

  withGlobals(program.command('id'))
    .description('show the peer ID and addresses of the running peer')
    .action(async (opts: GlobalOptions) => {
      const id = await (await ApiClient.forRepo(repoPath(opts.repo))).id()
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
    mdns: opts.mdns === true,
    healer: { interval: opts.healInterval, concurrency: opts.repairConcurrency, bandwidth: opts.repairBandwidth, scrubRate: opts.scrubRate }
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
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.removeListener('SIGINT', stop)
      process.removeListener('SIGTERM', stop)
      // a second Ctrl-C while stopping exits at once
      process.once('SIGINT', () => process.exit(130))
      daemon.stop().then(resolve, (err: Error) => { io.stderr.write(`ionnet: error while stopping: ${err.message}\n`); resolve() })
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
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

export function formatSize (bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = bytes
  let i = 0
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++ }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`
}

function table (head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map(r => r[i].length)))
  return [head, ...rows].map(r => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n') + '\n'
}

function oneLine (s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim()
}

