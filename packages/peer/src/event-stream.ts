import { MAX_EVENT_BACKLOG, MAX_EVENT_CLIENTS, SNAPSHOT_INTERVAL, SSE_KEEPALIVE, SSE_RETRY } from './constants.ts'
import { BusyError } from './errors.ts'
import type { LiveView, RepairRecord } from './live-view.ts'
import type { IncomingMessage, ServerResponse } from 'node:http'

export interface EventStreamComponents {
  /** What the stream reports: a LiveView, or anything shaped like one. */
  view: Pick<LiveView, 'watch' | 'snapshot' | 'addEventListener' | 'removeEventListener'>
}

/** Optional settings; defaults in constants.ts. */
export interface EventStreamInit {
  /** ms between snapshots. */
  interval?: number
  /** ms between keep-alive comments. */
  keepalive?: number
  /** ms browsers wait before reconnecting (SSE `retry:`). */
  retry?: number
  /** Streams open at once. */
  maxClients?: number
  /** Bytes a slow client may leave unread before its stream is closed. */
  maxBacklog?: number
}

interface Client {
  res: ServerResponse
  unwatch(): void
}

/**
 * `GET /api/v1/events`: server-sent events. Every client gets a `snapshot` at once and then one per interval, a
 * `repair` as each repair happens, and a comment line now and then so proxies keep the quiet stream open. A client
 * that reads too slowly skips snapshots (the next one says it all), and is closed once too much is left unread.
 */
export class EventStream {
  readonly #view: EventStreamComponents['view']
  readonly #interval: number
  readonly #keepalive: number
  readonly #retry: number
  readonly #maxClients: number
  readonly #maxBacklog: number
  readonly #clients = new Set<Client>()
  #timers: Array<ReturnType<typeof setInterval>> = []
  readonly #onRepair = (evt: CustomEvent<RepairRecord>): void => { this.#broadcast(message('repair', evt.detail), true) }

  constructor (components: EventStreamComponents, init: EventStreamInit = {}) {
    this.#view = components.view
    this.#interval = init.interval ?? SNAPSHOT_INTERVAL
    this.#keepalive = init.keepalive ?? SSE_KEEPALIVE
    this.#retry = init.retry ?? SSE_RETRY
    this.#maxClients = init.maxClients ?? MAX_EVENT_CLIENTS
    this.#maxBacklog = init.maxBacklog ?? MAX_EVENT_BACKLOG
  }

  get clients (): number {
    return this.#clients.size
  }

  /** Ends every stream cleanly (the chunked response is terminated), waiting at most a second for them to flush. */
  async stop (): Promise<void> {
    const ending = [...this.#clients].map(async client => {
      this.#drop(client)
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, 1000)
        client.res.end(() => { clearTimeout(timer); resolve() })
      })
    })
    await Promise.all(ending)
  }

  /** Turns a request into an event stream that lasts until the client goes away or the API stops. */
  attach (req: IncomingMessage, res: ServerResponse): void {
    if (this.#clients.size >= this.#maxClients) throw new BusyError(`too many event streams open (${this.#maxClients})`)
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      // nginx and its kin buffer responses unless told not to
      'x-accel-buffering': 'no'
    })
    req.socket.setNoDelay(true)
    const client: Client = { res, unwatch: this.#view.watch() }
    if (this.#clients.size === 0) this.#startTimers()
    this.#clients.add(client)
    res.once('close', () => { this.#drop(client) })
    res.write(`retry: ${this.#retry}\n\n`)
    this.#write(client, message('snapshot', this.#view.snapshot()), false)
  }

  #startTimers (): void {
    this.#timers.push(setInterval(() => { this.#broadcast(message('snapshot', this.#view.snapshot()), false) }, this.#interval))
    this.#timers.push(setInterval(() => { this.#broadcast(': keep-alive\n\n', true) }, this.#keepalive))
    this.#view.addEventListener('repair', this.#onRepair)
  }

  #drop (client: Client): void {
    if (!this.#clients.delete(client)) return
    client.unwatch()
    if (this.#clients.size > 0) return
    for (const t of this.#timers) clearInterval(t)
    this.#timers = []
    this.#view.removeEventListener('repair', this.#onRepair)
  }

  #broadcast (text: string, always: boolean): void {
    for (const client of this.#clients) this.#write(client, text, always)
  }

  /** Writes unless the client lags: snapshots are skipped while it drains, anything is refused past the backlog. */
  #write (client: Client, text: string, always: boolean): void {
    const { res } = client
    if (res.writableLength > this.#maxBacklog) {
      this.#drop(client)
      res.destroy()
      return
    }
    if (!always && res.writableNeedDrain) return
    res.write(text)
  }
}

/** One SSE message; JSON.stringify never emits a raw newline, so `data:` is one line. */
function message (type: string, data: unknown): string {
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`
}
