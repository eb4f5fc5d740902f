/**
 * The machine's own limits, the ceilings the other figures are read against:
 * - raw loopback TCP: one process writes N MiB in 1 MiB writes to another over 127.0.0.1, timed until the
 *   receiver has counted every byte;
 * - sha2-256 and AES-256-GCM (encrypt, with tag) of 1 MiB buffers in node:crypto, in this process;
 * - chunk files of IonNet's default chunk size (2 MiB) written as the chunk store writes them: temp file, fsync, rename,
 *   in the system temp folder (where the peers' repos live); the median of three passes.
 * For the last three, also the CPU they cost per MiB, which report.ts adds up into what a transfer could reach at most.
 * The bare libp2p stream ceilings, and what a bare receiver reaches over them, are in stream.ts.
 *
 * As a child process: `node limits.ts tcp-sink` or `node limits.ts tcp-source <port> <MiB>`.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto'
import { closeSync, fsyncSync, mkdtempSync, openSync, renameSync, rmSync, writeSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_CHUNK_SIZE } from '@ionnet/manifest'
import { Child, MiB, exitWithParent, hear, median, mibs, round, tell } from './common.ts'

export interface Limits {
  tcpLoopbackMiBs: number
  sha256MiBs: number
  aes256gcmMiBs: number
  /** The median of FSYNC_PASSES passes, each listed in `chunkFileFsyncPassesMiBs`. */
  chunkFileFsyncMiBs: number
  chunkFileFsyncPassesMiBs: number[]
  /**
   * CPU milliseconds (user + system of the thread that does the work) per MiB hashed, sealed, and written as chunk
   * files over all the passes: what each step costs whatever runs it, for the CPU ceilings in report.ts. The kernel's
   * own writeback threads are not counted, so the chunk-file figure is a floor.
   */
  sha256CpuMsPerMiB: number
  aes256gcmCpuMsPerMiB: number
  chunkFileFsyncCpuMsPerMiB: number
}

/**
 * Passes of the chunk-file anchor, of which the median counts. One pass is under a second here, and a stall of the
 * shared disk during it once put the anchor at 90.3 MiB/s where the day's other runs measured 302.5–469.7 (and one 827),
 * so that IonNet's put with one copy passed its target at 139% of it. Nor the best pass: one that reuses blocks freed
 * moments before writes twice as fast as the others (chunkFiles).
 */
const FSYNC_PASSES = 3

export async function measureLimits (sizes: { tcpMiB: number, cryptoMiB: number, fsyncMiB: number }): Promise<Limits> {
  const passes = chunkFilePasses(sizes.fsyncMiB)
  const sha256 = cpuRate(sizes.cryptoMiB, buf => createHash('sha256').update(buf).digest())
  const aes256gcm = cpuRate(sizes.cryptoMiB, (buf) => {
    const c = createCipheriv('aes-256-gcm', randomBytes(32), randomBytes(12))
    c.update(buf)
    c.final()
    c.getAuthTag()
  })
  return {
    tcpLoopbackMiBs: await tcpLoopback(sizes.tcpMiB),
    sha256MiBs: sha256.MiBs,
    aes256gcmMiBs: aes256gcm.MiBs,
    chunkFileFsyncMiBs: median(passes.map(p => p.MiBs)),
    chunkFileFsyncPassesMiBs: passes.map(p => p.MiBs),
    sha256CpuMsPerMiB: sha256.cpuMsPerMiB,
    aes256gcmCpuMsPerMiB: aes256gcm.cpuMsPerMiB,
    chunkFileFsyncCpuMsPerMiB: round(passes.reduce((sum, p) => sum + p.cpuMsPerMiB, 0) / passes.length, 2)
  }
}

interface Rate {
  MiBs: number
  cpuMsPerMiB: number
}

/**
 * Times `work` on `sizeMiB` MiB: its rate, and the CPU spent on it per MiB by this thread, which runs all of it
 * (synchronously, system calls included). Not the whole process's: V8's and libuv's threads, busy with what came
 * before, once charged AES-256-GCM 1.59 ms per MiB while it ran at 1142.2 MiB/s, 0.88 ms per MiB of wall time.
 */
