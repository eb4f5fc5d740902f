import { once } from 'node:events'
import { open, stat } from 'node:fs/promises'
import { isAbsolute } from 'node:path'
import { createServer } from 'node:http'
import { timingSafeEqual } from 'node:crypto'
import { statusOf, writeFileAtomic } from '@ionnet/client'
import { DEFAULT_CHUNK_SIZE } from '@ionnet/manifest'
import { logger } from '@libp2p/logger'
import { MAX_CHUNK_SIZE, MiB } from './constants.ts'
import { DashboardFiles } from './dashboard-files.ts'
import { BadRequestError, LocalFileError, UnauthorizedError } from './errors.ts'
import { EventStream } from './event-stream.ts'
import { LiveView } from './live-view.ts'
import { readCookie, sessionCookieName, SessionStore } from './sessions.ts'
import type { EventStreamInit } from './event-stream.ts'
import type { LiveViewInit } from './live-view.ts'
import type { OpenedFile } from './get.ts'
import type { IonNetPeer } from './peer.ts'
import type { SessionStoreInit } from './sessions.ts'
import type { ApiErrorBody, GetToResult } from '@ionnet/client'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface HttpApiComponents {
  peer: IonNetPeer
  token: string
}

export interface HttpApiInit {
  /** host:port to bind; port 0 picks a free one. */
  address: string
  /** What the dashboard's event stream watches, and how often. */
  liveView?: LiveViewInit
  events?: EventStreamInit
  sessions?: SessionStoreInit
}

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>

/**
 * The peer's local HTTP API (see docs/API.md) and its dashboard. Every API request needs the repo's token, or the
 * session cookie the dashboard got for it; requests whose Host or Origin is not the API's own are refused, so a web
 * page in the user's browser cannot drive the peer. The dashboard's static files at `/` load without the token.
 */
export class HttpApi {
  readonly #components: HttpApiComponents
  readonly #init: HttpApiInit
  readonly #log = logger('ionnet:http-api')
  readonly #routes: Record<string, Handler>
  readonly #dashboard = new DashboardFiles()
  readonly #sessions: SessionStore
  readonly #view: LiveView
  readonly #events: EventStream
  #server?: Server
  #url = ''

