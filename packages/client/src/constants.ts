/**
 * Every default and wire name of the client, each with its reason.
 */

export const KiB = 1024
export const MiB = 1024 * KiB

/** The file a running peer writes into its repo (mode 0600) so that clients on this machine find its API and token. */
export const API_INFO_FILE = 'api.json'

/** Every endpoint lives under this prefix; the version moves when answers change incompatibly. */
export const API_PREFIX = '/api/v1'

/** Response headers of a download: the file's name (URI-encoded) and size, known before the first byte. */
export const NAME_HEADER = 'x-ionnet-name'
export const SIZE_HEADER = 'x-ionnet-size'

/** Trailer that tells whether a download ended whole: `ok`, or the URI-encoded JSON error, since the status line is long gone. */
export const STATUS_TRAILER = 'x-ionnet-status'

/** Bytes and buffers are sent in slices of this size: small enough for smooth progress, large enough to cost nothing. */
export const UPLOAD_SLICE = 1 * MiB

/** Hosts that mean "this machine": only then may the peer be handed file paths to read or write itself. */
export const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]']
