/**
 * @packageDocumentation
 *
 * A TypeScript client for a running IonNet peer's local HTTP API: put and get files, list peers and files, check a
 * file's health, and follow the peer's live events. It has no dependencies beyond Node.js, so an app can embed it
 * without pulling in libp2p. It also holds the API's contract: the answer types and the error codes, which the peer
 * builds its answers from.
 *
 * @example
 *
 * ```ts
 * import { homedir } from 'node:os'
 * import { join } from 'node:path'
 * import { IonNetClient } from '@ionnet/client'
 *
 * // a running peer (`ionnet peer start`) writes its API address and token into <repo>/api.json
 * const client = await IonNetClient.forRepo(process.env.IONNET_REPO ?? join(homedir(), '.ionnet'))
 *
 * const { link } = await client.put(new TextEncoder().encode('hello ionnet'), { name: 'hello.txt', replicas: 1 })
 * const download = await client.get(link)
 * let text = ''
 * for await (const piece of download.content) text += Buffer.from(piece).toString('utf8')
 * console.info(download.name, download.size, text) // hello.txt 12 hello ionnet
 * ```
 */

export { IonNetClient } from './client.ts'
export type { CallOptions, Download, GetOptions, IonNetClientInit, PutOptions, PutSource } from './client.ts'
export type {
  ApiErrorBody, ApiEvent, ApiInfo, FileEntry, GetToResult, HealthReport, PeerIdentity, PeerSummary, PutResult,
  RepairEventData, SnapshotEventData
} from './api-types.ts'
export { ERROR_CODES, IonNetApiError, LocalFileError, PeerNotRunningError, statusOf } from './errors.ts'
export { writeFileAtomic } from './local-file.ts'
export type { ErrorCode, ErrorCodeInfo } from './errors.ts'
export { readApiInfo } from './api-info.ts'
export { API_INFO_FILE, API_PREFIX } from './constants.ts'
