/**
 * @packageDocumentation
 *
 * The IonNet peer: a libp2p node (TCP, noise, yamux, identify, Kademlia DHT, gossipsub), the chunk exchange
 * protocol, heartbeats and the live-peer table, file put and get, the local HTTP API and the `ionnet` CLI.
 *
 * @example
 *
 * ```ts
 * import { startDaemon, ApiClient } from '@ionnet/peer'
 * import { Readable } from 'node:stream'
 *
 * const daemon = await startDaemon({ repo: '/tmp/ionnet-a', listen: ['/ip4/127.0.0.1/tcp/0'], api: '127.0.0.1:0' })
 * const client = await ApiClient.forRepo('/tmp/ionnet-a')
 * const { link } = await client.put(Readable.from([Buffer.from('hello')]), { name: 'hello.txt', replicas: 1 })
 * const download = await client.get(link)
 * for await (const piece of download.content) process.stdout.write(piece)
 * await daemon.stop()
 * ```
 */

export { createPeer, IonNetPeer } from './peer.ts'
export type { PeerInit, PeerSummary, PeerIdentity } from './peer.ts'
export { startDaemon } from './daemon.ts'
export type { Daemon, DaemonInit } from './daemon.ts'
export { ApiClient, ApiError } from './api-client.ts'
export type { Download } from './api-client.ts'
export { main } from './cli.ts'
export type { CliIo } from './cli.ts'
export type { PutResult } from './put.ts'
export type { OpenedFile } from './get.ts'
export type { KeyringEntry } from './keyring.ts'
export type { PeerRecord } from './membership.ts'
export type { Snapshot, RepairRecord } from './live-view.ts'
export type { FileCopies } from './file-census.ts'
export { dashboardUrl } from './dashboard-files.ts'
export { rankPeers } from './placement.ts'
export * from './errors.ts'
export { CHUNK_PROTOCOL, DHT_PROTOCOL, HEARTBEAT_TOPIC, DEFAULT_REPLICAS, DEFAULT_API, DEFAULT_LISTEN } from './constants.ts'
