/**
 * Errors of the lab, with stable names and codes.
 */

/** Base of every lab error: `code` is stable, for scripts and tests to match. */
export class LabError extends Error {
  static name = 'LabError'
  name = 'LabError'
  code: string = 'ERR_LAB'
}

/** This machine cannot host a lab: not root, no `ip`, or network namespaces are not allowed here. */
export class NamespacesUnavailableError extends LabError {
  static name = 'NamespacesUnavailableError'
  name = 'NamespacesUnavailableError'
  code = 'ERR_NETNS_UNAVAILABLE'
}

/** An `ip` or `tc` command failed; the message carries the command line and its stderr. */
export class LabCommandError extends LabError {
  static name = 'LabCommandError'
  name = 'LabCommandError'
  code = 'ERR_LAB_COMMAND'
  readonly command: string
  readonly stderr: string

  constructor (command: string, stderr: string) {
    super(`${command} failed: ${stderr.trim() || 'no message'}`)
    this.command = command
    this.stderr = stderr
  }
}

/** A host number or option that the lab cannot use (no such host, a host in two groups, a bad rate). */
export class LabUsageError extends LabError {
  static name = 'LabUsageError'
  name = 'LabUsageError'
  code = 'ERR_LAB_USAGE'
}

/** A peer process exited or stayed silent instead of starting. */
export class PeerStartError extends LabError {
  static name = 'PeerStartError'
  name = 'PeerStartError'
  code = 'ERR_PEER_START'
}

/** A CLI command run in a host exited with an error. */
export class HostCommandError extends LabError {
  static name = 'HostCommandError'
  name = 'HostCommandError'
  code = 'ERR_HOST_COMMAND'
  readonly exitCode: number
  readonly stderr: string

  constructor (message: string, exitCode: number, stderr: string) {
    super(message)
    this.exitCode = exitCode
    this.stderr = stderr
  }
}

/** A host's peer API answered a request with an error, or could not be reached; `remoteCode` is its error code. */
export class HostApiError extends LabError {
  static name = 'HostApiError'
  name = 'HostApiError'
  code = 'ERR_HOST_API'
  readonly remoteCode: string

  constructor (message: string, remoteCode: string) {
    super(message)
    this.remoteCode = remoteCode
  }
}

/** A condition was not met before its deadline. */
export class DeadlineError extends LabError {
  static name = 'DeadlineError'
  name = 'DeadlineError'
  code = 'ERR_DEADLINE'
}
