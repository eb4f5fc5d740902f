import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { DHT_PROTOCOL, JOIN_MIN_WAIT, REDIAL_TIMEOUT, REJOIN_MAX_WAIT, REMEMBERED_DIALS } from './constants.ts'
import { BadRequestError } from './errors.ts'
import type { IonNetNode } from './node.ts'
import type { Logger, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface JoinerComponents {
  node: IonNetNode
  log: Logger
}

export interface JoinerInit {
  /** Multiaddrs with /p2p/<id> of peers to join through. */
  bootstrap?: string[]
  /** ms before the second round of dials while alone; doubles each round. */
  minWait?: number
  /** ...up to this. */
  maxWait?: number
}

/**
 * Brings a peer into its network and back whenever it finds itself alone: while it holds no connection at all, it
 * dials its bootstrap peers and the IonNet peers its repo remembers, waiting twice as long after each round.
 *
 * A single dial at start was not enough. Under load the handshake with the bootstrap peer timed out, and nothing
 * dialed again: 6 of 50 peers started on one machine stayed alone for good. A laptop that slept past the time
 * heartbeats redial dead peers came back alone the same way.
 */
export class Joiner {
  readonly #components: JoinerComponents
  readonly #bootstrap: Array<{ id: PeerId, addr: Multiaddr }>
  readonly #minWait: number
  readonly #maxWait: number
  #wait: number
  #next = 0
  #dialing = false
  #timer?: ReturnType<typeof setInterval>

  constructor (components: JoinerComponents, init: JoinerInit = {}) {
    this.#components = components
    this.#bootstrap = (init.bootstrap ?? []).map(parseBootstrap)
    this.#minWait = init.minWait ?? JOIN_MIN_WAIT
    this.#maxWait = init.maxWait ?? REJOIN_MAX_WAIT
    this.#wait = this.#minWait
  }

  start (): void {
    // checking costs one look at the connection list, so once a second is cheap enough to notice being alone soon
    this.#timer = setInterval(() => { this.#check() }, Math.min(this.#minWait, 1000))
    this.#check()
  }

  stop (): void {
    clearInterval(this.#timer)
  }

  #check (): void {
    const { node } = this.#components
    if (node.getConnections().length > 0) {
      this.#wait = this.#minWait
      this.#next = 0
      return
    }
    const now = Date.now()
    if (this.#dialing || now < this.#next) return
    this.#next = now + this.#wait
    this.#wait = Math.min(this.#wait * 2, this.#maxWait)
    this.#dialing = true
    void this.#dialRound().finally(() => { this.#dialing = false })
  }

  /** Dials every bootstrap peer and up to REMEMBERED_DIALS remembered IonNet peers at once; one answer is enough. */
  async #dialRound (): Promise<void> {
    const { node, log } = this.#components
    const remembered = await node.peerStore.all({
      filters: [(p) => p.protocols.includes(DHT_PROTOCOL) && !p.id.equals(node.peerId) && !this.#bootstrap.some(b => b.id.equals(p.id))],
      limit: REMEMBERED_DIALS
    }).catch(() => [])
    const targets: Array<{ id: PeerId, dial: PeerId | Multiaddr }> = [
      ...this.#bootstrap.map(b => ({ id: b.id, dial: b.addr })),
      ...remembered.map(p => ({ id: p.id, dial: p.id }))
    ]
    if (targets.length === 0) return
    log('alone: dialing %d peers', targets.length)
    await Promise.all(targets.map(async (t) => node.dial(t.dial, { signal: AbortSignal.timeout(REDIAL_TIMEOUT) })
      .then(() => { log('joined through %p', t.id) })
      .catch((err: Error) => { log('dialing %p: %s', t.id, err.message) })))
  }
}

function parseBootstrap (addr: string): { id: PeerId, addr: Multiaddr } {
  let ma: Multiaddr
  try {
    ma = multiaddr(addr)
  } catch (err: any) {
    throw new BadRequestError(`bootstrap address ${addr} is not a multiaddr: ${err.message}`)
  }
  const id = ma.getComponents().findLast(c => c.name === 'p2p')?.value
  if (id == null) throw new BadRequestError(`bootstrap address ${addr} lacks /p2p/<peer id>; \`ionnet id\` on that peer prints its full addresses`)
  try {
    return { id: peerIdFromString(id), addr: ma }
  } catch (err: any) {
    throw new BadRequestError(`bootstrap address ${addr} names no valid peer id: ${err.message}`)
  }
}
