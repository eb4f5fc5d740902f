/** Defaults of the healer, each with its reason. */

const second = 1000
const MiB = 1024 * 1024

/** A full check of every held chunk this often, besides the checks that membership changes trigger at once. */
export const CHECK_INTERVAL = 30 * second

/** Wait this long after a peer dies or joins before checking, so one burst of changes costs one pass. */
export const SETTLE_DELAY = 200

/** A chunk that needed work while scrub was verifying it is looked at again this soon, not at the next full pass. */
export const BUSY_RETRY = second

/** Repairs in flight at once: enough to heal quickly, few enough that puts and gets keep their share. */
export const REPAIR_CONCURRENCY = 4

/** Bytes per second that repairs may send; healing must never starve the user's own transfers. */
export const REPAIR_BANDWIDTH = 64 * MiB

/** Copies tolerated above the replica count before the farthest holder drops its copy; avoids copy/drop flapping while peers come and go. */
export const SURPLUS_MARGIN = 1

/** Chunks re-verified per second by scrub; a full pass over 10 000 chunks takes under an hour and costs little I/O. */
export const SCRUB_RATE = 4

/**
 * A scrub pass starts at most this often. Without a floor a peer holding a handful of chunks read and hashed each of
 * them four times a second, forever: in a 50-peer network on one machine, after a put left a few chunks on each
 * peer, sha2-256 was 6% of the machine's CPU samples (perf) while nothing happened. A day is the usual pace of a
 * disk scrub; a copy that rots in between is still caught by the next get that reads it, which verifies every byte.
 */
export const SCRUB_INTERVAL = 24 * 60 * 60 * second

/** Peers asked per chunk when looking for holders beyond the replica count and margin. */
export const EXTRA_CANDIDATES = 3
