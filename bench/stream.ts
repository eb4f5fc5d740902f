/**
 * The ceiling of any transfer over one libp2p connection: a bare libp2p 3 stream, TCP + noise or TLS + yamux,
 * between two processes on 127.0.0.1. TLS twice: `@libp2p/tls`, and IonNet's own encrypter, which runs the same
 * protocol on the TCP socket itself (`tls-socket`). The source sends N MiB in 1 MiB sends on one stream of one
 * connection; the time runs from the go signal (connection already up) until the sink has counted every byte.
 *
 * The same stream with a bare receiver (`receive`) shows what a plain get reaches over it, measured as the issue that
 * set the targets measured it: the source sends encrypted chunks of IonNet's chunk size, each behind its GCM tag and
 * the sha2-256 of its bytes, and the sink hashes and decrypts every chunk as its bytes arrive, checks both, and writes
 * the plaintext to a file, which it closes before it reports. No framing library, no protocol, no copies beyond the
 * cipher's own: only what any reader of encrypted, content-addressed chunks must do.
 *
 * As a child process: `node stream.ts sink <encrypter> <MiB> <work>` or `node stream.ts source <encrypter> <MiB> <work> <addr>`.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { finished } from 'node:stream/promises'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { tls } from '@libp2p/tls'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { DEFAULT_CHUNK_SIZE } from '@ionnet/manifest'
import { nativeTls } from '../packages/peer/src/tls-encrypter.ts'
import { Child, MiB, exitWithParent, failed, framePieces, hear, mibs, round, tell, totalCpuSeconds } from './common.ts'
import type { Libp2p, Stream } from '@libp2p/interface'
import type { DecipherGCM, Hash } from 'node:crypto'

const ENCRYPTERS = { noise, tls, 'tls-socket': nativeTls }

export type Encrypter = keyof typeof ENCRYPTERS

/** What the sink does with the bytes: count them, or receive them as chunks (hash, decrypt, write). */
export type Work = 'count' | 'receive'

const PROTOCOL = '/ionnet-bench/stream/1.0.0'

/** A received chunk's header: its GCM tag, then the sha2-256 of its ciphertext. */
const TAG = 16
const HEADER = TAG + 32

/** Both ends know the key: the bench measures the work, not a key exchange. */
const KEY = Buffer.alloc(32, 7)
const IV = Buffer.alloc(12, 1)

/** A stream's rate, and the CPU it cost both processes (user + system, all threads) per MiB carried. */
export interface StreamRun {
  MiBs: number
  cpuMsPerMiB: number
}

/** One stream carrying `sizeMiB` from one process to another, the sink doing `work` with it. */
export async function measureStream (encrypter: Encrypter, sizeMiB: number, work: Work = 'count'): Promise<StreamRun> {
  const module = new URL(import.meta.url)
  const sink = new Child(module, ['sink', encrypter, String(sizeMiB), work])
  try {
    const { addr } = await sink.next<{ addr: string }>()
    const source = new Child(module, ['source', encrypter, String(sizeMiB), work, addr])
    try {
      await source.next()
      const pids = [sink.proc.pid!, source.proc.pid!]
      const cpuBefore = await totalCpuSeconds(pids)
      const started = performance.now()
      source.send('go')
      const { bytes } = await sink.next<{ bytes: number }>()
      const ms = performance.now() - started
      return { MiBs: mibs(bytes, ms), cpuMsPerMiB: round((await totalCpuSeconds(pids) - cpuBefore) * 1000 / (bytes / MiB), 2) }
    } finally {
      await source.stop()
    }
  } finally {
    await sink.stop()
  }
}

async function node (encrypter: Encrypter): Promise<Libp2p> {
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [ENCRYPTERS[encrypter]()],
    streamMuxers: [yamux()]
  })
}