  constructor (components: HttpApiComponents, init: HttpApiInit) {
    this.#components = components
    this.#init = init
    this.#sessions = new SessionStore(init.sessions)
    this.#view = new LiveView({ peer: components.peer }, init.liveView)
    this.#events = new EventStream({ view: this.#view }, init.events)
    this.#routes = {
      'GET /api/v1/id': async (_req, res) => { json(res, 200, this.#components.peer.identity()) },
      'GET /api/v1/peers': async (_req, res) => { json(res, 200, { peers: this.#components.peer.peers() }) },
      'GET /api/v1/files': async (_req, res) => { json(res, 200, { files: await this.#components.peer.files() }) },
      'GET /api/v1/health': async (_req, res, url) => { json(res, 200, await this.#components.peer.health(requiredParam(url, 'link'))) },
      'POST /api/v1/put': async (req, res, url) => { await this.#put(req, res, url) },
      'GET /api/v1/get': async (req, res, url) => { await this.#get(req, res, url) },
      'HEAD /api/v1/get': async (req, res, url) => { await this.#get(req, res, url) },
      'GET /api/v1/events': async (req, res) => { this.#events.attach(req, res) },
      'POST /api/v1/session': async (req, res) => { this.#startSession(req, res) },
      'DELETE /api/v1/session': async (req, res) => { this.#endSession(req, res) }
    }
  }

  /** The base URL the API answers on, e.g. http://127.0.0.1:7870. */
  get url (): string {
    return this.#url
  }

  async start (): Promise<void> {
    await this.#dashboard.load()
    const { host, port } = parseAddress(this.#init.address)
    const server = createServer((req, res) => { void this.#handle(req, res) })
    server.listen(port, host)
    await once(server, 'listening')
    const addr = server.address() as AddressInfo
    this.#url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`
    this.#server = server
    this.#view.start()
  }

  async stop (): Promise<void> {
    const server = this.#server
    if (server == null) return
    // end event streams first, so browsers see a clean end rather than a reset
    await this.#events.stop()
    await this.#view.stop()
    server.closeAllConnections()
    await new Promise<void>(resolve => server.close(() => { resolve() }))
  }

  async #handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', this.#url)
      this.#checkOrigin(req)
      const file = req.method === 'GET' || req.method === 'HEAD' ? this.#dashboard.match(url.pathname) : undefined
      if (file != null) {
        this.#dashboard.serve(req, res, file)
        return
      }
      this.#authenticate(req)
      const route = this.#routes[`${req.method} ${url.pathname}`]
      if (route == null) throw Object.assign(new Error(`no such endpoint: ${req.method} ${url.pathname}`), { code: 'ERR_NOT_FOUND' })
      await route(req, res, url)
    } catch (err: any) {
      this.#log('%s %s failed: %s', req.method, req.url, err.message)
      if (!res.headersSent) {
        // a HEAD answer has no body: the error travels in a header, as a get's outcome does in its trailer
        if (req.method === 'HEAD') res.setHeader('x-ionnet-error', encodeURIComponent(JSON.stringify(errorBody(err).error)))
        sendError(res, err)
      } else {
        res.destroy(err)
      }
    }
  }

  #checkOrigin (req: IncomingMessage): void {
    const own = new URL(this.#url)
    const allowedHosts = new Set([own.host, `localhost:${own.port}`, `127.0.0.1:${own.port}`, `[::1]:${own.port}`])
    // names other than localhost are refused even on a public bind: a DNS-rebinding page would arrive with one
    const publicBind = !['127.0.0.1', '[::1]', 'localhost'].includes(own.hostname)
    const host = req.headers.host ?? ''
    if (publicBind && isIpHost(host, own.port)) allowedHosts.add(host)
    if (!allowedHosts.has(host)) {
      throw Object.assign(new Error('Host header is not this API'), { code: 'ERR_FORBIDDEN' })
    }
    const origin = req.headers.origin
    if (origin != null && !(origin.startsWith('http://') && allowedHosts.has(origin.slice('http://'.length)))) {
      throw Object.assign(new Error('cross-origin requests are refused'), { code: 'ERR_FORBIDDEN' })
    }
  }

  /**
   * The bearer token, or else a dashboard session cookie. A cookie counts only on requests the browser itself marks
   * as coming from this very origin (Sec-Fetch-Site): SameSite=Strict alone would let a page on another port of
   * this host ride on it, since browsers treat all ports of a host as one site.
   */
  #authenticate (req: IncomingMessage): void {
    const auth = req.headers.authorization
    if (auth == null && req.headers['sec-fetch-site'] === 'same-origin' && this.#sessions.valid(this.#sessionId(req))) return
    const given = Buffer.from(auth?.startsWith('Bearer ') === true ? auth.slice(7) : '')
    const token = Buffer.from(this.#components.token)
    if (given.length !== token.length || !timingSafeEqual(given, token)) {
      throw new UnauthorizedError('missing or wrong API token')
    }
  }

  #sessionId (req: IncomingMessage): string | undefined {
    return readCookie(req.headers.cookie, sessionCookieName(new URL(this.#url).port))
  }

  /** Trades the bearer token for an HttpOnly, SameSite=Strict session cookie scoped to the API's paths. */
  #startSession (req: IncomingMessage, res: ServerResponse): void {
    if (req.headers.authorization == null) throw new UnauthorizedError('a session needs the API token')
    const id = this.#sessions.create()
    const maxAge = Math.floor(this.#sessions.ttl / 1000)
    const name = sessionCookieName(new URL(this.#url).port)
    res.setHeader('set-cookie', `${name}=${id}; Path=/api/v1/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}`)
    res.setHeader('cache-control', 'no-store')
    json(res, 200, { cookie: name, expiresInMs: maxAge * 1000 })
  }

  #endSession (req: IncomingMessage, res: ServerResponse): void {
    this.#sessions.delete(this.#sessionId(req))
    res.setHeader('set-cookie', `${sessionCookieName(new URL(this.#url).port)}=; Path=/api/v1/; HttpOnly; SameSite=Strict; Max-Age=0`)
    res.writeHead(204)
    res.end()
  }

  /** File paths name files on this machine: only a client on this machine may use them. */
  #localOnly (req: IncomingMessage, param: string): void {
    const addr = req.socket.remoteAddress ?? ''
    if (!(addr === '127.0.0.1' || addr === '::1' || addr === '::ffff:127.0.0.1')) {
      throw Object.assign(new Error(`?${param}= is only accepted from this machine`), { code: 'ERR_FORBIDDEN' })
    }
  }

  async #put (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const replicas = optionalInt(url, 'replicas')
    const chunkSize = optionalInt(url, 'chunkSize')
    const name = url.searchParams.get('name') ?? undefined
    const abort = new AbortController()
    req.once('aborted', () => { abort.abort(new Error('upload aborted by the client')) })
    res.once('close', () => { if (!res.writableFinished) abort.abort(new Error('client went away')) })
    const path = url.searchParams.get('path')
    let source: AsyncIterable<Uint8Array> = req
    if (path != null) {
      // the peer reads the file itself: one process fewer copies every byte (the CLI on the same machine uses this)
      this.#localOnly(req, 'path')
      source = await readLocal(path, chunkSize ?? DEFAULT_CHUNK_SIZE)
    }
    const result = await this.#components.peer.put(source, { name, replicas, chunkSize, signal: abort.signal })
    json(res, 200, result)
  }

  async #get (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const link = requiredParam(url, 'link')
    const abort = new AbortController()
    res.once('close', () => { if (!res.writableFinished) abort.abort(new Error('client went away')) })
    const file = await this.#components.peer.open(link, { signal: abort.signal })
    const output = url.searchParams.get('output')
    if (req.method === 'HEAD') {
      // the manifest only: enough to tell a page the link works before it starts a browser download
      res.writeHead(200, fileHeaders(file.manifest))
      res.end()
      return
    }
    if (output != null) {
      this.#localOnly(req, 'output')
      if (!isAbsolute(output)) throw new BadRequestError('output must be absolute')
      const size = await writeFileAtomic(output, file.content)
      const answer: GetToResult = { name: file.manifest.name, size, output }
      json(res, 200, answer)
      return
    }
    if (url.searchParams.get('download') === '1') {
      await this.#download(res, file, abort.signal)
      return
    }
    // the outcome travels in a trailer: a failure after the first byte cannot change the status code any more
    res.writeHead(200, { ...fileHeaders(file.manifest), trailer: 'x-ionnet-status' })
    try {
      for await (const piece of file.content) {
        if (!res.write(piece)) await once(res, 'drain', { signal: abort.signal })
      }
      res.addTrailers({ 'x-ionnet-status': 'ok' })
    } catch (err: any) {
      this.#log('get failed mid-stream: %s', err.message)
      res.addTrailers({ 'x-ionnet-status': encodeURIComponent(JSON.stringify(errorBody(err).error)) })
    }
    res.end()
  }

  /**
   * A browser download: browsers ignore trailers, so the length goes in Content-Length and a failure cuts the
   * connection, which the browser reports as a failed download. The last piece is held back until the whole
   * file has verified, so a file that fails its final check never arrives complete.
   */
  async #download (res: ServerResponse, file: OpenedFile, signal: AbortSignal): Promise<void> {
    res.writeHead(200, { ...fileHeaders(file.manifest), 'content-length': String(file.manifest.size) })
    let held: Uint8Array | undefined
    try {
      for await (const piece of file.content) {
        if (held != null && !res.write(held)) await once(res, 'drain', { signal })
        held = piece
      }
    } catch (err: any) {
      this.#log('download failed mid-stream: %s', err.message)
      res.destroy(err)
      return
    }
    res.end(held)
  }
}

/** Headers naming the file, for API clients and for browsers (Content-Disposition). */
function fileHeaders (manifest: { name: string, size: number }): Record<string, string> {
  return {
    'content-type': 'application/octet-stream',
    'content-disposition': contentDisposition(manifest.name),
    'x-ionnet-name': encodeURIComponent(manifest.name),
    'x-ionnet-size': String(manifest.size)
  }
}

/** RFC 6266: an ASCII fallback for old clients, the exact UTF-8 name in filename*. */
export function contentDisposition (name: string): string {
  if (name === '') return 'attachment'
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, '_')
  const exact = encodeURIComponent(name).replace(/['()*]/g, c => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
  return `attachment; filename="${ascii}"; filename*=UTF-8''${exact}`
}

/**
 * Reads whole chunks at a time (at least 1 MiB), so the chunker passes each read on as views: with 1 MiB reads and
 * 2 MiB chunks it copied every byte into its staging buffer (alternating 256 MiB puts: the uploader's CPU 2.14–2.28 s
 * against 2.51–2.92 with that copy).
 */
async function readLocal (path: string, chunkSize: number): Promise<AsyncIterable<Uint8Array>> {
  if (!isAbsolute(path)) throw new BadRequestError('path must be absolute')
  const info = await stat(path).catch((err: any) => { throw new LocalFileError(`cannot read ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`) })
  if (!info.isFile()) throw new LocalFileError(`cannot read ${path}: not a regular file`)
  // a chunk size out of range is refused by the put itself, with its own message
  const chunk = Number.isSafeInteger(chunkSize) && chunkSize > 0 && chunkSize <= MAX_CHUNK_SIZE ? chunkSize : DEFAULT_CHUNK_SIZE
  const readSize = chunk >= MiB ? chunk : Math.floor(MiB / chunk) * chunk
  return checkedLength(readInto(path, Buffer.allocUnsafeSlow(readSize)), info.size, path)
}

/**
 * The file's bytes, read into one buffer over and over: each piece is valid until the next is pulled, which is all
 * encodeFile asks. A fresh buffer per read gave V8 a file's worth of garbage to collect: an uploader ran a full
 * collection every 100 ms of a put, 20 in a 256 MiB put with one copy.
 */
async function * readInto (path: string, buffer: Buffer): AsyncGenerator<Uint8Array> {
  const file = await open(path, 'r')
  try {
    while (true) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, null)
      if (bytesRead === 0) return
      yield buffer.subarray(0, bytesRead)
    }
  } finally {
    await file.close()
  }
}

/** Fails a put whose file shrank or grew while it was read: its link would name bytes the user never had. */
async function * checkedLength (source: AsyncIterable<Uint8Array>, size: number, path: string): AsyncGenerator<Uint8Array> {
  let n = 0
  try {
    for await (const piece of source) {
      n += piece.length
      if (n > size) break
      yield piece
    }
  } catch (err: any) {
    // a read that fails midway (EIO from a dying disk, a file made unreadable) names the file, like a failed open
    throw new LocalFileError(`cannot read ${path}: ${err.code === 'EACCES' ? 'permission denied' : err.message}`)
  }
  if (n !== size) throw new LocalFileError(`${path} changed while it was read (${size} bytes expected, ${n} read)`)
}

function isIpHost (host: string, port: string): boolean {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]):(\d+)$/.exec(host)
  return m != null && m[2] === port
}

function parseAddress (address: string): { host: string, port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(address)
  if (m == null) throw new BadRequestError(`bad API address ${JSON.stringify(address)}: expected host:port`)
  return { host: m[1], port: Number(m[2]) }
}

function requiredParam (url: URL, name: string): string {
  const v = url.searchParams.get(name)
  if (v == null || v === '') throw new BadRequestError(`missing ?${name}=`)
  return v
}

function optionalInt (url: URL, name: string): number | undefined {
  const v = url.searchParams.get(name)
  if (v == null) return undefined
  if (!/^\d+$/.test(v)) throw new BadRequestError(`${name} must be a positive integer`)
  return Number(v)
}

function json (res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

/** The error body every endpoint uses: `{ error: { code, message, ...details } }`. */
export function errorBody (err: any): ApiErrorBody {
  const code = typeof err?.code === 'string' && err.code.startsWith('ERR_') ? err.code : 'ERR_INTERNAL'
  const body: ApiErrorBody['error'] = { code, message: String(err?.message ?? err) }
  if (Array.isArray(err?.missing)) body.missing = err.missing
  return { error: body }
}

function sendError (res: ServerResponse, err: any): void {
  const body = errorBody(err)
  // one table for the API, the SDK and the docs: ERROR_CODES in @ionnet/client
  json(res, statusOf(body.error.code), body)
}
