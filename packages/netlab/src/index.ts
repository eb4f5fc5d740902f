/**
 * @packageDocumentation
 *
 * Netlab: an emulated network of real hosts on one Linux machine. Each host is a network namespace with its own
 * address on 198.18.0.0/24, cabled by a veth pair to a virtual switch (a Linux bridge in a namespace of its own),
 * and runs a real `ionnet peer start`. Faults act on the kernel's network and on the processes: cut a cable,
 * partition the switch, limit a link's bandwidth with tbf, kill, pause or restart a peer. Needs root and iproute2.
 *
 * @example
 *
 * ```ts
 * import { createLab, sha256File } from '@ionnet/netlab'
 *
 * const lab = createLab({ hosts: 5, heartbeat: 500 })
 * try {
 *   await lab.start()                                   // namespaces, switch, 5 peers, every peer sees the others
 *   const file = await lab.randomFile('a.bin', 4 * 1024 * 1024)
 *   const { link } = await lab.put(1, file.path, { replicas: 3 })
 *   await lab.partition([[1, 2, 3], [4, 5]])            // h4 and h5 can no longer reach h1..h3
 *   const got = await lab.get(2, link)                  // still served on the majority side
 *   console.log(got.rate, (await sha256File(got.output)) === file.sha256)
 *   await lab.heal()
 * } finally {
 *   await lab.destroy()                                 // processes, namespaces, folders: all gone
 * }
 * ```
 */

/** The lab: hosts, switch, peers and every fault; createLab() builds one, start() brings it up. */
export { Lab, createLab } from './lab.ts'
/** Helpers around the lab's operations: check a file's bytes, print and parse link rates (10mbit). */
export { sha256File, formatRate, parseRate } from './lab.ts'
/** Shapes of the lab's settings and of what its operations answer. */
export type { LabInit, HostRef, GetResult, Health, PeerRow, PutAnswer } from './lab.ts'
/** One host and its peer process: start, stop, kill, pause, resume, and CLI commands inside its namespace. */
export { LabHost } from './host.ts'
export type { CommandResult, PeerEvent, HostInit } from './host.ts'
/** The wires: namespaces, veth cables, bridges, tbf; the lab drives it, scripts rarely need it directly. */
export { Network } from './network.ts'
export type { LinkRates, PortState } from './network.ts'
/** Whether this machine can run labs (Linux, root, iproute2, namespaces allowed); tests skip on its reason. */
export { checkSupport } from './support.ts'
export type { Support } from './support.ts'
/** Labs on this machine, and removal of those whose owner died. */
export { findLabs, removeLab, removeStaleLabs } from './registry.ts'
export type { LabRecord, LabSighting } from './registry.ts'
/** Waiting on conditions with deadlines, never on fixed sleeps. */
export { waitFor, sleep } from './wait.ts'
export type { WaitOptions } from './wait.ts'
/** What scenarios measure: stored files, read probes, heal times, repairs, and how to print them. */
export {
  storeFiles, readFile, ReadProber, HealMonitor, waitReplicated, repairFigures, isolatingGroup,
  percentile, seededRandom, table, formatBytes
} from './figures.ts'
export type { StoredFile, FileAvailability, ReplicationWait, TimedFault } from './figures.ts'
/** The shape of a scenario script (packages/netlab/scenarios/*.ts), for the `ionnet-lab` CLI. */
export { defineScenario } from './scenario.ts'
export type { Scenario, ScenarioOption, ScenarioContext, Verdict, OptionKind } from './scenario.ts'
/** Named errors with stable codes (ERR_NETNS_UNAVAILABLE, ERR_LAB_COMMAND, ...). */
export * from './errors.ts'
/** The lab's address plan, ports and peer defaults. */
export { SUBNET, LAB_PREFIX, PEER_PORT, API_PORT, HEARTBEAT, DEAD_AFTER, HEAL_INTERVAL, KiB, MiB } from './constants.ts'
