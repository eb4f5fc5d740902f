/**
 * Helia side by side: two Helia nodes in two processes on loopback TCP + noise + yamux with memory blockstores.
 * The provider adds N MiB of random bytes with @helia/unixfs (timed: add); the fetcher, already connected, reads
 * the file by CID over bitswap and hashes it (timed: fetch), and the hashes must match.
 *
 * As a child process: `node helia.ts provider <MiB>` or `node helia.ts fetcher <addr> <cid>`.
 */
import { createHash, randomBytes } from 'node:crypto'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { unixfs } from '@helia/unixfs'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { MemoryBlockstore } from 'blockstore-core'
import { MemoryDatastore } from 'datastore-core'
import { createHelia } from 'helia'
import { CID } from 'multiformats/cid'
import { Child, MiB, exitWithParent, hear, mibs, peakRssMiB, round, tell, totalCpuSeconds } from './common.ts'

export interface HeliaRun {
  sizeMiB: number
  addMiBs: number
  fetchMiBs: number
  /** CPU seconds both processes used during the fetch (user + system, all threads). */
  fetchCpuSeconds: number
  identical: boolean
  providerPeakRssMiB: number
  fetcherPeakRssMiB: number
}

export async function measureHelia (sizeMiB: number): Promise<HeliaRun> {
  const module = new URL(import.meta.url)
  const provider = new Child(module, ['provider', String(sizeMiB)])
  try {
    const added = await provider.next<{ addr: string, cid: string, addMs: number, sha256: string }>()
    const fetcher = new Child(module, ['fetcher', added.addr, added.cid])
    try {
      await fetcher.next()
      const pids = [provider.proc.pid!, fetcher.proc.pid!]
      const cpuBefore = await totalCpuSeconds(pids)
      fetcher.send('go')
      const fetched = await fetcher.next<{ fetchMs: number, bytes: number, sha256: string, peakRssMiB: number }>()
      const fetchCpuSeconds = round(await totalCpuSeconds(pids) - cpuBefore, 2)
      provider.send('rss')
      return {
        sizeMiB,
        addMiBs: mibs(sizeMiB * MiB, added.addMs),
        fetchMiBs: mibs(fetched.bytes, fetched.fetchMs),
        fetchCpuSeconds,
        identical: fetched.sha256 === added.sha256 && fetched.bytes === sizeMiB * MiB,
        providerPeakRssMiB: (await provider.next<{ peakRssMiB: number }>()).peakRssMiB,
        fetcherPeakRssMiB: fetched.peakRssMiB
      }
    } finally {
      await fetcher.stop()
    }
  } finally {
    await provider.stop()
  }
}

/** A Helia node as the anchors configured it: TCP + noise + yamux + identify, no routers, memory stores. */
async function node (): Promise<ReturnType<typeof createHelia>> {
  const helia = createHelia({
    libp2p: {
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      peerDiscovery: [],
      services: { identify: identify() },
      connectionManager: { inboundConnectionThreshold: 1000 }
    },
    routers: [],
    blockstore: new MemoryBlockstore(),
    datastore: new MemoryDatastore()
  })
  await helia.start()
  return helia
}

async function providerRole (sizeMiB: number): Promise<void> {
  const helia = await node()
  // the bytes exist before the clock starts: add measures chunking, hashing and storing only
  const pieces = Array.from({ length: sizeMiB }, () => randomBytes(MiB))
  const hash = createHash('sha256')
  for (const p of pieces) hash.update(p)
  const started = performance.now()
  const cid = await unixfs(helia).addByteStream(pieces)
  const addMs = performance.now() - started
  tell({ addr: helia.libp2p.getMultiaddrs()[0].toString(), cid: cid.toString(), addMs, sha256: hash.digest('hex') })
  for (;;) {
    await hear()
    tell({ peakRssMiB: await peakRssMiB('self') })
  }
}

async function fetcherRole (addr: string, cid: string): Promise<void> {
  const helia = await node()
  await helia.libp2p.dial(multiaddr(addr))
  const go = hear()
  tell('ready')
  await go
  const hash = createHash('sha256')
  let bytes = 0
  const started = performance.now()
  for await (const piece of unixfs(helia).cat(CID.parse(cid))) {
    hash.update(piece)
    bytes += piece.byteLength
  }
  const fetchMs = performance.now() - started
  tell({ fetchMs, bytes, sha256: hash.digest('hex'), peakRssMiB: await peakRssMiB('self') })
}

if (import.meta.main) {
  const [role, ...args] = process.argv.slice(2)
  if (process.send != null) exitWithParent()
  if (role === 'provider') await providerRole(Number(args[0]))
  else if (role === 'fetcher') await fetcherRole(args[0], args[1])
  else {
    // on its own, for a quick look: node bench/helia.ts [MiB]
    console.log(await measureHelia(Number(role ?? 16)))
    process.exit(0)
  }
}