function timed (sizeMiB: number, work: () => void): Rate {
  const cpu = process.threadCpuUsage()
  const started = performance.now()
  work()
  const ms = performance.now() - started
  const { user, system } = process.threadCpuUsage(cpu)
  return { MiBs: mibs(sizeMiB * MiB, ms), cpuMsPerMiB: round((user + system) / 1000 / sizeMiB, 2) }
}

/** Times a transfer from a source process to a sink process: from the go signal to the sink's byte count. */
async function tcpLoopback (sizeMiB: number): Promise<number> {
  const sink = new Child(new URL(import.meta.url), ['tcp-sink'])
  const source = new Child(new URL(import.meta.url), ['tcp-source', String((await sink.next<{ port: number }>()).port), String(sizeMiB)])
  try {
    await source.next()
    const started = performance.now()
    source.send('go')
    const { bytes } = await sink.next<{ bytes: number }>()
    if (bytes !== sizeMiB * MiB) throw new Error(`tcp sink counted ${bytes} bytes, expected ${sizeMiB * MiB}`)
    return mibs(bytes, performance.now() - started)
  } finally {
    await Promise.all([source.stop(), sink.stop()])
  }
}

function cpuRate (sizeMiB: number, fn: (buf: Buffer) => void): Rate {
  const buf = randomBytes(MiB)
  fn(buf) // warm up
  return timed(sizeMiB, () => { for (let i = 0; i < sizeMiB; i++) fn(buf) })
}

/**
 * Writes `sizeMiB` of chunk files into `dir`, leaving them there: a pass that reused the blocks the one before it had
 * just freed wrote twice as fast as into fresh space (650–730 MiB/s against 290–375 for the first pass), and the
 * peers' chunk stores write into fresh space.
 */
function chunkFiles (dir: string, sizeMiB: number): Rate {
  // files of the size IonNet writes: fewer, larger files each pay less fsync per byte
  const buf = randomBytes(DEFAULT_CHUNK_SIZE)
  return timed(sizeMiB, () => {
    for (let i = 0; i < sizeMiB * MiB / DEFAULT_CHUNK_SIZE; i++) {
      const path = join(dir, String(i))
      const fd = openSync(`${path}.tmp`, 'w')
      writeSync(fd, buf)
      fsyncSync(fd)
      closeSync(fd)
      renameSync(`${path}.tmp`, path)
    }
  })
}

/** FSYNC_PASSES passes of chunkFiles, each into a folder of its own, all removed only at the end. */
function chunkFilePasses (sizeMiB: number): Rate[] {
  const dirs: string[] = []
  try {
    return Array.from({ length: FSYNC_PASSES }, () => {
      dirs.push(mkdtempSync(join(tmpdir(), 'ionnet-bench-fsync-')))
      return chunkFiles(dirs[dirs.length - 1], sizeMiB)
    })
  } finally {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  }
}

async function sinkRole (): Promise<void> {
  const server = net.createServer((socket) => {
    let bytes = 0
    socket.on('data', (d) => { bytes += d.length })
    socket.on('end', () => { tell({ bytes }) })
  })
  server.listen(0, '127.0.0.1', () => { tell({ port: (server.address() as net.AddressInfo).port }) })
}

async function sourceRole (port: number, sizeMiB: number): Promise<void> {
  const socket = net.connect(port, '127.0.0.1')
  await new Promise(resolve => socket.once('connect', resolve))
  const buf = randomBytes(MiB)
  const go = hear()
  tell('ready')
  await go
  for (let i = 0; i < sizeMiB; i++) {
    if (!socket.write(buf)) await new Promise(resolve => socket.once('drain', resolve))
  }
  socket.end()
}

if (import.meta.main) {
  const [role, ...args] = process.argv.slice(2)
  if (process.send != null) exitWithParent()
  if (role === 'tcp-sink') await sinkRole()
  else if (role === 'tcp-source') await sourceRole(Number(args[0]), Number(args[1]))
  else {
    // on its own, for a quick look: node bench/limits.ts
    console.log(await measureLimits({ tcpMiB: 256, cryptoMiB: 256, fsyncMiB: 64 }))
    process.exit(0)
  }
}
