/**
 * @packageDocumentation
 *
 * The IonNet peer: a libp2p node (TCP, noise, yamux, identify, Kademlia DHT, gossipsub), the chunk exchange
 * protocol, heartbeats and the live-peer table, file put and get, the local HTTP API and the `ionnet` CLI.
 *
 * @example
 *
 * ```ts
 * import { startDaemon } from '@ionnet/peer'
 * import { IonNetClient } from '@ionnet/client'
 *
 * const daemon = await startDaemon({ repo: '/tmp/ionnet-a', listen: ['/ip4/127.0.0.1/tcp/0'], api: '127.0.0.1:0' })
 * const client = await IonNetClient.forRepo('/tmp/ionnet-a')
 * const { link } = await client.put(Buffer.from('hello'), { name: 'hello.txt', replicas: 1 })
 * const download = await client.get(link)
 * for await (const piece of download.content) process.stdout.write(piece)
 * await daemon.stop()
 * ```
 */

export { createPeer, IonNetPeer } from './peer.ts'
export type { PeerInit } from './peer.ts'
export { startDaemon } from './daemon.ts'
export type { Daemon, DaemonInit } from './daemon.ts'
export { main } from './cli.ts'
export type { CliIo } from './cli.ts'
export type { OpenedFile } from './get.ts'
export type { KeyringEntry } from './keyring.ts'
// the API's answer types are defined once, in @ionnet/client; re-exported for code that builds on the peer
export type { HealthReport, PeerIdentity, PeerSummary, PutResult } from '@ionnet/client'
export type { PeerRecord } from './membership.ts'
export type { Snapshot, RepairRecord } from './live-view.ts'
export type { FileCopies } from './file-census.ts'
export { dashboardUrl } from './dashboard-files.ts'
export { rankPeers } from './placement.ts'
export * from './errors.ts'
export { CHUNK_PROTOCOL, DHT_PROTOCOL, HEARTBEAT_TOPIC, DEFAULT_REPLICAS, DEFAULT_API, DEFAULT_LISTEN } from './constants.ts'
