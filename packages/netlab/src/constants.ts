/**
 * Every default of the lab, built from units, each with its reason.
 */

export const KiB = 1024
export const MiB = 1024 * KiB
export const second = 1000
export const minute = 60 * second

/** Every namespace of every lab starts with this, so a later run can find what a crashed one left behind. */
export const LAB_PREFIX = 'ionlab-'

/**
 * Hosts get 198.18.0.<n>/24: 198.18.0.0/15 is reserved for benchmarking networks (RFC 2544) and never routed on the
 * internet, so no lab address can shadow a real one, and the namespaces have no route out anyway.
 */
export const SUBNET = '198.18.0.0/24'

/** First three octets of every host address; host n is `${SUBNET_BASE}${n}`. */
export const SUBNET_BASE = '198.18.0.'

/** Prefix length of the host addresses: one /24 holds the switch's whole broadcast domain. */
export const SUBNET_PREFIX = 24

/** Hosts a lab can have: one /24 minus the network and broadcast addresses, with room to spare. */
export const MAX_HOSTS = 250

/** TCP port every peer listens on; each host has its own address, so all can use the same one. */
export const PEER_PORT = 4001

/** Port of every peer's HTTP API on its own namespace's 127.0.0.1. */
export const API_PORT = 5001

/** Interface name of a host's end of its cable, inside the host's namespace. */
export const HOST_IFACE = 'eth0'

/** The switch's main bridge; partitions add br1, br2, ... for the other groups. */
export const MAIN_BRIDGE = 'br0'

/** Lab records (owner pid and folders) live here: tmpfs like /run/netns, so both vanish together at reboot. */
export const STATE_DIR = '/run/ionnet-lab'

/** A namespace with our prefix but no lab record is only removed once this old, so a lab being created is left alone. */
export const ORPHAN_AGE = 30 * second

/** Heartbeat of lab peers: five times the default, so faults are noticed within seconds. */
export const HEARTBEAT = 1 * second

/** Missed beats before a peer is dead: one more than the default, since a 2-core machine runs a dozen peers. */
export const DEAD_AFTER = 4

/** Healer pass interval of lab peers: membership changes start passes anyway, this catches what they miss. */
export const HEAL_INTERVAL = 2 * second

/** Peers started at once: libp2p refuses inbound handshakes beyond 10 pending, and a refused peer dials again only after a wait. */
export const START_BATCH = 4

/** How long a peer may take to print its identity; Node and libp2p start slowly on a busy 2-core machine. */
export const START_TIMEOUT = 60 * second

/** Deadline of a CLI command run in a host. */
export const COMMAND_TIMEOUT = 2 * minute

/** How long every peer may take to see every other one alive. */
export const MESH_TIMEOUT = 60 * second

/**
 * tbf queue depth as time at the limited rate: TCP needs a queue of about one bandwidth-delay product to fill the
 * link; shorter queues drop packets and a get runs well below the limit.
 */
export const TBF_LATENCY = '100ms'

/** Smallest tbf bucket: at least a few full-size packets, or the shaper stalls on every GSO burst. */
export const TBF_MIN_BURST = 32 * KiB

/** Log lines kept per peer process, for error messages. */
export const LOG_LINES = 500
