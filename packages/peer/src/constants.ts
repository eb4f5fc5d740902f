/**
 * Every default of the peer lives here, built from units, each with its reason.
 */

export const KiB = 1024
export const MiB = 1024 * KiB
export const GiB = 1024 * MiB
export const second = 1000
export const minute = 60 * second
export const hour = 60 * minute

/**
 * Wire protocol of chunk transfers; the version moves when the message shapes change, or what a chunk stream needs
 * of the connection: 2.0.0 streams carry 2 MiB chunks in a 4 MiB yamux window (STREAM_WINDOW), which a 1.0.0 peer,
 * opening 2 MiB windows, would overrun and reset mid-chunk; in 3.0.0 a put sends its bytes with the request instead
 * of after the receiver's answer; in 4.0.0 the receiver of a put reports how many of its bytes arrived until it
 * answers (PUT_PROGRESS_INTERVAL), which a 3.0.0 sender would take for its answer. Mixed versions fail at
 * negotiation, saying so. A put's chain of peers to pass it on to (`forward`) and its answer's count of copies came
 * within 4.0.0: a peer without them ignores the one and leaves out the other, and senders allow for that (storeAlong).
 */
export const CHUNK_PROTOCOL = '/ionnet/chunk/4.0.0'

/** Our own DHT, so IonNet peers never join (or pollute) the public IPFS DHT. */
export const DHT_PROTOCOL = '/ionnet/kad/1.0.0'

/**
 * Kademlia's K: the peers a provider record goes to, and the size of a routing-table bucket. kad-dht takes 20 from the
 * public IPFS DHT, tens of thousands of peers under heavy churn; in IonNet the DHT only backs up placement, which
 * finds a chunk without it. Each provide asks the K nearest peers and then stores a record on each, so K sets the
 * work every announced chunk costs the network: at 50 peers on this machine, provides took 141.3 ms median (p95 290)
 * with 10 against 284.7 (748.6) with 20, alternating on one network. Ten copies of a record, refreshed hourly, still
 * outlive the loss of most of the peers that hold them.
 */
export const DHT_K = 10

/** Protocol version announced in heartbeats so peers can tell old software apart. */
export const PROTOCOL_VERSION = 1

/** Gossipsub topic that carries heartbeats. */
export const HEARTBEAT_TOPIC = 'ionnet/heartbeat/1'

/** Default repo folder when neither --repo nor IONNET_REPO is given. */
export const DEFAULT_REPO_NAME = '.ionnet'

/** Listen on every interface so other devices can reach this one; a fixed port so bootstrap lists stay valid across restarts. */
export const DEFAULT_LISTEN = ['/ip4/0.0.0.0/tcp/7878']

/** The API only answers on loopback unless the user explicitly binds elsewhere. */
export const DEFAULT_API = '127.0.0.1:7870'

/** Three copies survive two simultaneous device losses, the usual bar for consumer hardware. */
export const DEFAULT_REPLICAS = 3

/** Largest replica count accepted from a request; more copies than this only waste others' disks. */
export const MAX_REPLICAS = 16

/** Largest chunk a peer accepts: chunks are 2 MiB by default and the manifest caps them at 16 MiB, but we keep streams' buffers small. */
export const MAX_CHUNK_SIZE = 4 * MiB

/** Room for the CBOR header that travels next to a chunk. */
export const MAX_HEADER_SIZE = 16 * KiB

/**
 * Yamux receive window of a fresh stream, which js-yamux also takes as the other side's: it must be the same on
 * every IonNet peer (a peer that assumed 2 MiB would overrun another's 256 KiB and be reset). With yamux's 256 KiB
 * a 1 MiB chunk crossed in at least four frames, each sent only after the window update the previous one caused
 * (a fresh stream per chunk never lives long enough for yamux to grow its window); a 256 MiB get ran at 98–105
 * MiB/s with the memory governor off, and at 100–124 with a 2 MiB window (3 runs each, same hour). Chunks are 2 MiB
 * now, so the window is 4 MiB: a whole chunk and its header still cross without waiting for one.
 */
export const STREAM_WINDOW = 4 * MiB

