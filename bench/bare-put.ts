/**
 * What a plain put reaches here: a bare putter that does only what any put of encrypted, content-addressed chunks
 * must, with none of IonNet's protocol. One source process seals each chunk of IonNet's chunk size (AES-256-GCM, then
 * sha2-256 of the ciphertext) and streams it to `copies` sink processes, each over its own libp2p connection with
 * IonNet's transport, encrypter (TLS on the socket) and muxer. Each sink hashes the bytes as they arrive, checks the
 * hash, and stores the chunk as IonNet's chunk store does: a temp file, fsync, rename, fsync of the folder. There are
 * no answers per chunk: the time runs from the go signal (connections already up) until every sink has stored every
 * chunk. The plaintext is one random chunk, sealed again for every chunk, so reading a file costs nothing here. Every
 * copy goes to another process: unlike IonNet's uploader, the source keeps none.
 *
 * As a child process: `node bare-put.ts sink` or `node bare-put.ts source <MiB> <addr>...`.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto'
import { mkdtemp, open, rename, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { DEFAULT_CHUNK_SIZE } from '@ionnet/manifest'
import { nativeTls } from '../packages/peer/src/tls-encrypter.ts'
import { Child, MiB, exitWithParent, failed, framePieces, hear, mibs, tell } from './common.ts'
import type { Libp2p, Stream } from '@libp2p/interface'
import type { Hash } from 'node:crypto'

const PROTOCOL = '/ionnet-bench/put/1.0.0'

/** A chunk on the wire: the sha2-256 of its ciphertext, then the ciphertext with its GCM tag. */
const HASH = 32
const SEALED = DEFAULT_CHUNK_SIZE + 16

/** Chunks a sink holds while its disk catches up: the reading goes on meanwhile. */
const QUEUED = 4

/** MiB/s of `sizeMiB` put with `copies` copies by the bare putter. */
export async function measureBarePut (copies: number, sizeMiB: number): Promise<number> {
  const module = new URL(import.meta.url)
  const sinks = Array.from({ length: copies }, () => new Child(module, ['sink']))
  try {
    const addrs = await Promise.all(sinks.map(async sink => (await sink.next<{ addr: string }>()).addr))
    const source = new Child(module, ['source', String(sizeMiB), ...addrs])
    try {
      await source.next()
      const started = performance.now()
      source.send('go')
      const stored = await Promise.all(sinks.map(async sink => (await sink.next<{ bytes: number }>()).bytes))
      if (stored.some(bytes => bytes !== sizeMiB * MiB)) throw new Error(`the sinks stored ${stored.join(', ')} bytes, not ${sizeMiB * MiB}`)
      return mibs(sizeMiB * MiB, performance.now() - started)
    } finally {
      await source.stop()
    }
  } finally {
    await Promise.all(sinks.map(async sink => sink.stop()))
  }
}

async function node (): Promise<Libp2p> {
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [nativeTls()],
    streamMuxers: [yamux()]
  })
}

async function sinkRole (): Promise<void> {
  const libp2p = await node()
  const dir = await mkdtemp(join(tmpdir(), 'ionnet-bench-put-'))
  await libp2p.handle(PROTOCOL, async (stream) => {
    // a failure ends the child, so the parent hears of it instead of waiting
    const bytes = await store(stream, dir).catch(failed)
    await rm(dir, { recursive: true, force: true })
    tell({ bytes })
  })
  tell({ addr: libp2p.getMultiaddrs()[0].toString() })
}

/** Stores every chunk the stream carries; returns their plaintext bytes once the last is durable. */
async function store (stream: Stream, dir: string): Promise<number> {
  let pieces: Uint8Array[] = []
  let hash: Hash | undefined
  let chunks = 0
  let disk = Promise.resolve()
  const waiting: Array<Promise<void>> = []
  const write = async (name: string, body: Uint8Array[]): Promise<void> => {
    const tmp = join(dir, `${name}.tmp`)
    const file = await open(tmp, 'wx')
    try {
      await file.writev(body)
      await file.sync()
    } finally {
      await file.close()
    }
    await rename(tmp, join(dir, name))
    const folder = await open(dir, 'r')
    await folder.sync().finally(async () => folder.close())
  }
  for await (const { header, piece, last } of framePieces(stream, HASH, SEALED)) {
    hash ??= createHash('sha256')
    hash.update(piece)
    pieces.push(piece)
    if (!last) continue
    if (!hash.digest().equals(header)) throw new Error('a chunk does not match its hash')
    const body = pieces
    const name = String(chunks++)
    pieces = []
    hash = undefined
    // one chunk at a time to disk, in order; the reading waits only when QUEUED chunks wait for it
    disk = disk.then(async () => write(name, body))
    waiting.push(disk)
    if (waiting.length >= QUEUED) await waiting.shift()
  }
  await disk
  return chunks * DEFAULT_CHUNK_SIZE
}

async function sourceRole (sizeMiB: number, addrs: string[]): Promise<void> {
  const libp2p = await node()
  const connections = await Promise.all(addrs.map(async addr => libp2p.dial(multiaddr(addr))))
  const plain = randomBytes(DEFAULT_CHUNK_SIZE)
  const go = hear()
  tell('ready')
  await go
  const streams = await Promise.all(connections.map(async c => c.newStream(PROTOCOL)))
  for (let i = 0; i < sizeMiB * MiB / DEFAULT_CHUNK_SIZE; i++) {
    // a fresh key per chunk, as IonNet's chunks have: the same plaintext never seals to the same bytes twice
    const cipher = createCipheriv('aes-256-gcm', randomBytes(32), randomBytes(12))
    const sealed = [cipher.update(plain), cipher.final(), cipher.getAuthTag()]
    const hash = createHash('sha256')
    for (const part of sealed) hash.update(part)
    const header = hash.digest()
    for (const stream of streams) {
      for (const bytes of [header, ...sealed]) {
        if (!stream.send(bytes)) await stream.onDrain()
      }
    }
  }
  await Promise.all(streams.map(async stream => stream.close()))
}

if (import.meta.main) {
  const [role, size, ...addrs] = process.argv.slice(2)
  if (process.send != null) exitWithParent()
  if (role === 'sink') await sinkRole()
  else if (role === 'source') await sourceRole(Number(size), addrs)
  else {
    // on its own, for a quick look: node bench/bare-put.ts
    console.log({ copies1: await measureBarePut(1, 256), copies3: await measureBarePut(3, 256) })
    process.exit(0)
  }
}
