import { basename, resolve } from 'node:path'
import { readApiInfo } from './api-info.ts'
import { API_PREFIX, LOOPBACK_HOSTS, NAME_HEADER, SIZE_HEADER, UPLOAD_SLICE } from './constants.ts'
import { IonNetApiError, PeerNotRunningError } from './errors.ts'
import { downloadContent, readJson, send } from './http.ts'
import { readLocalFile, writeFileAtomic } from './local-file.ts'
import { parseSse } from './sse.ts'
import type { ApiEvent, FileEntry, GetToResult, HealthReport, PeerIdentity, PeerSummary, PutResult } from './api-types.ts'
import type { IncomingMessage } from 'node:http'

/** Where the API answers and the token it wants, as `<repo>/api.json` holds them. */
export interface IonNetClientInit {
  /** Base URL, e.g. `http://127.0.0.1:7870`. */
  url: string
  token: string
}

/** Options every call takes. */
export interface CallOptions {
  /** Aborts the request; the call rejects with the signal's reason. */
  signal?: AbortSignal
}

/** Options of `put`. */
export interface PutOptions extends CallOptions {
  /** File name recorded in the manifest; default: the file's own for a path, none otherwise. */
  name?: string
  /** Copies of every chunk to keep on distinct peers (the peer's default: 3). */
  replicas?: number
  /** Plaintext bytes per chunk (the peer's default: 2 MiB). */
  chunkSize?: number
  /**
   * Called with the bytes sent so far, as they are sent. A path handed to a peer on this machine is read by the peer
   * itself: then it is called once, with the file's size, when the put is done.
   */
  onProgress?(bytesDone: number): void
}

/** Options of `get` and `getTo`. */
export interface GetOptions extends CallOptions {
  /**
   * Called with the bytes received so far. `getTo` on this machine lets the peer write the file: then it is called
   * once, with the file's size, when the file is in place.
   */
  onProgress?(bytesDone: number): void
}

/** What `put` takes: a path on this machine, the bytes themselves, or a stream of them (a Node Readable works). */
export type PutSource = string | Uint8Array | AsyncIterable<Uint8Array>

/** A file being downloaded: its name and size, known at once, and its bytes. */
export interface Download {
  name: string
  size: number
  /** The file's bytes; iterating throws an IonNetApiError if the transfer fails before the end. */
  content: AsyncIterable<Uint8Array>
}

/** A client of one running peer's local HTTP API. */
export class IonNetClient {
  /** Base URL of the API. */
  readonly url: string
  readonly #token: string

  constructor (init: IonNetClientInit) {
    this.url = new URL(init.url).origin
    this.#token = init.token
  }

  /** The client of the peer running on repo `dir`, from its `api.json`; PeerNotRunningError if none has started there. */
  static async forRepo (dir: string): Promise<IonNetClient> {
    return new IonNetClient(await readApiInfo(dir))
  }

  /** True when the peer runs on this machine, so files can be handed to it by path. */
  get local (): boolean {
    return LOOPBACK_HOSTS.includes(new URL(this.url).hostname)
  }

  /** The peer's identity, addresses and store. */
  async id (options: CallOptions = {}): Promise<PeerIdentity> {
    return this.#json('GET', '/id', {}, options)
  }