/**
 * Bytes of copies a put has in flight from this peer: 6 copies of 2 MiB, so 6 chunks at a time with one copy each, 3
 * with two, 2 with three, where this peer sends every copy itself (to peers on this machine); a chain to peers on other
 * machines sends a chunk once, whatever its copies, so there a put keeps 6 chunks moving. The windows count bytes, not
 * chunks, because what a transfer holds decides when the memory governor starts forcing collections: with 2 MiB chunks
 * and the old windows of 6 and 4 chunks, an uploader and a reader crossed its budget and spent up to 1.2 CPU-seconds
 * per 256 MiB in forced collections (a reader's CPU per 256 MiB get 1.08–1.63 s against 1.54–2.04 with byte windows). A
 * put's window counted chunks whatever their copies until 2026-11-26, 3 of them: a put with one copy had 3 transfers in
 * flight where one with three had 9. Alternating 256 MiB puts on one network: with one copy and 6 chunks 123.5–162.9
 * MiB/s against 100.2–129.2 with 3 (5 of each), 134.1–156.8 with 8 (against 121.4–135.3, the uploader's CPU 1.46–1.60 s
 * against 1.29–1.47); with three copies and 2 chunks 69.7–79.5 against 64.8–80.8 (4 of each, the uploader's CPU
 * 1.93–2.20 s against 1.99–2.51), while 6 chunks of three copies ran at 55.6–59.8 against 54.3–79.4.
 */
export const PUT_WINDOW_BYTES = 12 * MiB

/**
 * Bytes of chunks fetched ahead during a get (3 chunks of 2 MiB); the output is still written in order. 4 MiB cost a
 * reader on loopback less CPU (1.2–1.88 s per 256 MiB get against 1.37–2.14, 6 gets each), but with only two chunks
 * in flight a get through a 10 Mbit/s link stalled now and then: 5 MiB took 4.47–9.4 s over 5 runs, against
 * 4.46–6.7 s in 12 runs with three (probably TCP's slow start restarting on a connection left idle; not traced).
 */
export const GET_WINDOW_BYTES = 6 * MiB

/** A window never holds fewer chunks than this, however large they are, so one slow chunk does not stall a transfer. */
export const MIN_WINDOW = 2

/** Nor more than this, however small they are: each chunk in flight is a stream. */
export const MAX_WINDOW = 32

/** How long a chunk exchange may wait for the other side's next bytes before the peer is treated as stalled. */
export const CHUNK_TIMEOUT = 20 * second

/**
 * A fetch also fails once its peer has sent nothing at all, on any connection, for this long, though chunk bytes keep
 * coming from other peers (which CHUNK_TIMEOUT's silence counts). A frozen holder (a suspended laptop, a hung process)
 * keeps its connection open and answers nothing, and a get's in-order window waited on it until nothing came from
 * anyone for CHUNK_TIMEOUT, or until membership took it for dead (15 s on a small network, 37.5 s at 50 peers). Longer
 * than TCP starved one peer of a link shared with others in netlab's gets (over 4 s); a store is left to CHUNK_TIMEOUT,
 * since its request may wait behind this peer's own chunks on a slow uplink before the other side hears of it.
 */
export const PEER_SILENCE = 8 * second

/**
 * A fetch whose peer has sent nothing at all for this long, since the fetch began, asks the next candidate as well,
 * and takes whichever answer comes first. The silent exchange goes on meanwhile: the peer may be the only holder, or
 * just slow to start. A holder frozen while a get asked it for a chunk held the get's in-order window until
 * PEER_SILENCE ended the exchange: a get started at the freeze took 8.3 s instead of half a second. 1 s is fifty
 * times a chunk's round trip on loopback (20 ms). A peer that TCP starves of a slow link shared with others can be
 * silent longer (over 4 s in netlab's gets); there the second request costs the link one more chunk.
 */
export const HEDGE_SILENCE = 1 * second

/**
 * Bytes per second below which the bytes this peer sends count as stuck: 256 kbit/s. An exchange that sends may take
 * CHUNK_TIMEOUT plus what every byte this peer is sending at its start, its own included, and every byte it begins to
 * send while the exchange runs, needs at this rate, since they all share one uplink: a put from a 2 Mbit/s uplink with
 * 24 transfers of 256 KiB in flight takes about 27 s, and bounded by its own size alone, the manifest's exchange (a
 * few hundred bytes, queued behind the chunks) failed after CHUNK_TIMEOUT. This bounds a peer that trickles; a stall
 * shows sooner, as silence (watchdog.ts, PUT_PROGRESS_INTERVAL).
 */
export const MIN_TRANSFER_RATE = 32 * KiB

