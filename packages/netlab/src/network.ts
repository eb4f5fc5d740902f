import { HOST_IFACE, MAIN_BRIDGE, SUBNET_BASE, SUBNET_PREFIX, TBF_LATENCY, TBF_MIN_BURST } from './constants.ts'
import { LabUsageError } from './errors.ts'
import { ip, ipIn, run, tcIn } from './exec.ts'
import { namespaceName, removeLab } from './registry.ts'

/** Rates of a host's link in bits per second, each direction on its own; undefined means unlimited. */
export interface LinkRates {
  /** From the host into the switch (its uploads). */
  up?: number
  /** From the switch to the host (its downloads). */
  down?: number
}

/** What the network knows about one host's cable. */
export interface PortState {
  cut: boolean
  /** Partition group; 0 is the main bridge, where every host sits when there is no partition. */
  group: number
  rates: LinkRates
}

/**
 * The wires of a lab: a switch namespace holding a Linux bridge, and one namespace per host joined to it by a veth
 * pair (`eth0` in the host, `h<n>` on the switch). Hosts have an address on the lab subnet and no default route, so
 * their traffic has nowhere to go but the switch; the switch namespace has no address at all.
 *
 * Faults act on the switch side, as pulling a cable or re-patching a port would:
 * - cut: the host's port goes down (the host sees NO-CARRIER), its address stays;
 * - partition: each group's ports move to a bridge of their own, so frames never cross between groups; healing
 *   moves every port back onto the main bridge;
 * - bandwidth: a tbf qdisc on the egress of both ends of the cable (tbf shapes what leaves an interface, so the
 *   host's end limits its uploads and the switch's end its downloads).
 */
export class Network {
  readonly labId: string
  readonly switchNs: string
  readonly #ports = new Map<number, PortState>()
  #bridges = 1

  constructor (init: { labId: string }) {
    this.labId = init.labId
    this.switchNs = namespaceName(init.labId, 'sw')
  }

  /** The namespace of host n. */
  namespaceOf (host: number): string {
    return namespaceName(this.labId, `h${host}`)
  }

  /** The address of host n on the lab subnet. */
  static addressOf (host: number): string {
    return `${SUBNET_BASE}${host}`
  }

  /** The switch's interface for host n. */
  static portOf (host: number): string {
    return `h${host}`
  }

  state (host: number): PortState {
    const state = this.#ports.get(host)
    if (state == null) throw new LabUsageError(`no host ${host} in the lab`)
    return { ...state, rates: { ...state.rates } }
  }

  /** Creates the switch: its namespace and the main bridge. */
  async create (): Promise<void> {
    await ip('netns', 'add', this.switchNs)
    await ipIn(this.switchNs, 'link', 'set', 'lo', 'up')
    await ipIn(this.switchNs, 'link', 'add', MAIN_BRIDGE, 'type', 'bridge')
    await ipIn(this.switchNs, 'link', 'set', MAIN_BRIDGE, 'up')
  }