async function sinkRole (encrypter: Encrypter, sizeMiB: number, work: Work): Promise<void> {
  const libp2p = await node(encrypter)
  await libp2p.handle(PROTOCOL, async (stream) => {
    if (work === 'receive') {
      // a failure ends the child, so the parent hears of it instead of waiting
      tell({ bytes: await receive(stream).catch(failed) })
      return
    }
    let bytes = 0
    for await (const piece of stream) {
      bytes += piece.byteLength
      if (bytes >= sizeMiB * MiB) tell({ bytes })
    }
  })
  tell({ addr: libp2p.getMultiaddrs()[0].toString() })
}

/**
 * Reads chunks until the stream ends, hashing and decrypting each piece as it arrives and writing its plaintext;
 * returns the plaintext bytes, once the file is closed. Throws on a chunk whose tag or hash does not match.
 */
async function receive (stream: Stream): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'ionnet-bench-receive-'))
  // up to two chunks queued for the disk, so writing overlaps reading
  const out = createWriteStream(join(dir, 'out'), { highWaterMark: 2 * DEFAULT_CHUNK_SIZE })
  let chunk: { hash: Hash, decipher: DecipherGCM } | undefined
  let written = 0
  const write = async (plain: Buffer): Promise<void> => {
    written += plain.byteLength
    if (!out.write(plain)) await once(out, 'drain')
  }
  try {
    for await (const { header, piece, last } of framePieces(stream, HEADER, DEFAULT_CHUNK_SIZE)) {
      if (chunk == null) {
        chunk = { hash: createHash('sha256'), decipher: createDecipheriv('aes-256-gcm', KEY, IV) }
        chunk.decipher.setAuthTag(header.subarray(0, TAG))
      }
      chunk.hash.update(piece)
      await write(chunk.decipher.update(piece))
      if (!last) continue
      chunk.decipher.final()
      if (!chunk.hash.digest().equals(header.subarray(TAG))) throw new Error('a chunk does not match its hash')
      chunk = undefined
    }
    out.end()
    await finished(out)
    return written
  } finally {
    out.destroy()
    await rm(dir, { recursive: true, force: true })
  }
}

async function sourceRole (encrypter: Encrypter, sizeMiB: number, work: Work, addr: string): Promise<void> {
  const libp2p = await node(encrypter)
  const connection = await libp2p.dial(multiaddr(addr))
  const buf = randomBytes(work === 'receive' ? DEFAULT_CHUNK_SIZE : MiB)
  // the same chunk every time: the sink's work per chunk is the same either way
  const sends = work === 'receive' ? sealed(buf) : [buf]
  const count = work === 'receive' ? sizeMiB * MiB / DEFAULT_CHUNK_SIZE : sizeMiB
  const go = hear()
  tell('ready')
  await go
  const stream = await connection.newStream(PROTOCOL)
  for (let i = 0; i < count; i++) {
    for (const bytes of sends) {
      if (!stream.send(bytes)) await stream.onDrain()
    }
  }
  await stream.close()
}

/** A chunk as the receiving sink reads it: header, then ciphertext. */
function sealed (plain: Buffer): Buffer[] {
  const cipher = createCipheriv('aes-256-gcm', KEY, IV)
  const ciphertext = Buffer.concat([cipher.update(plain), cipher.final()])
  return [Buffer.concat([cipher.getAuthTag(), createHash('sha256').update(ciphertext).digest()]), ciphertext]
}

if (import.meta.main) {
  const [role, encrypter, size, work, addr] = process.argv.slice(2)
  if (process.send != null) exitWithParent()
  if (role === 'sink') await sinkRole(encrypter as Encrypter, Number(size), work as Work)
  else if (role === 'source') await sourceRole(encrypter as Encrypter, Number(size), work as Work, addr)
  else {
    // on its own, for a quick look: node bench/stream.ts
    console.log({
      noise: await measureStream('noise', 256),
      tls: await measureStream('tls', 256),
      tlsSocket: await measureStream('tls-socket', 256),
      noiseReceiver: await measureStream('noise', 256, 'receive'),
      tlsSocketReceiver: await measureStream('tls-socket', 256, 'receive')
    })
    process.exit(0)
  }
}