/**
 * How often the receiver of a put reports how many of its bytes arrived, until it answers: while they arrive, and
 * while its disk takes them. The sender cannot see its bytes leave (libp2p does not say when its buffers drain), so
 * these reports are how it tells a slow link or a slow disk from a stalled peer, by silence as a reader does
 * (watchdog.ts). On loopback a 2 MiB chunk is stored and answered in milliseconds, and no report is sent.
 */
export const PUT_PROGRESS_INTERVAL = 1 * second

/** How long to look for providers of one chunk on the DHT. */
export const FIND_PROVIDERS_TIMEOUT = 8 * second

/** Providers considered per chunk; more would only add DHT traffic. */
export const MAX_PROVIDERS = 8

/** ms between writes of changed libp2p peer records to the repo: the peer store rewrites them many times a second. */
export const PEER_RECORD_FLUSH = 5 * second

/** Peers from an earlier run dialed at start; any one of them reconnects us to the network. */
export const REMEMBERED_DIALS = 8

/** A peer with no connection dials its bootstrap and remembered peers again after this, then twice as long each time up to REJOIN_MAX_WAIT. */
export const JOIN_MIN_WAIT = 1 * second

/**
 * Gossip mesh neighbours per peer (gossipsub's D, held between D - 1 and D + 1). Heartbeats are flood-published, so
 * the mesh only carries them to peers the publisher has no connection to. Random meshes of degree 3 are connected
 * with high probability (of degree 2 they often fall apart), and IHAVE gossip repairs the rest.
 */
export const GOSSIP_MESH_DEGREE = 3

/** Peers outside the mesh told each gossip round which heartbeats we have (gossipsub's Dlazy). */
export const GOSSIP_LAZY_DEGREE = 3

/** Concurrent DHT provide operations, so announcing thousands of chunks never floods the network. */
export const ANNOUNCE_CONCURRENCY = 4

/**
 * ms of quiet chunk traffic announcements wait for, at least. A provide costs a DHT query and a stream to each close
 * peer, on every peer holding a copy; run during a put, they took most of the CPU the put needed (256 MiB with 3
 * replicas: 9.4 MiB/s, deferred 21.8). The burst after the put leaves heap garbage the memory governor collects.
 */
export const ANNOUNCE_QUIET = 500

/**
 * ...and this many ms per live peer, up to ANNOUNCE_QUIET_MAX. A put spreads its chunks over the whole network, so
 * each holder's chunks come further apart the more peers there are: with a fixed half second, holders of a put in a
 * larger network announced between its chunks, and on one machine their DHT queries took the CPU the put needed,
 * slowing it and opening longer gaps. A 64 MiB put with 3 replicas from a peer of 20 on one machine ran at
 * 5.0–12.7 MiB/s for 9.9–25.1 CPU-seconds with half a second, 36.3–55.1 for 2–3.3 with 3 s (6 puts each); from a
 * peer of 50, 2.7–4.3 with half a second, 4.1–5.8 with 3 s and 12.6–28.2 with 10 s (2 each). With 200 ms per peer
 * (3.8 s at 20, 9.8 s at 50): 29.1–36.3 MiB/s for 3.2–3.9 CPU-seconds at 20 (2 puts), 9.1–24.1 for 5–13.6 at 50 (4
 * puts; each network's first is the slower, opening connections). Waiting longer only delays provider records, which
 * a fresh copy does not need: getters ask the peers placement names first.
 */
export const ANNOUNCE_QUIET_PER_PEER = 200

/** The longest quiet announcements wait for. */
export const ANNOUNCE_QUIET_MAX = 10 * second

/** ...but never wait longer than this under continuous load. */
export const ANNOUNCE_MAX_DEFER = 30 * second

/** A provide that failed is retried after this long. */
export const ANNOUNCE_RETRY = 30 * second

/** Heartbeat interval; a peer is dead after DEAD_AFTER_MISSED missed beats. */
export const HEARTBEAT_INTERVAL = 5 * second

/**
 * Up to this many live peers, each beats at its set interval; beyond, each one's interval grows with the count, so
 * the network carries about this many beats per interval however large it grows. Every heartbeat reaches every
 * peer, so at a fixed interval each peer's share of the traffic grows with the network: 50 idle peers on one
 * machine took 3.1% of a core each with 5-s beats (and saturated the two cores, so that is a floor), 1.7% with 60-s
 * beats. Silence is judged by the interval the peer's own last beat named, so a larger network takes longer to
 * call a peer dead: 3 × 12.5 s at 50 peers.
 */
