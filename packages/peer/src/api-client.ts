import { request } from 'node:http'
import { IonNetError, PeerNotRunningError } from './errors.ts'
import { Repo } from './repo.ts'
import type { HealthReport, PeerIdentity, PeerSummary } from './peer.ts'
import type { KeyringEntry } from './keyring.ts'
import type { PutResult } from './put.ts'
import type { IncomingMessage } from 'node:http'
import type { Readable } from 'node:stream'

/** An error answered by the API, carrying its stable code. */
export class ApiError extends IonNetError {
  static name = 'ApiError'
  name = 'ApiError'
  status: number
  missing?: string[]

  constructor (code: string, message: string, status: number, missing?: string[]) {
    super(message)
    this.code = code
    this.status = status
    this.missing = missing
  }
}

/** A file being downloaded: its name and size, and its bytes; `content` throws if the transfer fails. */
export interface Download {
  name: string
  size: number
  content: AsyncIterable<Uint8Array>
}

/** Talks to a running peer's HTTP API. */
export class ApiClient {
  readonly url: string
  readonly #token: string

  constructor (init: { url: string, token: string }) {
    this.url = init.url
    this.#token = init.token
  }

  /** The client of the peer running on `repoDir`; PeerNotRunningError if none has started there. */
  static async forRepo (repoDir: string): Promise<ApiClient> {
    const repo = new Repo(repoDir)
    const info = await repo.readApi()
    if (info == null) throw new PeerNotRunningError(`no peer is running for repo ${repo.dir}; start one with: ionnet peer start --repo ${repo.dir}`)
    return new ApiClient(info)
  }

  async id (): Promise<PeerIdentity> { return this.#json('GET', '/api/v1/id') }
  async peers (): Promise<PeerSummary[]> { return (await this.#json<{ peers: PeerSummary[] }>('GET', '/api/v1/peers')).peers }
  async files (): Promise<KeyringEntry[]> { return (await this.#json<{ files: KeyringEntry[] }>('GET', '/api/v1/files')).files }
  async health (link: string): Promise<HealthReport> { return this.#json('GET', `/api/v1/health?${new URLSearchParams({ link }).toString()}`) }

  /** Uploads a stream; the peer chunks, encrypts and places it, and answers with the link. */
  async put (body: Readable, options: { name?: string, replicas?: number, chunkSize?: number } = {}): Promise<PutResult> {
    const q = new URLSearchParams()
    if (options.name != null) q.set('name', options.name)
    if (options.replicas != null) q.set('replicas', String(options.replicas))
    if (options.chunkSize != null) q.set('chunkSize', String(options.chunkSize))
    const res = await this.#request('POST', `/api/v1/put?${q.toString()}`, body)
    return readJson(res)
  }

  /** Puts a file on this machine by path: the peer reads it itself (only for a peer on the same machine). */
  async putPath (path: string, options: { name?: string, replicas?: number, chunkSize?: number } = {}): Promise<PutResult> {
    const q = new URLSearchParams({ path })
    if (options.name != null) q.set('name', options.name)
    if (options.replicas != null) q.set('replicas', String(options.replicas))
    if (options.chunkSize != null) q.set('chunkSize', String(options.chunkSize))
    return readJson(await this.#request('POST', `/api/v1/put?${q.toString()}`))
  }

  /** Downloads a file straight into `output` on this machine (written by the peer, renamed into place when whole). */
  async getTo (link: string, output: string): Promise<{ name: string, size: number, output: string }> {
    return readJson(await this.#request('GET', `/api/v1/get?${new URLSearchParams({ link, output }).toString()}`))
  }

  /** True when the peer runs on this machine, so files can be passed by path. */
  get local (): boolean {
    const host = new URL(this.url).hostname
    return host === '127.0.0.1' || host === 'localhost' || host === '[::1]'
  }

  /** Starts a download by link (or by manifest CID on the peer that put the file). */
  async get (link: string): Promise<Download> {
    const res = await this.#request('GET', `/api/v1/get?${new URLSearchParams({ link }).toString()}`)
    if (res.statusCode !== 200) return readJson(res)
    return {
      name: decodeURIComponent(String(res.headers['x-ionnet-name'] ?? '')),
      size: Number(res.headers['x-ionnet-size']),
      content: checked(res)
    }
  }

  async #json<T> (method: string, path: string): Promise<T> {
    return readJson(await this.#request(method, path))
  }

  async #request (method: string, path: string, body?: Readable): Promise<IncomingMessage> {
    const url = new URL(path, this.url)
    return new Promise((resolve, reject) => {
      const req = request(url, { method, headers: { authorization: `Bearer ${this.#token}` } }, resolve)
      req.on('error', (err: any) => {
        if (err.code === 'ECONNREFUSED') reject(new PeerNotRunningError(`no peer answers at ${this.url}; start one with: ionnet peer start`))
        else reject(err)
      })
      if (body == null) {
        req.end()
        return
      }
      body.on('error', (err) => { req.destroy(err); reject(err) })
      body.pipe(req)
    })
  }
}

async function readJson<T> (res: IncomingMessage): Promise<T> {
  const parts: Buffer[] = []
  for await (const p of res) parts.push(p)
  let body: any
  try {
    body = JSON.parse(Buffer.concat(parts).toString('utf8'))
  } catch {
    throw new ApiError('ERR_PROTOCOL', `unreadable answer from the peer (HTTP ${res.statusCode})`, res.statusCode ?? 0)
  }
  if (res.statusCode !== 200) {
    throw new ApiError(body?.error?.code ?? 'ERR_INTERNAL', body?.error?.message ?? `HTTP ${res.statusCode}`, res.statusCode ?? 0, body?.error?.missing)
  }
  return body
}

async function * checked (res: IncomingMessage): AsyncGenerator<Uint8Array> {
  try {
    for await (const piece of res) yield piece
  } catch (err: any) {
    throw new ApiError('ERR_TRANSFER', `transfer interrupted: ${err.message}`, 200)
  }
  const status = res.trailers['x-ionnet-status']
  if (status === 'ok') return
  if (status == null) throw new ApiError('ERR_TRANSFER', 'transfer interrupted: the peer did not confirm the file', 200)
  let err: any = {}
  try { err = JSON.parse(decodeURIComponent(status)) } catch {}
  throw new ApiError(err.code ?? 'ERR_INTERNAL', err.message ?? 'transfer failed', 200, err.missing)
}
