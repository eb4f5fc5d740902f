// @ts-check
/**
 * The dashboard's side of the peer's API. The token arrives once in the address's fragment (`#token=…`, never sent
 * to any server), is kept in sessionStorage for this tab only, and is traded for an HttpOnly session cookie: the
 * event stream (EventSource) and browser downloads cannot carry an Authorization header, a cookie rides on both.
 */

/**
 * @typedef {{ peerId: string, alive: boolean, overdue: boolean, connected: boolean, lastSeenMs: number, addrs: string[], chunks: number, bytes: number, free: number | null }} PeerSummary
 * @typedef {{ peerId: string, addrs: string[], chunks: number, bytes: number, capacity: number | null, private: boolean, heartbeatsDropped: number }} PeerIdentity
 * @typedef {{ cid: string, link: string, name: string, size: number, replicas: number, added: string, blocks: number, copies: number[], ageMs: number | null, error?: string }} FileCopies
 * @typedef {{ cid: string, from: string, to: string, ms: number, bytes: number, reason: 'repair' | 'rebalance' | 'scrub', at: number }} RepairRecord
 * @typedef {{ at: number, self: PeerIdentity, peers: PeerSummary[], files: FileCopies[], rates: { inBytesPerSec: number, outBytesPerSec: number }, repairs: RepairRecord[] }} Snapshot
 * @typedef {{ link: string, cid: string, name: string, size: number, chunks: number, replicas: number, minCopies: number, warning?: string }} PutResult
 */

const TOKEN_KEY = 'ionnet-token'

/** An error the API answered, with its stable code. */
export class ApiError extends Error {
  /** @param {string} code @param {string} message */
  constructor (code, message) {
    super(message)
    this.code = code
  }
}

/** Moves a `#token=…` fragment into sessionStorage and out of the address bar (and so out of history and bookmarks). */
export function takeTokenFromUrl () {
  const params = new URLSearchParams(location.hash.slice(1))
  const token = params.get('token')
  if (token == null) return
  sessionStorage.setItem(TOKEN_KEY, token)
  history.replaceState(null, '', location.pathname + location.search)
}

/** Keeps a token the user pasted: the token itself, or the whole dashboard address. @param {string} text */
export function rememberToken (text) {
  const trimmed = text.trim()
  const fragment = trimmed.includes('#') ? trimmed.slice(trimmed.indexOf('#') + 1) : ''
  const token = new URLSearchParams(fragment).get('token') ?? trimmed
  if (token !== '') sessionStorage.setItem(TOKEN_KEY, token)
}

/**
 * Gets a session cookie: from the tab's token when it has one, else by checking the cookie it may still hold.
 * @returns {Promise<'ok' | 'unauthorized' | 'offline'>}
 */
export async function signIn () {
  const token = sessionStorage.getItem(TOKEN_KEY)
  try {
    const res = token != null
      ? await fetch('/api/v1/session', { method: 'POST', headers: { authorization: `Bearer ${token}` } })
      : await fetch('/api/v1/id')
    if (res.ok) return 'ok'
    if (res.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY)
      return 'unauthorized'
    }
    return 'offline'
  } catch {
    return 'offline'
  }
}

/**
 * Uploads a file with progress; resolves with the put's result (the link) once the peer has placed every chunk.
 * @param {File} file
 * @param {{ replicas?: number, onProgress?(sent: number, total: number): void, onSent?(): void }} options
 * @returns {Promise<PutResult>}
 */
export function upload (file, options = {}) {
  const q = new URLSearchParams({ name: file.name })
  if (options.replicas != null) q.set('replicas', String(options.replicas))
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('POST', `/api/v1/put?${q.toString()}`)
    xhr.upload.addEventListener('progress', (e) => { options.onProgress?.(e.loaded, e.lengthComputable ? e.total : file.size) })
    xhr.upload.addEventListener('load', () => { options.onSent?.() })
    xhr.addEventListener('load', () => {
      if (xhr.status === 200) resolve(JSON.parse(xhr.responseText))
      else reject(errorFrom(xhr.status, xhr.responseText))
    })
    xhr.addEventListener('error', () => { reject(new ApiError('ERR_NETWORK', 'the upload was cut off: is the peer still running?')) })
    xhr.send(file)
  })
}

/**
 * Downloads a file by link through the browser's own download manager, which streams it to disk. A HEAD request
 * first checks the link (it reads the manifest only), so a bad link gives a message instead of a failed download.
 * @param {string} link
 * @returns {Promise<{ name: string, size: number }>}
 */
export async function download (link) {
  const url = `/api/v1/get?${new URLSearchParams({ link: link.trim(), download: '1' }).toString()}`
  const head = await fetch(url, { method: 'HEAD' })
  if (!head.ok) {
    const detail = head.headers.get('x-ionnet-error')
    const error = detail != null ? JSON.parse(decodeURIComponent(detail)) : { code: 'ERR_HTTP', message: `HTTP ${head.status}` }
    throw new ApiError(error.code, error.message)
  }
  const name = decodeURIComponent(head.headers.get('x-ionnet-name') ?? '')
  const a = document.createElement('a')
  a.href = url
  a.download = name
  a.hidden = true
  document.body.append(a)
  a.click()
  a.remove()
  return { name, size: Number(head.headers.get('x-ionnet-size') ?? 0) }
}

/** @param {number} status @param {string} text */
function errorFrom (status, text) {
  try {
    const { error } = JSON.parse(text)
    return new ApiError(error.code, error.message)
  } catch {
    return new ApiError('ERR_HTTP', `HTTP ${status}`)
  }
}
