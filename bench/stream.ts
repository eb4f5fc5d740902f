/**
 * The ceiling of any transfer over one libp2p connection: a bare libp2p 3 stream, TCP + noise or TLS + yamux,
 * between two processes on 127.0.0.1. TLS twice: `@libp2p/tls`, and IonNet's own encrypter, which runs the same
 * protocol on the TCP socket itself (`tls-socket`). The source sends N MiB in 1 MiB sends on one stream of one
 * connection; the time runs from the go signal (connection already up) until the sink has counted every byte.
 *
 * As a child process: `node stream.ts sink <encrypter> <MiB>` or `node stream.ts source <encrypter> <MiB> <addr>`.
 */
import { randomBytes } from 'node:crypto'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { tls } from '@libp2p/tls'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { nativeTls } from '../packages/peer/src/tls-encrypter.ts'
import { Child, MiB, exitWithParent, hear, mibs, tell } from './common.ts'
import type { Libp2p } from '@libp2p/interface'

const ENCRYPTERS = { noise, tls, 'tls-socket': nativeTls }

export type Encrypter = keyof typeof ENCRYPTERS

const PROTOCOL = '/ionnet-bench/stream/1.0.0'

/** MiB/s of one stream carrying `sizeMiB` from one process to another. */
export async function measureStream (encrypter: Encrypter, sizeMiB: number): Promise<number> {
  const module = new URL(import.meta.url)
  const sink = new Child(module, ['sink', encrypter, String(sizeMiB)])
  try {
    const { addr } = await sink.next<{ addr: string }>()
    const source = new Child(module, ['source', encrypter, String(sizeMiB), addr])
    try {
      await source.next()
      const started = performance.now()
      source.send('go')
      const { bytes } = await sink.next<{ bytes: number }>()
      return mibs(bytes, performance.now() - started)
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

async function sinkRole (encrypter: Encrypter, sizeMiB: number): Promise<void> {
  const libp2p = await node(encrypter)
  await libp2p.handle(PROTOCOL, async (stream) => {
    let bytes = 0
    for await (const piece of stream) {
      bytes += piece.byteLength
      if (bytes >= sizeMiB * MiB) tell({ bytes })
    }
  })
  tell({ addr: libp2p.getMultiaddrs()[0].toString() })
}

async function sourceRole (encrypter: Encrypter, sizeMiB: number, addr: string): Promise<void> {
  const libp2p = await node(encrypter)
  const connection = await libp2p.dial(multiaddr(addr))
  const buf = randomBytes(MiB)
  const go = hear()
  tell('ready')
  await go
  const stream = await connection.newStream(PROTOCOL)
  for (let i = 0; i < sizeMiB; i++) {
    if (!stream.send(buf)) await stream.onDrain()
  }
  await stream.close()
}

if (import.meta.main) {
  const [role, encrypter, size, addr] = process.argv.slice(2)
  if (process.send != null) exitWithParent()
  if (role === 'sink') await sinkRole(encrypter as Encrypter, Number(size))
  else if (role === 'source') await sourceRole(encrypter as Encrypter, Number(size), addr)
  else {
    // on its own, for a quick look: node bench/stream.ts
    console.log({ noise: await measureStream('noise', 256), tls: await measureStream('tls', 256), tlsSocket: await measureStream('tls-socket', 256) })
    process.exit(0)
  }
}
