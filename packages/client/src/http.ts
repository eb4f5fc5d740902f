import { request } from 'node:http'
import { STATUS_TRAILER } from './constants.ts'
import { IonNetApiError, PeerNotRunningError, statusOf } from './errors.ts'
import type { ApiErrorBody } from './api-types.ts'
import type { ClientRequest, IncomingMessage } from 'node:http'

/** One request to the API: the answer's head arrives when the promise resolves; its body is the caller's to read. */
export interface SendInit {
  method: 'GET' | 'POST'
  token: string
  headers?: Record<string, string>
  body?: AsyncIterable<Uint8Array>
  signal?: AbortSignal
  /** Bytes of the body sent so far. */
  onProgress?(bytes: number): void
}

/** Sends a request; rejects with PeerNotRunningError when nothing listens at the URL, IonNetApiError when the link breaks. */
export async function send (url: URL, init: SendInit): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    let answered = false
    const req = request(url, {
      method: init.method,
      headers: { ...init.headers, authorization: `Bearer ${init.token}` },
      signal: init.signal
    }, (res) => { answered = true; resolve(res) })
    req.on('error', (err: any) => {
      if (err.code === 'ECONNREFUSED') reject(new PeerNotRunningError(`no peer answers at ${url.origin}; start one with: ionnet peer start`))
      else if (err.name === 'AbortError') reject(init.signal?.reason ?? err)
      else reject(new IonNetApiError('ERR_TRANSFER', `request to the peer at ${url.origin} failed: ${err.message}`, 0))
    })
    if (init.body == null) {
      req.end()
      return
    }
    pump(init.body, req, () => answered, init.onProgress).catch((err: unknown) => {
      // the source failed: the upload must not look complete to the peer
      req.destroy(err as Error)
      reject(err)
    })
  })
}

/**
 * Streams the body with backpressure. It stops early once the peer has answered: an early answer is an error (a bad
 * parameter, say) and the rest of the bytes would be wasted.
 */
async function pump (body: AsyncIterable<Uint8Array>, req: ClientRequest, answered: () => boolean, onProgress?: (bytes: number) => void): Promise<void> {
  let sent = 0
  for await (const piece of body) {
    if (answered() || req.destroyed) break
    if (!req.write(piece)) await drainedOrClosed(req)
    sent += piece.length
    onProgress?.(sent)
  }
  if (!req.destroyed) req.end()
}

async function drainedOrClosed (req: ClientRequest): Promise<void> {
  await new Promise<void>((resolve) => {
    const done = (): void => {
      req.off('drain', done)
      req.off('close', done)
      resolve()
    }
    req.once('drain', done)
    req.once('close', done)
  })
}

/** Reads a JSON answer; an error answer becomes an IonNetApiError with the API's code, status and `missing`. */
export async function readJson<T> (res: IncomingMessage): Promise<T> {
  const status = res.statusCode ?? 0
  const parts: Buffer[] = []
  try {
    for await (const p of res) parts.push(p)
  } catch (err: any) {
    throw new IonNetApiError('ERR_TRANSFER', `answer from the peer cut short: ${err.message}`, status)
  }
  let body: any
  try {
    body = JSON.parse(Buffer.concat(parts).toString('utf8'))
  } catch {
    throw new IonNetApiError('ERR_PROTOCOL', `unreadable answer from the peer (HTTP ${status})`, status)
  }
  if (status !== 200) throw apiError(body, `HTTP ${status}`, status)
  return body
}

/**
 * The bytes of a download. The outcome comes in the `x-ionnet-status` trailer once the body has ended: `ok`, or the
 * error that stopped the peer after the status line had gone out. No trailer means the file was not confirmed.
 */
export async function * downloadContent (res: IncomingMessage, signal?: AbortSignal, onProgress?: (bytes: number) => void): AsyncGenerator<Uint8Array> {
  let received = 0
  try {
    for await (const piece of res) {
      received += piece.length
      onProgress?.(received)
      yield piece
    }
  } catch (err: any) {
    if (signal?.aborted === true) throw signal.reason
    throw new IonNetApiError('ERR_TRANSFER', `transfer interrupted: ${err.message}`, 0)
  } finally {
    // a consumer that stops early must not leave the peer streaming into a socket nobody reads
    if (!res.complete) res.destroy()
  }
  const status = res.trailers[STATUS_TRAILER]
  if (status === 'ok') return
  if (status == null) throw new IonNetApiError('ERR_TRANSFER', 'transfer interrupted: the peer did not confirm the file', 0)
  let err: any
  try {
    err = JSON.parse(decodeURIComponent(status))
  } catch {
    err = undefined
  }
  const code = typeof err?.code === 'string' ? err.code : 'ERR_INTERNAL'
  throw apiError({ error: err }, 'transfer failed', statusOf(code))
}

function apiError (body: Partial<ApiErrorBody> | undefined, fallback: string, status: number): IonNetApiError {
  const e = body?.error
  const missing = Array.isArray(e?.missing) ? e.missing : undefined
  return new IonNetApiError(typeof e?.code === 'string' ? e.code : 'ERR_INTERNAL', typeof e?.message === 'string' ? e.message : fallback, status, missing)
}
