/**
 * A bench-only libp2p node that joins IonNet's DHT as one more server, configured as a peer's node is
 * (packages/peer/src/node.ts: TCP, TLS then noise, yamux, identify, ping, Kademlia on IonNet's own protocol and K in
 * server mode keeping loopback addresses) but without chunks, heartbeats or pubsub, so provide and find-providers latency
 * can be timed from outside the peers. It listens and dials on 127.0.0.1 only.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { DHT_K, DHT_PROTOCOL } from '../packages/peer/src/constants.ts'
import { nativeTls } from '../packages/peer/src/tls-encrypter.ts'
import type { Identify } from '@libp2p/identify'
import type { Libp2p } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'
import type { Ping } from '@libp2p/ping'

export type DhtProbe = Libp2p<{ identify: Identify, ping: Ping, dht: KadDHT }>

/**
 * Starts a probe, dials `bootstrap` (multiaddrs with /p2p/), and refreshes its routing table until it is connected
 * to `want` peers or `timeout` ms pass, as a joining peer's table would fill.
 */
export async function startDhtProbe (bootstrap: string[], options: { want: number, timeout?: number }): Promise<DhtProbe> {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [nativeTls(), noise()],
    streamMuxers: [yamux()],
    connectionManager: { allow: ['/ip4/127.0.0.1'] },
    services: {
      identify: identify(),
      ping: ping(),
      dht: kadDHT({ protocol: DHT_PROTOCOL, kBucketSize: DHT_K, clientMode: false, peerInfoMapper: passthroughMapper })
    }
  })
  await Promise.all(bootstrap.map(async a => node.dial(multiaddr(a)).catch(() => {})))
  const deadline = Date.now() + (options.timeout ?? 30_000)
  while (node.getPeers().length < options.want && Date.now() < deadline) {
    await node.services.dht.refreshRoutingTable().catch(() => {})
    await new Promise(resolve => setTimeout(resolve, 500))
  }
  return node
}
