import { expect } from 'chai'
import { once } from 'node:events'
import { createServer, request } from 'node:http'
import { TypedEventEmitter } from '@libp2p/interface'
import { EventStream } from '../src/event-stream.ts'
import type { LiveViewEvents, RepairRecord, Snapshot } from '../src/live-view.ts'
import type { EventStreamInit } from '../src/event-stream.ts'
import type { IncomingMessage, Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A stand-in for the LiveView: counts its watchers and numbers its snapshots. */
class FakeView extends TypedEventEmitter<LiveViewEvents> {
  watchers = 0
  taken = 0

  watch (): () => void {
    this.watchers++
    return () => { this.watchers-- }
  }

  snapshot (): Snapshot {
    this.taken++
    return { at: this.taken } as unknown as Snapshot
  }

  repair (cid: string): void {
    this.safeDispatchEvent('repair', { detail: { cid, from: 'a', to: 'b', ms: 1, bytes: 2, reason: 'repair', at: 3 } satisfies RepairRecord })
  }
}

interface Client {
  res: IncomingMessage
  messages: Array<{ type: string, data: any }>
  text(): string
}

describe('event stream (GET /api/v1/events)', () => {
  let server: Server
  let view: FakeView
  let stream: EventStream
  let url: string

  async function serve (init: EventStreamInit = {}): Promise<void> {
    view = new FakeView()
    stream = new EventStream({ view }, { interval: 50, keepalive: 80, ...init })
    server = createServer((req, res) => {
      try {
        stream.attach(req, res)
      } catch (err: any) {
        res.writeHead(503)
        res.end(err.name)
      }
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  }

  async function connect (): Promise<Client> {
    const req = request(url)
    req.end()
    const [res] = await once(req, 'response') as [IncomingMessage]
    let raw = ''
    const messages: Client['messages'] = []
    res.setEncoding('utf8')
    res.on('data', (d: string) => {
      raw += d
      messages.splice(0, messages.length, ...[...raw.matchAll(/event: (\w+)\ndata: (.*)\n\n/g)].map(m => ({ type: m[1], data: JSON.parse(m[2]) })))
    })
    return { res, messages, text: () => raw }
  }

  async function until (fn: () => boolean): Promise<void> {
    const deadline = Date.now() + 5000
    while (!fn()) {
      if (Date.now() > deadline) throw new Error('condition not met within 5 s')
      await new Promise(resolve => setTimeout(resolve, 10))
    }
  }

  afterEach(async () => {
    await stream.stop()
    server.closeAllConnections()
    server.close()
  })

  it('sends a snapshot at once, then one per interval, a repair as it happens, and keep-alive comments', async () => {
    await serve()
    const client = await connect()
    expect(client.res.headers['content-type']).to.equal('text/event-stream; charset=utf-8')
    await until(() => client.messages.length >= 3)
    expect(client.messages.slice(0, 3).map(m => m.type)).to.deep.equal(['snapshot', 'snapshot', 'snapshot'])
    view.repair('bafy-repaired')
    await until(() => client.messages.some(m => m.type === 'repair'))
    expect(client.messages.find(m => m.type === 'repair')?.data.cid).to.equal('bafy-repaired')
    await until(() => client.text().includes(': keep-alive\n\n'))
    expect(client.text()).to.match(/^retry: \d+\n\n/)
  })

  it('stops watching the peer when the last client goes away', async () => {
    await serve()
    const a = await connect()
    const b = await connect()
    await until(() => view.watchers === 2)
    a.res.destroy()
    await until(() => view.watchers === 1 && stream.clients === 1)
    b.res.destroy()
    await until(() => view.watchers === 0 && stream.clients === 0)
    // and takes no more snapshots for nobody
    const taken = view.taken
    await new Promise(resolve => setTimeout(resolve, 200))
    expect(view.taken).to.equal(taken)
  })

  it('refuses clients beyond its limit', async () => {
    await serve({ maxClients: 1 })
    await connect()
    const second = await connect()
    expect(second.res.statusCode).to.equal(503)
    await until(() => second.text() === 'BusyError')
  })

  it('ends every stream cleanly on stop', async () => {
    await serve()
    const client = await connect()
    await until(() => client.messages.length >= 1)
    const ended = once(client.res, 'end')
    await stream.stop()
    await ended
    expect(client.res.complete).to.equal(true)
    expect(view.watchers).to.equal(0)
  })
})
