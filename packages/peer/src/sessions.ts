import { createHash, randomBytes } from 'node:crypto'
import { MAX_SESSIONS, SESSION_TTL } from './constants.ts'

/** Optional settings; defaults in constants.ts. */
export interface SessionStoreInit {
  /** ms a session lasts. */
  ttl?: number
  /** Sessions kept at once; the oldest is forgotten first. */
  max?: number
}

/**
 * Dashboard sessions: random IDs handed to the browser in an HttpOnly cookie after it showed the API token once,
 * so the page's event stream and downloads (plain browser requests, which cannot carry an Authorization header)
 * are authenticated. Only the IDs' hashes are kept, in memory: a restart ends every session and the page makes a
 * new one from the token it kept for the tab.
 */
export class SessionStore {
  readonly ttl: number
  readonly #max: number
  /** sha2-256 of the ID → expiry (ms since the epoch), oldest first. */
  readonly #sessions = new Map<string, number>()

  constructor (init: SessionStoreInit = {}) {
    this.ttl = init.ttl ?? SESSION_TTL
    this.#max = init.max ?? MAX_SESSIONS
  }

  /** A new session ID. */
  create (now = Date.now()): string {
    this.#expire(now)
    while (this.#sessions.size >= this.#max) this.#sessions.delete(this.#sessions.keys().next().value as string)
    const id = randomBytes(32).toString('base64url')
    this.#sessions.set(digest(id), now + this.ttl)
    return id
  }

  /** True when `id` names a live session. Looked up by hash, so lookup timing tells nothing about the IDs. */
  valid (id: string | undefined, now = Date.now()): boolean {
    if (id == null || id === '') return false
    const expires = this.#sessions.get(digest(id))
    return expires != null && expires > now
  }

  delete (id: string | undefined): void {
    if (id != null) this.#sessions.delete(digest(id))
  }

  #expire (now: number): void {
    for (const [key, expires] of this.#sessions) if (expires <= now) this.#sessions.delete(key)
  }
}

/**
 * Cookie name of the sessions of the API on `port`. Browsers share cookies between the ports of one host, so two
 * peers on one machine need different names to keep both dashboards signed in.
 */
export function sessionCookieName (port: string | number): string {
  return `ionnet-session-${port}`
}

/** The value of one cookie in a Cookie header. */
export function readCookie (header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

function digest (id: string): string {
  return createHash('sha256').update(id).digest('base64url')
}
