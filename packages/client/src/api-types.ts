/**
 * The HTTP API's contract: the shapes its endpoints answer with. The peer imports these types (type-only) to build
 * its answers, so a field added or renamed here fails the peer's type check until both sides agree.
 */

/** What `<repo>/api.json` holds: where a running peer's API answers, and its token. */
export interface ApiInfo {
  /** Base URL of the API, e.g. `http://127.0.0.1:7870`. */
  url: string
  /** Bearer token every request needs. */
  token: string
  /** Process ID of the peer that wrote the file. */
  pid: number
}

/** `GET /api/v1/id`: a running peer's identity and addresses. */
export interface PeerIdentity {
  peerId: string
  addrs: string[]
  /** Chunks and bytes this peer stores for the network. */
  chunks: number
  bytes: number
  /** Bytes it offers to store; null when unlimited. */
  capacity: number | null
  /** True when the peer only talks to peers holding its swarm key. */
  private: boolean
  /** ms between this peer's heartbeats now: its set interval, longer in a network of many peers. */
  heartbeatMs: number
  /** Heartbeats dropped for a bad signature, shape or sequence number. */
  heartbeatsDropped: number
  /** Chunks waiting to be announced on the DHT, or being announced now; announcements wait for quiet traffic. */
  announcing: number
}

/** A row of `GET /api/v1/peers`: a known peer, alive or dead, and whether we hold a connection to it. */
export interface PeerSummary {
  peerId: string
  alive: boolean
  /**
   * Alive, but it missed its last heartbeat and nothing else came from it since: it may be frozen (a suspended
   * laptop, a hung process). Puts and gets turn to it only after the peers that are on time.
   */
  overdue: boolean
  connected: boolean
  /** ms since its last heartbeat. */
  lastSeenMs: number
  /** The interval its last heartbeat named; it counts as dead after the dead-after count of these in silence. */
  heartbeatMs: number
  addrs: string[]
  chunks: number
  bytes: number
  /** Bytes it can still take; null when unlimited. */
  free: number | null
}

/** A row of `GET /api/v1/files`: one file this peer put, with enough to rebuild its link and list it. */
export interface FileEntry {
  link: string
  cid: string
  name: string
  size: number
  chunks: number
  replicas: number
  /** ISO 8601 time of the put. */
  added: string
}

/** `POST /api/v1/put`: the link to share, and how many copies the put could make. */
export interface PutResult {
  link: string
  cid: string
  name: string
  size: number
  chunks: number
  replicas: number
  /** Fewest copies any block of the file got (manifest blocks included). */
  minCopies: number
  /** Set when some block got fewer copies than asked for. */
  warning?: string
}

/** `GET /api/v1/get?output=`: the file the peer wrote on this machine. */
export interface GetToResult {
  name: string
  size: number
  /** Absolute path of the file written. */
  output: string
}

/** `GET /api/v1/health`: how well a file is replicated right now. */
export interface HealthReport {
  cid: string
  name: string
  size: number
  /** Blocks of the file: data chunks plus manifest blocks. */
  blocks: number
  /** Replica count the uploader asked for. */
  replicas: number
  /** Fewest, median and most live copies over all blocks. */
  min: number
  median: number
  max: number
  /** Blocks with fewer live copies than `replicas`. */
  underReplicated: number
  /** Blocks with no live copy at all. */
  missing: number
  /** Live copies of every block, in file order (root first). */
  copies: number[]
}

/** The body of every error answer, and of a failed download's `x-ionnet-status` trailer (URI-encoded JSON of `error`). */
export interface ApiErrorBody {
  error: {
    /** A stable code from `ERROR_CODES`. */
    code: string
    message: string
    /** CIDs of the chunks found on no live peer (`ERR_FILE_UNAVAILABLE`). */
    missing?: string[]
  }
}

/** One message of `GET /api/v1/events` (server-sent events): its `event:` type and its `data:` parsed as JSON. */
export interface ApiEvent<T = unknown> {
  type: string
  data: T
  /** The message's `id:`, when the server sent one. */
  id?: string
}

/** `data` of a `repair` event: one copy the healer made or moved. */
export interface RepairEventData {
  cid: string
  /** Peer the bytes came from, and peer that received them. */
  from: string
  to: string
  ms: number
  bytes: number
  reason: 'repair' | 'rebalance' | 'scrub'
  /** When it finished, in ms since the epoch. */
  at: number
}

/** `data` of a `snapshot` event, sent about once a second for the dashboard; its parts are the dashboard's to define. */
export interface SnapshotEventData {
  peers: unknown
  files: unknown
  rates: unknown
  repairs: unknown
}
