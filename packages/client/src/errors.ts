/**
 * Errors with stable names and codes. The codes are the API's own (`{ error: { code } }`); the SDK and the CLI pass
 * them on unchanged, so a script can match `err.code` whichever of the three it talks to.
 */

/** What a code means, and the HTTP status the API answers it with (null: never an HTTP answer). */
export interface ErrorCodeInfo {
  status: number | null
  meaning: string
}

/**
 * Every error code of the API, the SDK and the CLI. Codes not listed here (rare: a Node.js `ERR_*` passing through)
 * are answered with 500.
 */
export const ERROR_CODES = {
  ERR_BAD_REQUEST: { status: 400, meaning: 'a malformed request: a missing or bad parameter' },
  ERR_INVALID_LINK: { status: 400, meaning: 'the link is malformed' },
  ERR_WRONG_KEY: { status: 400, meaning: 'the link\'s key does not open the manifest' },
  ERR_INVALID_MANIFEST: { status: 400, meaning: 'the manifest decrypts but is malformed' },
  ERR_LOCAL_FILE: { status: 400, meaning: 'a file named by a path cannot be read or written (missing, not a regular file, changed while read)' },
  ERR_UNAUTHORIZED: { status: 401, meaning: 'missing or wrong API token' },
  ERR_FORBIDDEN: { status: 403, meaning: 'foreign Host or Origin, or ?path= / ?output= from another machine' },
  ERR_NOT_FOUND: { status: 404, meaning: 'no such endpoint' },
  ERR_KEY_MISSING: { status: 404, meaning: 'a bare CID on a peer that did not put the file: use the full link' },
  ERR_BUSY: { status: 503, meaning: 'the peer is at its limit for this kind of request (open event streams); try again later' },
  ERR_CHUNK_UNAVAILABLE: { status: 503, meaning: 'no reachable peer has a chunk' },
  ERR_FILE_UNAVAILABLE: { status: 503, meaning: 'some chunks were found on no live peer; `missing` lists them' },
  ERR_STORE_FAILED: { status: 503, meaning: 'no peer, this one included, could store a block of a put; the reason follows' },
  ERR_CAPACITY_EXCEEDED: { status: 507, meaning: 'this peer\'s store is full' },
  ERR_DISK_FULL: { status: 507, meaning: 'this peer\'s disk ran out of space lately; it takes no chunks for a minute or until space is freed' },
  ERR_REMOTE: { status: 500, meaning: 'another peer refused or failed a request' },
  ERR_PROTOCOL: { status: 500, meaning: 'a peer broke the protocol, or the API gave an unreadable answer' },
  ERR_CHUNK_INTEGRITY: { status: 500, meaning: 'a chunk failed verification against its CID or key' },
  ERR_FILE_INTEGRITY: { status: 500, meaning: 'the reassembled file has the wrong size or hash' },
  ERR_STORAGE: { status: 500, meaning: 'this peer\'s disk failed (ENOSPC, EIO, ...)' },
  ERR_INTERNAL: { status: 500, meaning: 'anything else; the message says what' },
  ERR_TRANSFER: { status: null, meaning: 'SDK: the connection broke during a transfer, or the peer never confirmed the file' },
  ERR_PEER_NOT_RUNNING: { status: null, meaning: 'SDK and CLI: no peer runs for the repo, or none answers at its address' },
  ERR_REPO_LOCKED: { status: null, meaning: 'CLI: another peer already uses the repo' }
} as const satisfies Record<string, ErrorCodeInfo>

/** One of the codes in `ERROR_CODES`. */
export type ErrorCode = keyof typeof ERROR_CODES

/** The HTTP status the API answers `code` with: the table's, else 500. */
export function statusOf (code: string): number {
  return (ERROR_CODES as Record<string, ErrorCodeInfo>)[code]?.status ?? 500
}

/**
 * The peer answered with an error, reported one in the trailer of a download, or the conversation broke
 * (`ERR_TRANSFER`, `ERR_PROTOCOL`). `status` is the answer's HTTP status; for a failure reported in a trailer, the
 * status its code has in `ERROR_CODES` (the answer itself had begun as 200); 0 when there was no answer at all.
 */
export class IonNetApiError extends Error {
  static name = 'IonNetApiError'
  name = 'IonNetApiError'
  readonly code: string
  readonly status: number
  /** CIDs of the chunks found on no live peer (`ERR_FILE_UNAVAILABLE`). */
  readonly missing?: string[]

  constructor (code: string, message: string, status: number, missing?: string[]) {
    super(message)
    this.code = code
    this.status = status
    if (missing != null) this.missing = missing
  }
}

/** No peer is running for the repo, or none answers at the address its `api.json` names. */
export class PeerNotRunningError extends Error {
  static name = 'PeerNotRunningError'
  name = 'PeerNotRunningError'
  code = 'ERR_PEER_NOT_RUNNING'
}

/** A file on this machine, given by path, cannot be read or written (missing, not a regular file, unwritable). */
export class LocalFileError extends Error {
  static name = 'LocalFileError'
  name = 'LocalFileError'
  code = 'ERR_LOCAL_FILE'
}