  /** Every peer this one knows from heartbeats, alive or dead. */
  async peers (options: CallOptions = {}): Promise<PeerSummary[]> {
    return (await this.#json<{ peers: PeerSummary[] }>('GET', '/peers', {}, options)).peers
  }

  /** The files this peer put. */
  async files (options: CallOptions = {}): Promise<FileEntry[]> {
    return (await this.#json<{ files: FileEntry[] }>('GET', '/files', {}, options)).files
  }

  /** Live copies of every block of a file, by link (or by CID on the peer that put it). */
  async health (link: string, options: CallOptions = {}): Promise<HealthReport> {
    return this.#json('GET', '/health', { link }, options)
  }

  /** Stores a file on the network: the peer chunks, encrypts and places it, and answers with the link. */
  async put (source: PutSource, options: PutOptions = {}): Promise<PutResult> {
    const query = { name: options.name, replicas: options.replicas, chunkSize: options.chunkSize }
    let body: AsyncIterable<Uint8Array>
    if (typeof source === 'string') {
      const path = resolve(source)
      query.name ??= basename(path)
      if (this.local) {
        // the peer reads the file itself: one process fewer copies every byte
        const result = await this.#json<PutResult>('POST', '/put', { ...query, path }, options)
        options.onProgress?.(result.size)
        return result
      }
      body = await readLocalFile(path)
    } else if (source instanceof Uint8Array) {
      body = slices(source)
    } else {
      body = source
    }
    const res = await send(this.#url('/put', query), { method: 'POST', token: this.#token, body, signal: options.signal, onProgress: options.onProgress })
    return readJson(res)
  }

  /** Starts a download by link (or by CID on the peer that put the file). */
  async get (link: string, options: GetOptions = {}): Promise<Download> {
    const res = await this.#send('/get', { link }, options)
    if (res.statusCode !== 200) return readJson(res)
    return {
      name: decodeURIComponent(String(res.headers[NAME_HEADER] ?? '')),
      size: Number(res.headers[SIZE_HEADER]),
      content: downloadContent(res, options.signal, options.onProgress)
    }
  }

  /**
   * Downloads a file into `output`, renamed into place only when whole. A peer on this machine writes the file
   * itself; otherwise the bytes come over the API.
   */
  async getTo (link: string, output: string, options: GetOptions = {}): Promise<GetToResult> {
    const path = resolve(output)
    if (this.local) {
      const result = await this.#json<GetToResult>('GET', '/get', { link, output: path }, options)
      options.onProgress?.(result.size)
      return result
    }
    const download = await this.get(link, options)
    const size = await writeFileAtomic(path, download.content)
    return { name: download.name, size, output: path }
  }

  /**
   * The peer's live events (`GET /api/v1/events`, server-sent events), each as `{ type, data }` with `data` parsed
   * from JSON. Runs until the peer closes the stream, or ends quietly when `signal` aborts.
   */
  async * events (options: CallOptions = {}): AsyncGenerator<ApiEvent> {
    let res: IncomingMessage | undefined
    try {
      res = await this.#send('/events', {}, options, { accept: 'text/event-stream' })
      if (res.statusCode !== 200) await readJson(res)
      const type = String(res.headers['content-type'] ?? '')
      if (!type.startsWith('text/event-stream')) {
        throw new IonNetApiError('ERR_PROTOCOL', `the peer answered ${type === '' ? 'no content type' : type}, not text/event-stream`, res.statusCode ?? 0)
      }
      for await (const message of parseSse(res)) {
        const event: ApiEvent = { type: message.event, data: parseData(message.data) }
        if (message.id != null) event.id = message.id
        yield event
      }
    } catch (err: any) {
      if (options.signal?.aborted === true) return
      if (err instanceof IonNetApiError || err instanceof PeerNotRunningError) throw err
      throw new IonNetApiError('ERR_TRANSFER', `event stream interrupted: ${err.message}`, 0)
    } finally {
      res?.destroy()
    }
  }

  async #json<T> (method: 'GET' | 'POST', path: string, query: Query, options: CallOptions): Promise<T> {
    return readJson(await send(this.#url(path, query), { method, token: this.#token, signal: options.signal }))
  }

  async #send (path: string, query: Query, options: CallOptions, headers?: Record<string, string>): Promise<IncomingMessage> {
    return send(this.#url(path, query), { method: 'GET', token: this.#token, headers, signal: options.signal })
  }

  #url (path: string, query: Query): URL {
    const url = new URL(API_PREFIX + path, this.url)
    for (const [k, v] of Object.entries(query)) if (v != null) url.searchParams.set(k, String(v))
    return url
  }
}

type Query = Record<string, string | number | undefined>

/** Bytes in slices, so progress moves and backpressure applies as for a stream. */
async function * slices (bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += UPLOAD_SLICE) yield bytes.subarray(i, i + UPLOAD_SLICE)
}

/** The contract says one JSON object per message; anything else is passed on as the text it was. */
function parseData (data: string): unknown {
  try {
    return JSON.parse(data)
  } catch {
    return data
  }
}
