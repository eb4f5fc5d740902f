/**
 * Errors with stable names and codes, shared by the peer, its HTTP API and the CLI. Every code and its HTTP status
 * is listed once, in `ERROR_CODES` of @ionnet/client.
 */

// thrown on both sides of the API (a file path the peer or the client cannot read), so defined once, in the client
export { LocalFileError, PeerNotRunningError } from '@ionnet/client'

/** Base of every IonNet peer error: `code` is stable and travels over the HTTP API. */
export class IonNetError extends Error {
  static name = 'IonNetError'
  name = 'IonNetError'
  code: string = 'ERR_IONNET'
}

/** No peer provides a chunk, or every provider failed. */
export class ChunkUnavailableError extends IonNetError {
  static name = 'ChunkUnavailableError'
  name = 'ChunkUnavailableError'
  code = 'ERR_CHUNK_UNAVAILABLE'
}

/**
 * Some chunks of a file were found on no live peer, asked where placement puts them and then on the DHT (a holder
 * that has not announced a chunk yet may still have it); `missing` lists them.
 */
export class FileUnavailableError extends IonNetError {
  static name = 'FileUnavailableError'
  name = 'FileUnavailableError'
  code = 'ERR_FILE_UNAVAILABLE'
  missing: string[]
  total: number

  constructor (missing: string[], total: number) {
    const shown = missing.slice(0, 5).join(', ') + (missing.length > 5 ? `, … (${missing.length - 5} more)` : '')
    super(`${missing.length} of ${total} chunks were found on no live peer: ${shown}`)
    this.missing = missing
    this.total = total
  }
}

/** A remote peer refused or failed a request; `remoteCode` is its own error code. */
export class RemoteError extends IonNetError {
  static name = 'RemoteError'
  name = 'RemoteError'
  code = 'ERR_REMOTE'
  remoteCode: string

  constructor (message: string, remoteCode: string) {
    super(message)
    this.remoteCode = remoteCode
  }
}

/** A peer sent a message that breaks the protocol. */
export class ProtocolError extends IonNetError {
  static name = 'ProtocolError'
  name = 'ProtocolError'
  code = 'ERR_PROTOCOL'
}

/** A request to the local API was malformed (bad parameter, missing link...). */
export class BadRequestError extends IonNetError {
  static name = 'BadRequestError'
  name = 'BadRequestError'
  code = 'ERR_BAD_REQUEST'
}

/** `get <CID>` without a key, on a peer whose keyring does not know that CID. */
export class KeyMissingError extends IonNetError {
  static name = 'KeyMissingError'
  name = 'KeyMissingError'
  code = 'ERR_KEY_MISSING'
}

/** The repo is already used by a running peer. */
export class RepoLockedError extends IonNetError {
  static name = 'RepoLockedError'
  name = 'RepoLockedError'
  code = 'ERR_REPO_LOCKED'
}

/** The API refused the token. */
export class UnauthorizedError extends IonNetError {
  static name = 'UnauthorizedError'
  name = 'UnauthorizedError'
  code = 'ERR_UNAUTHORIZED'
}

/** No peer (this one included) could store some block of a put; the message gives the first reason. */
export class StoreFailedError extends IonNetError {
  static name = 'StoreFailedError'
  name = 'StoreFailedError'
  code = 'ERR_STORE_FAILED'
}

/** The API already serves as many event streams as it allows; try again when one closes. */
export class BusyError extends IonNetError {
  static name = 'BusyError'
  name = 'BusyError'
  code = 'ERR_BUSY'
}