export const HEARTBEAT_PEERS = 20

/** A peer that just subscribed hears from us sooner than our next beat, but a burst of joins costs one extra beat per this long. */
export const EARLY_BEAT_GAP = 1 * second

/** Longest interval a heartbeat may name (receivers drop longer ones). */
export const MAX_HEARTBEAT_INTERVAL = hour

/** Three missed beats tolerate a lost message or a busy event loop without flapping. */
export const DEAD_AFTER_MISSED = 3

/**
 * A live peer is overdue once nothing at all has come from it, neither a heartbeat nor any other bytes, for its
 * interval plus this share of it (at least OVERDUE_SLACK): it missed a beat. Puts and gets then turn to it only
 * after every peer that is on time. A peer frozen moments ago (a laptop suspended, a hung process) keeps its
 * connections open and answers nothing, and stays alive for the whole dead-after time; a put that picked it waited
 * on it until then: 12.7–14.7 s for 16 MiB right after a get had already given up on it, with the default 5-s beats.
 * Being overdue only reorders peers, so a peer that is merely slow to beat still gets its copies when others cannot
 * take them, and a peer that sends anything is on time again.
 */
export const OVERDUE_AFTER = 0.5

/** The least time past its interval a peer may stay silent before it is overdue: fast test beats jitter too. */
export const OVERDUE_SLACK = 1 * second

/**
 * libp2p's connection monitor pings each connection this often and drops one whose ping fails. Each ping is a new
 * stream on both ends, and a peer holds a connection to most others: 50 idle peers took 1.83–1.91% of a core each
 * with no monitor against 2.08–2.41 with pings every 30 s (alternating runs, same hour). Heartbeats catch a silent
 * peer (membership.ts hangs up and redials it), so the monitor is only the backstop for a connection nobody uses.
 */
export const CONNECTION_PING_INTERVAL = 2 * minute

/**
 * yamux's own keep-alive pings every connection from both ends, every 30 s by default: with about 40 connections
 * a peer sent 3.3 pings and as many answers a second, a sixth of its frames when idle. The connection monitor above
 * already pings each connection, so yamux pings as rarely (50 idle peers: 1.40–1.77% of a core each against
 * 1.77–1.80 at 30 s, alternating runs).
 */
export const YAMUX_KEEPALIVE_INTERVAL = CONNECTION_PING_INTERVAL

/** Ping streams per connection: one for the DHT's contact checks, one for the connection monitor (see node.ts). */
export const PING_MAX_OUTBOUND = 2

/** ...and both of the remote's, with one to spare for a stream still closing. */
export const PING_MAX_INBOUND = 3

/** A peer silent over an open connection is hung up on and dialed again; the dial may take this long. */
export const REDIAL_TIMEOUT = 10 * second

/** A dead peer with no connection left is dialed again for this long after it was last heard from... */
export const REJOIN_WINDOW = hour

/** ...first after its dead-after time, then waiting twice as long each time, up to this. */
export const REJOIN_MAX_WAIT = minute

/** Provider records stay valid for this long; peers re-announce well before (see REPROVIDE_THRESHOLD). */
export const PROVIDER_VALIDITY = 24 * hour

/** Re-announce own records once they are this close to expiry. */
export const REPROVIDE_THRESHOLD = 12 * hour

/** How often the DHT checks for records to re-announce. */
export const REPROVIDE_INTERVAL = hour

/**
 * Force a collection once buffers and heap have grown this much since the last one (see memory-governor.ts)...
 * At 16 MiB the governor fired on the ordinary swing of chunks in flight, and a forced collection seems to leave
 * V8 collecting the old generation more often on its own: a 256 MiB get took 7–10 CPU-seconds across the peers
 * against 5.3–5.5 with no governor (same hour, same machine); at 48 MiB it fired 9 times in a put and three gets
 * of 256 MiB, against 34. Since the heap may grow to twice its live size (HEAP_GROWING_PERCENT), 48 MiB let an
 * uploader's heap reach 103 MiB and its RSS 292–304 MiB in a 1 GiB put; at 32 MiB its peak was 266 (2 runs each).
 */
export const MEMORY_GC_STEP = 32 * MiB

