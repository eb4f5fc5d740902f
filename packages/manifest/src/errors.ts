/** A link string or Link object is malformed. */
export class InvalidLinkError extends Error {
  static readonly code = 'ERR_INVALID_LINK'
  readonly code = InvalidLinkError.code

  constructor (reason: string) {
    super(`invalid IonNet link: ${reason}`)
    this.name = 'InvalidLinkError'
  }
}

/** The manifest key does not open the root block. */
export class WrongKeyError extends Error {
  static readonly code = 'ERR_WRONG_KEY'
  readonly code = WrongKeyError.code

  constructor (message = 'cannot decrypt the manifest: wrong key, or the CID is not an IonNet manifest') {
    super(message)
    this.name = 'WrongKeyError'
  }
}

/** A manifest record or node decrypted but does not have the shape format version 1 requires. */
export class InvalidManifestError extends Error {
  static readonly code = 'ERR_INVALID_MANIFEST'
  readonly code = InvalidManifestError.code

  constructor (reason: string) {
    super(`invalid manifest: ${reason}`)
    this.name = 'InvalidManifestError'
  }
}

/** Block bytes do not match their CID, or fail authentication under the key their position derives. */
export class ChunkIntegrityError extends Error {
  static readonly code = 'ERR_CHUNK_INTEGRITY'
  readonly code = ChunkIntegrityError.code

  constructor (reason: string) {
    super(reason)
    this.name = 'ChunkIntegrityError'
  }
}

/** The reassembled file has the wrong size or the wrong whole-file sha2-256. */
export class FileIntegrityError extends Error {
  static readonly code = 'ERR_FILE_INTEGRITY'
  readonly code = FileIntegrityError.code

  constructor (reason: string) {
    super(reason)
    this.name = 'FileIntegrityError'
  }
}
