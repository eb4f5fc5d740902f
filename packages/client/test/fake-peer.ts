import { once } from 'node:events'
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** What the fake peer saw of one request. */
export interface SeenRequest {
  method: string
  url: URL
  headers: IncomingMessage['headers']
  body: Buffer
}

/**
 * A stand-in for a peer's API on loopback, answering with whatever the test scripts: for the client's behaviour on
 * answers a real peer gives only rarely (a cut connection, a failure trailer, an unreadable body).
 */
export class FakePeer {
  readonly seen: SeenRequest[] = []
  url = ''
  readonly #server
  #handler: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void = (_req, res) => { res.end() }

  constructor () {
    this.#server = createServer((req, res) => {
      const parts: Buffer[] = []
      req.on('data', (d: Buffer) => parts.push(d))
      req.on('end', () => {
        const body = Buffer.concat(parts)
        this.seen.push({ method: req.method ?? '', url: new URL(req.url ?? '/', this.url), headers: req.headers, body })
        this.#handler(req, res, body)
      })
    })
  }

  /** Sets how the next requests are answered. */
  answer (handler: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void): void {
    this.#handler = handler
  }

  /** Listens on `host`: 127.0.0.2 passes for another machine, since the client treats only 127.0.0.1 as this one. */
  async start (host = '127.0.0.1'): Promise<void> {
    this.#server.listen(0, host)
    await once(this.#server, 'listening')
    this.url = `http://${host}:${(this.#server.address() as AddressInfo).port}`
  }

  async stop (): Promise<void> {
    this.#server.closeAllConnections()
    await new Promise<void>(resolve => this.#server.close(() => { resolve() }))
  }
}

/** Answers JSON with a status. */
export function json (res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}
