import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { IncomingMessage, ServerResponse } from 'node:http'

/** The dashboard's static files: plain HTML, CSS and ES modules, no build step. */
const DASHBOARD_DIR = fileURLToPath(new URL('../dashboard/', import.meta.url))

/** Only these kinds are served; anything else in the folder (tsconfig, type declarations) stays private. */
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml'
}

/**
 * The page may run only its own scripts and styles, talk only to its own origin, and be framed by nobody: an
 * injected file name can never become code, and no other page can overlay the dashboard.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'"
].join('; ')

interface StaticFile {
  type: string
  body: Buffer
  etag: string
}

/** The URL `ionnet peer start` prints: the token rides in the fragment, which browsers never send to a server. */
export function dashboardUrl (apiUrl: string, token: string): string {
  return `${apiUrl}/#token=${encodeURIComponent(token)}`
}

/**
 * Serves the dashboard at `/` and its files at `/<name>`, from memory: they are read once at start (a few KiB).
 * They hold no secret, so they load without the token; every data call the page makes needs it.
 */
export class DashboardFiles {
  readonly #dir: string
  readonly #files = new Map<string, StaticFile>()

  constructor (init: { dir?: string } = {}) {
    this.#dir = init.dir ?? DASHBOARD_DIR
  }

  async load (): Promise<void> {
    for (const name of await readdir(this.#dir)) {
      const type = TYPES[extname(name)]
      if (type == null) continue
      const body = await readFile(join(this.#dir, name))
      this.#files.set(`/${name}`, { type, body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` })
    }
    const index = this.#files.get('/index.html')
    if (index != null) this.#files.set('/', index)
  }

  /** The file a GET of `pathname` names, if any. */
  match (pathname: string): StaticFile | undefined {
    return this.#files.get(pathname)
  }

  serve (req: IncomingMessage, res: ServerResponse, file: StaticFile): void {
    const headers = {
      'content-security-policy': DASHBOARD_CSP,
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
      'cache-control': 'no-cache',
      etag: file.etag
    }
    if (req.headers['if-none-match'] === file.etag) {
      res.writeHead(304, headers)
      res.end()
      return
    }
    res.writeHead(200, { ...headers, 'content-type': file.type, 'content-length': file.body.length })
    res.end(req.method === 'HEAD' ? undefined : file.body)
  }
}
