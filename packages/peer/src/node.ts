import { createHash } from 'node:crypto'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { gossipsub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { mdns } from '@libp2p/mdns'
import { ping } from '@libp2p/ping'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { CONNECTION_PING_INTERVAL, DHT_K, DHT_PROTOCOL, GOSSIP_LAZY_DEGREE, GOSSIP_MESH_DEGREE, LOOPBACK_IPS, MAX_CHUNK_SIZE, MAX_HEADER_SIZE, PING_MAX_INBOUND, PING_MAX_OUTBOUND, PROVIDER_VALIDITY, REPROVIDE_INTERVAL, REPROVIDE_THRESHOLD, STREAM_WINDOW, YAMUX_KEEPALIVE_INTERVAL } from './constants.ts'
import { nativeTls } from './tls-encrypter.ts'
import { batchYamuxWindowUpdates, capYamuxFrames } from './yamux-window.ts'
import type { GossipSub } from '@libp2p/gossipsub'
import type { Identify } from '@libp2p/identify'
import type { PrivateKey, Libp2p } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'
import type { Ping } from '@libp2p/ping'
import type { Datastore } from 'interface-datastore'

/** The libp2p services every IonNet peer runs. */
export type IonNetServices = {
  identify: Identify
  ping: Ping
  dht: KadDHT
  pubsub: GossipSub
}

/** The libp2p node of a peer. */
export type IonNetNode = Libp2p<IonNetServices>

export interface NodeInit {
  privateKey: PrivateKey
  datastore: Datastore
  listen: string[]
  mdns: boolean
  /** Pre-shared key of a private swarm: only peers holding it can connect at all. */
  swarmKey?: Uint8Array
  /** ms between libp2p's pings of each connection. */
  pingInterval?: number
  /** Called as bytes arrive from a peer, where the connection's TLS runs on its socket (tls-encrypter.ts). */
  onBytesFrom?(peer: string): void
}

/** Builds (and starts) the libp2p node with IonNet's transport, encryption, muxer, DHT and pubsub. */
export async function createNode (init: NodeInit): Promise<IonNetNode> {
  batchYamuxWindowUpdates()
  capYamuxFrames()
  const peerDiscovery = []
  if (init.mdns) peerDiscovery.push(mdns({ serviceTag: '_ionnet._udp.local' }))

  return createLibp2p({
    privateKey: init.privateKey,
    datastore: init.datastore,
    addresses: { listen: init.listen },
    connectionProtector: init.swarmKey == null ? undefined : preSharedKey({ psk: init.swarmKey }),
    transports: [tcp()],
    // TLS first, run on the TCP socket itself (tls-encrypter.ts): a bare stream carries 638–673 MiB/s with it, 412–433
    // with @libp2p/tls and about 200–300 with noise here. Noise stays for peers that only speak noise, and libp2p
    // negotiates between them; @libp2p/tls peers speak the same TLS
    connectionEncrypters: [nativeTls({ onBytesFrom: init.onBytesFrom }), noise()],
    // a chunk (2 MiB by default) fits one stream's window, so it crosses without waiting on window updates
    streamMuxers: [yamux({ keepAliveInterval: YAMUX_KEEPALIVE_INTERVAL, streamOptions: { initialStreamWindowSize: STREAM_WINDOW } })],
    peerDiscovery,
    // libp2p pings every connection every 10 s by default, each ping a new stream that the peer store records; an
    // idle 20-peer network spent 2.3–3.0% of a core per peer with that, 2.1 with 30 s (see CONNECTION_PING_INTERVAL)
    connectionMonitor: { pingInterval: init.pingInterval ?? CONNECTION_PING_INTERVAL },
    connectionManager: {
      // every local peer shares one address; without this, loopback and one-host setups lose connections to the per-host rate limit
      allow: ['/ip4/127.0.0.1', '/ip6/::1']
    },
    services: {
      identify: identify(),
      // two pingers share this service's limits: kad-dht checks routing-table contacts with it while libp2p's
      // connection monitor pings every connection on the same protocol. With ping's default of one outbound stream,
      // whichever came second was refused, and the monitor then dropped a healthy connection (netlab: a peer lost
      // its gossip streams to its own side of a partition that way)
      ping: ping({ maxOutboundStreams: PING_MAX_OUTBOUND, maxInboundStreams: PING_MAX_INBOUND }),
      dht: kadDHT({
        protocol: DHT_PROTOCOL,
        kBucketSize: DHT_K,
        // server mode everywhere: home and LAN devices are the network, there are no public servers to defer to
        clientMode: false,
        // keep private and loopback addresses: peers on one LAN or machine must find each other
        peerInfoMapper: passthroughMapper,
        reprovide: { interval: REPROVIDE_INTERVAL, threshold: REPROVIDE_THRESHOLD, validity: PROVIDER_VALIDITY }
      }),
      pubsub: gossipsub({
        allowPublishToZeroTopicPeers: true,
        // gossipsub scores a peer down once more than 10 peers share its IP address; at 20 peers on one machine
        // every heartbeat was ignored and nobody looked alive. Loopback cannot hold a remote attacker's sybils, and
        // devnets, tests and benchmarks run many peers there.
        scoreParams: { IPColocationFactorWhitelist: new Set(LOOPBACK_IPS) },
        // gossipsub checks a message's signature before it looks the message up among those already seen, unless
        // it can name the message cheaply first: every mesh peer forwards each heartbeat, so without this a peer
        // verified each one about six times, and signature checks took 17% of a fresh 20-peer network's CPU (7% with it)
        fastMsgIdFn: fastMessageId,
        // every heartbeat reaches a peer once from its publisher (flood publish) and again from each mesh neighbour
        // that forwards it, so each mesh neighbour costs a frame per heartbeat. gossipsub lets a mesh grow to Dhi
        // (twice D here) as other peers graft on, and tells a quarter of its other peers (gossipFactor), not Dlazy,
        // what it has: in an idle 50-peer network a peer sent 25-40 heartbeats and 6.5 IHAVEs a second. A mesh held
        // at D to D + 1 and gossip to exactly Dlazy peers cut that network's idle CPU from 2.11-2.53% of a core per
        // peer to 1.81-1.90; Dout must stay below Dlo
        D: GOSSIP_MESH_DEGREE,
        Dlo: GOSSIP_MESH_DEGREE - 1,
        Dhi: GOSSIP_MESH_DEGREE + 1,
        Dscore: GOSSIP_MESH_DEGREE - 1,
        Dout: 1,
        Dlazy: GOSSIP_LAZY_DEGREE,
        gossipFactor: 0,
        maxInboundDataLength: MAX_CHUNK_SIZE + MAX_HEADER_SIZE
      })
    }
  })
}

/**
 * Names a gossip message by all its bytes. Gossipsub caches the name only once the message proved valid, so a
 * forgery cannot shadow a real message, and a copy of a valid one with other bytes gets another name and is checked.
 */
function fastMessageId (msg: { from?: Uint8Array, seqno?: Uint8Array, data?: Uint8Array, signature?: Uint8Array, topic: string }): string {
  const hash = createHash('sha256')
  for (const part of [msg.from, msg.seqno, msg.data, msg.signature]) {
    hash.update(Uint8Array.of(part == null ? 0 : 1))
    if (part != null) hash.update(lengthOf(part)).update(part)
  }
  return hash.update(msg.topic).digest('base64')
}

function lengthOf (part: Uint8Array): Uint8Array {
  const n = part.byteLength
  return Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff)
}