  /** Adds host n: its namespace with loopback up, a cable to the main bridge and its address. */
  async addHost (host: number): Promise<void> {
    if (this.#ports.has(host)) throw new LabUsageError(`host ${host} exists already`)
    const ns = this.namespaceOf(host)
    const port = Network.portOf(host)
    await ip('netns', 'add', ns)
    this.#ports.set(host, { cut: false, group: 0, rates: {} })
    await ipIn(ns, 'link', 'set', 'lo', 'up')
    // created inside the switch namespace with its peer end sent to the host: names never clash with the machine's
    await ipIn(this.switchNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', HOST_IFACE, 'netns', ns)
    await ipIn(this.switchNs, 'link', 'set', port, 'master', MAIN_BRIDGE, 'up')
    await ipIn(ns, 'addr', 'add', `${Network.addressOf(host)}/${SUBNET_PREFIX}`, 'dev', HOST_IFACE)
    await ipIn(ns, 'link', 'set', HOST_IFACE, 'up')
  }

  /** Pulls host n's cable: its switch port goes down. */
  async cut (host: number): Promise<void> {
    this.state(host)
    await ipIn(this.switchNs, 'link', 'set', Network.portOf(host), 'down')
    this.#ports.get(host)!.cut = true
  }

  /** Plugs host n's cable back in. */
  async reconnect (host: number): Promise<void> {
    this.state(host)
    await ipIn(this.switchNs, 'link', 'set', Network.portOf(host), 'up')
    this.#ports.get(host)!.cut = false
  }

  /**
   * Splits the hosts into groups that cannot reach each other: group i's ports move to bridge i. Hosts named in no
   * group stay with the first. A new partition replaces the previous one.
   */
  async partition (groups: number[][]): Promise<void> {
    const seen = new Set<number>()
    for (const host of groups.flat()) {
      this.state(host)
      if (seen.has(host)) throw new LabUsageError(`host ${host} is in two groups`)
      seen.add(host)
    }
    for (let g = this.#bridges; g < groups.length; g++) {
      await ipIn(this.switchNs, 'link', 'add', `br${g}`, 'type', 'bridge')
      await ipIn(this.switchNs, 'link', 'set', `br${g}`, 'up')
    }
    this.#bridges = Math.max(this.#bridges, groups.length)
    for (const [host, state] of this.#ports) {
      const group = groups.findIndex(g => g.includes(host))
      await this.#move(host, state, group < 0 ? 0 : group)
    }
  }

  /** Ends a partition: every port back on the main bridge, the extra bridges removed. */
  async heal (): Promise<void> {
    for (const [host, state] of this.#ports) await this.#move(host, state, 0)
    for (let g = 1; g < this.#bridges; g++) await ipIn(this.switchNs, 'link', 'del', `br${g}`)
    this.#bridges = 1
  }

  async #move (host: number, state: PortState, group: number): Promise<void> {
    if (state.group === group) return
    await ipIn(this.switchNs, 'link', 'set', Network.portOf(host), 'master', group === 0 ? MAIN_BRIDGE : `br${group}`)
    state.group = group
  }

  /** Limits host n's link with tbf: `up` on the host's end, `down` on the switch's end; undefined removes a limit. */
  async shape (host: number, rates: LinkRates): Promise<void> {
    const state = this.#ports.get(host)
    if (state == null) throw new LabUsageError(`no host ${host} in the lab`)
    for (const rate of [rates.up, rates.down]) {
      if (rate != null && !(Number.isFinite(rate) && rate >= 8000)) throw new LabUsageError(`rate ${rate} bit/s is not a rate tbf can hold (at least 8 kbit/s)`)
    }
    await shapeInterface(this.namespaceOf(host), HOST_IFACE, rates.up)
    await shapeInterface(this.switchNs, Network.portOf(host), rates.down)
    state.rates = { ...rates }
  }

  /** Bytes and packets a host has sent and received on its cable since it was created (the kernel's counters). */
  async counters (host: number): Promise<{ tx: number, rx: number }> {
    this.state(host)
    const [link] = JSON.parse(await ipIn(this.namespaceOf(host), '-j', '-s', 'link', 'show', HOST_IFACE))
    return { tx: link.stats64.tx.bytes, rx: link.stats64.rx.bytes }
  }

  /** Addresses of the hosts that host n has an established TCP connection with (the kernel's socket table). */
  async connectedTo (host: number): Promise<string[]> {
    this.state(host)
    const out = await run('ip', ['netns', 'exec', this.namespaceOf(host), 'ss', '-Htn', 'state', 'established'])
    const peers = new Set<string>()
    for (const line of out.split('\n')) {
      // Recv-Q Send-Q Local:Port Peer:Port
      const peer = line.trim().split(/\s+/)[3]
      if (peer != null) peers.add(peer.slice(0, peer.lastIndexOf(':')))
    }
    return [...peers]
  }

  /** Removes the lab: every process in its namespaces, the namespaces, its folder and its record. */
  async destroy (): Promise<void> {
    await removeLab(this.labId)
    this.#ports.clear()
  }
}

async function shapeInterface (ns: string, dev: string, rate: number | undefined): Promise<void> {
  if (rate == null) {
    // no qdisc to delete is fine: the link was not limited
    await tcIn(ns, 'qdisc', 'del', 'dev', dev, 'root').catch(() => {})
    return
  }
  // the bucket holds 10 ms at the rate, never less than a few packets
  const burst = Math.max(TBF_MIN_BURST, Math.ceil(rate / 8 / 100))
  await tcIn(ns, 'qdisc', 'replace', 'dev', dev, 'root', 'tbf', 'rate', `${Math.round(rate)}bit`, 'burst', String(burst), 'latency', TBF_LATENCY)
}