/**
 * V8 lets the old generation grow to (1 + this/100) times what survived the last full collection before it starts
 * the next one. Left to choose, it allowed about 1.2 times on a peer's 40–50 MB heap, and a peer serving chunks then
 * ran a full collection every 200–400 ms: 10–13 in a 256 MiB get, 0.4–1 s of its CPU. At 100 (twice the live heap)
 * it ran none; get went from 65–67 to 98–115 MiB/s and put with 3 replicas from 27–32 to 38–47 (256 MiB, two
 * alternating runs each). At 50 a 1 GiB get ran at 85 MiB/s against 118–127 at 100.
 */
export const HEAP_GROWING_PERCENT = 100

/**
 * ...and only when the process holds more resident memory than this: below it, V8's own collections keep up without
 * stopping the world. 224 MiB leaves room under the 300 MiB a peer may use while moving a 1 GiB file.
 */
export const MEMORY_BUDGET = 224 * MiB

/** How often the memory governor looks; reading the counters costs microseconds. */
export const MEMORY_CHECK_INTERVAL = 100

/** Peers `ionnet devnet` starts when not told: enough for 3 replicas with two peers to spare for killing. */
export const DEVNET_PEERS = 5

/** Heartbeat of devnet peers: a killed peer is noticed (and repaired) in seconds, which the playground is for. */
export const DEVNET_HEARTBEAT = 1 * second

/** How long a devnet waits for one of its peers to print its identity. */
export const DEVNET_START_TIMEOUT = 60 * second

/**
 * Node flags for peer processes. A small young generation: chunk buffers otherwise let V8 grow it to ~100 MiB
 * during transfers, and an idle peer answering DHT traffic during a 256 MiB put grew to 282 MiB RSS without it
 * against 157 MiB with it. V8 reads it only at start-up, so it rides on the command line (also in bin.js's
 * shebang and in .npmrc for npm scripts).
 */
export const PEER_NODE_FLAGS = ['--max-semi-space-size=2']

/** Tries at storing a block on one peer before the next candidate is asked (a refusal is never retried). */
export const STORE_ATTEMPTS = 2

/** The dashboard pushes a snapshot this often: live enough to watch a repair, cheap to serialise. */
export const SNAPSHOT_INTERVAL = second

/** Each watched file's live copies are recounted this often (one `has` request per candidate peer). */
export const DASHBOARD_REFRESH = 2 * second

/** The dashboard follows this many of the peer's most recent files; older ones are listed by `ionnet ls`. */
export const DASHBOARD_FILES = 16

/** Blocks recounted per second over all files: each costs a stat and a read on every peer asked, so watching many files never starves heartbeats. */
export const DASHBOARD_BLOCK_BUDGET = 1024

/** A strip shows at most this many blocks; a larger file is drawn from an even sample of its blocks. */
export const STRIP_MAX_BLOCKS = 1024

/** A census or manifest fetch for the dashboard gives up after this long and tries again later. */
export const DASHBOARD_CENSUS_TIMEOUT = 5 * second

/** Repairs kept for the dashboard's list, newest first. */
export const RECENT_REPAIRS = 50

/** Transfer rates are averaged over this window: smooth enough to read, recent enough to follow a transfer. */
export const RATE_WINDOW = 5 * second

/** An SSE comment this often keeps proxies and idle timeouts from closing a quiet stream. */
export const SSE_KEEPALIVE = 15 * second

/** Browsers reconnect this long after a dropped event stream (the SSE `retry:` field). */
export const SSE_RETRY = 2 * second

/** Event streams open at once; a dashboard uses one per tab. */
export const MAX_EVENT_CLIENTS = 16

/** An event stream whose client reads slower than this much backlog is closed (it reconnects). */
export const MAX_EVENT_BACKLOG = 4 * MiB

/** A dashboard session cookie lasts this long; the page gets a new one from its token when it lapses. */
export const SESSION_TTL = 12 * hour

/** Sessions kept at once; the oldest goes first. A browser tab holds one. */
export const MAX_SESSIONS = 64

/** Addresses of this machine as gossipsub sees its peers: exempt from its same-IP penalty (see node.ts). */
export const LOOPBACK_IPS = ['127.0.0.1', '::1']

/** Room kept in a chunk frame for what encryption adds to a chunk (a 12-byte nonce, a 16-byte tag) and then some. */
export const CHUNK_OVERHEAD = 1 * KiB
