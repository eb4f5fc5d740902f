import { expect } from 'chai'
import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, rm } from 'node:fs/promises'
import { request } from 'node:http'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { findChromium } from './helpers/browser.ts'
import { cleanup, randomFile, sha256File, startNetwork, startPeer, tempDir, waitForMesh } from './helpers/network.ts'
import type { TestPeer } from './helpers/network.ts'
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import type { Browser, Page } from 'playwright-core'

const MiB = 1024 * 1024
const ARTIFACTS = new URL('./artifacts/', import.meta.url).pathname
/** Dead after 3 s of silence and repairs only on membership changes: a killed holder stays visible for seconds. */
const PEER_ARGS = ['--dead-after', '6', '--heal-interval', '600000']

interface Answer {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

/** A plain HTTP request to a peer's API, as a browser or another page would send it. */
async function call (base: string, path: string, init: { method?: string, headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { method: init.method ?? 'GET', headers: init.headers }, (res) => {
      let body = ''
      res.on('data', (d) => { body += String(d) })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body }) })
    })
    req.on('error', reject)
    req.end()
  })
}

interface EventStreamReader {
  res: IncomingMessage
  /** The next message of `type`, parsed. */
  next(type: string, timeout?: number): Promise<any>
  /** Resolves when the response is over: `complete` tells whether it ended cleanly or was cut. */
  closed: Promise<{ complete: boolean }>
  close(): void
}

/** Opens `GET /api/v1/events` and parses its messages as they come. */
async function openEvents (base: string, headers: Record<string, string>): Promise<EventStreamReader> {
  return new Promise((resolve, reject) => {
    const req = request(new URL('/api/v1/events', base), { headers }, (res) => {
      if (res.statusCode !== 200) {
        res.resume()
        reject(new Error(`events answered ${res.statusCode}`))
        return
      }
      const messages: Array<{ type: string, data: any }> = []
      let waiting: (() => void) | undefined
      let buffer = ''
      res.setEncoding('utf8')
      res.on('data', (text: string) => {
        buffer += text
        let end: number
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const type = /^event: (.*)$/m.exec(block)?.[1]
          const data = /^data: (.*)$/m.exec(block)?.[1]
          if (type != null && data != null) messages.push({ type, data: JSON.parse(data) })
        }
        waiting?.()
      })
      const closed = new Promise<{ complete: boolean }>(resolve => res.once('close', () => { resolve({ complete: res.complete }) }))
      resolve({
        res,
        closed,
        close: () => { req.destroy() },
        next: async (type, timeout = 10_000) => {
          const deadline = Date.now() + timeout
          for (;;) {
            const i = messages.findIndex(m => m.type === type)
            if (i >= 0) return messages.splice(0, i + 1)[i].data
            if (Date.now() > deadline) throw new Error(`no ${type} event within ${timeout} ms`)
            await new Promise<void>(resolve => {
              const t = setTimeout(resolve, 200)
              waiting = () => { clearTimeout(t); resolve() }
            })
          }
        }
      })
    })
    req.on('error', reject)
    req.end()
  })
}

async function tokenOf (peer: TestPeer): Promise<string> {
  return (await readFile(join(peer.repo, 'api-token'), 'utf8')).trim()
}

describe('dashboard: the page and its event stream on the local API', function () {
  this.timeout(60_000)
  let peer: TestPeer
  let token: string
  let base: string

  before(async () => {
    peer = await startPeer()
    token = await tokenOf(peer)
    base = peer.api
  })
  after(async () => { await cleanup([peer]) })

  it('serves the page and its files without the token, under a strict Content-Security-Policy', async () => {
    const page = await call(base, '/')
    expect(page.status).to.equal(200)
    expect(page.headers['content-type']).to.match(/^text\/html/)
    expect(page.body).to.include('<script type="module" src="/app.js">')
    const csp = String(page.headers['content-security-policy'])
    expect(csp).to.include("default-src 'none'")
    expect(csp).to.include("script-src 'self'")
    expect(csp).to.include("frame-ancestors 'none'")
    expect(csp).to.not.include('unsafe-inline')
    expect(page.headers['x-content-type-options']).to.equal('nosniff')
    for (const file of ['/app.js', '/api.js', '/view.js', '/format.js', '/style.css']) {
      expect((await call(base, file)).status, file).to.equal(200)
    }
    // the folder's other files (its tsconfig) are not served, and data still needs the token
    expect((await call(base, '/tsconfig.json')).status).to.equal(401)
    expect((await call(base, '/api/v1/files')).status).to.equal(401)
  })

  it('prints the dashboard address with the token in its fragment', async () => {
    const { url } = await peer.json<{ url: string }>(['dashboard'])
    expect(url).to.equal(`${base}/#token=${token}`)
  })

  it('answers 401 on /api/v1/events without the token, and streams snapshots with it', async () => {
    const refused = await call(base, '/api/v1/events')
    expect(refused.status).to.equal(401)
    expect(JSON.parse(refused.body).error.code).to.equal('ERR_UNAUTHORIZED')
    expect((await call(base, '/api/v1/events', { headers: { authorization: 'Bearer nope' } })).status).to.equal(401)

    const events = await openEvents(base, { authorization: `Bearer ${token}` })
    try {
      expect(events.res.headers['content-type']).to.match(/^text\/event-stream/)
      const first = await events.next('snapshot')
      expect(first.self.peerId).to.equal(peer.peerId)
      expect(first).to.have.keys(['at', 'self', 'peers', 'files', 'rates', 'repairs'])
      expect(first.rates).to.have.keys(['inBytesPerSec', 'outBytesPerSec'])
      const second = await events.next('snapshot', 3000)
      expect(second.at).to.be.greaterThan(first.at)
    } finally {
      events.close()
    }
  })

  it('trades the token for an HttpOnly SameSite=Strict cookie that counts only on same-origin browser requests', async () => {
    const session = await call(base, '/api/v1/session', { method: 'POST', headers: { authorization: `Bearer ${token}` } })
    expect(session.status).to.equal(200)
    const setCookie = String(session.headers['set-cookie'])
    expect(setCookie).to.match(/HttpOnly/).and.to.match(/SameSite=Strict/).and.to.match(/Path=\/api\/v1\//)
    const cookie = setCookie.split(';')[0]
    const sameOrigin = { cookie, 'sec-fetch-site': 'same-origin' }
    expect((await call(base, '/api/v1/id', { headers: sameOrigin })).status).to.equal(200)
    // negative controls: the same cookie from another port of this host (same site), from no browser, or forged
    expect((await call(base, '/api/v1/id', { headers: { cookie, 'sec-fetch-site': 'same-site' } })).status).to.equal(401)
    expect((await call(base, '/api/v1/id', { headers: { cookie } })).status).to.equal(401)
    expect((await call(base, '/api/v1/id', { headers: { ...sameOrigin, cookie: cookie.replace(/=.*/, '=forged') } })).status).to.equal(401)
    // a cookie cannot mint another session: that takes the token itself
    expect((await call(base, '/api/v1/session', { method: 'POST', headers: sameOrigin })).status).to.equal(401)
    // and signing out ends it
    expect((await call(base, '/api/v1/session', { method: 'DELETE', headers: sameOrigin })).status).to.equal(204)
    expect((await call(base, '/api/v1/id', { headers: sameOrigin })).status).to.equal(401)
  })

  it('refuses cross-origin requests to the stream and the page, token or not', async () => {
    const auth = { authorization: `Bearer ${token}` }
    expect((await call(base, '/api/v1/events', { headers: { ...auth, origin: 'http://evil.example' } })).status).to.equal(403)
    expect((await call(base, '/api/v1/events', { headers: { ...auth, origin: `http://127.0.0.1:${Number(new URL(base).port) + 1}` } })).status).to.equal(403)
    expect((await call(base, '/', { headers: { host: 'evil.example:80' } })).status).to.equal(403)
    expect((await call(base, '/api/v1/session', { method: 'POST', headers: { ...auth, origin: 'http://evil.example' } })).status).to.equal(403)
  })

  it('ends open event streams cleanly when the peer stops', async () => {
    const events = await openEvents(base, { authorization: `Bearer ${token}` })
    await events.next('snapshot')
    await peer.stop()
    expect(await events.closed).to.deep.equal({ complete: true })
  })
})

/** Chunk files (not sidecars) in a peer's repo. */
async function chunkCount (peer: TestPeer): Promise<number> {
  const blocks = join(peer.repo, 'chunks', 'blocks')
  let n = 0
  for (const shard of await readdir(blocks).catch(() => [])) {
    n += (await readdir(join(blocks, shard))).filter(name => !name.includes('.')).length
  }
  return n
}

/** The states of the cells of the page's strips, in order: what the user sees, colour by colour. */
async function cellStates (page: Page): Promise<string[]> {
  return page.$$eval('#files .strip .cell', cells => cells.map(c => (c as HTMLElement).dataset.state ?? 'none'))
}

/** Waits until the strips' cells satisfy `ok`, looking every 100 ms; on timeout, says what the page showed. */
async function waitForCells (page: Page, what: string, timeout: number, ok: (states: string[]) => boolean): Promise<void> {
  const deadline = Date.now() + timeout
  let states: string[] = []
  while (Date.now() < deadline) {
    states = await cellStates(page)
    if (ok(states)) return
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  throw new Error(`the page did not show ${what} within ${timeout} ms; its cells: ${states.join(' ') || 'none'}`)
}

describe('dashboard: in a real browser', function () {
  this.timeout(120_000)
  const peers: TestPeer[] = []
  let browser: Browser | undefined
  let page: Page
  let dir: string
  let file: { path: string, sha256: string }
  let link = ''

  before(async function () {
    this.timeout(15 * 60_000) // the first run may install chromium
    const found = await findChromium()
    if (!('path' in found)) {
      console.warn(`      skipping the browser tests: ${found.reason}`)
      this.skip()
    }
    dir = await tempDir()
    file = await randomFile(dir, 'three.bin', 3 * MiB)
    await mkdir(ARTIFACTS, { recursive: true })
    const [network] = await Promise.all([
      startNetwork(5, { heartbeat: 500, args: PEER_ARGS }),
      chromium.launch({ executablePath: found.path, headless: true }).then(b => { browser = b })
    ])
    peers.push(...network)
    await waitForMesh(peers)
    const context = await browser!.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true })
    page = await context.newPage()
  })

  after(async () => {
    await browser?.close()
    await cleanup(peers)
    if (dir != null) await rm(dir, { recursive: true, force: true })
  })

  it('signs in with the token from the address, drops it from the address bar, and shows every live peer', async () => {
    const { url } = await peers[0].json<{ url: string }>(['dashboard'])
    await page.goto(url)
    await page.waitForSelector('#status[data-state="live"]', { timeout: 10_000 })
    expect(page.url()).to.not.include('token')
    const others = peers.slice(1).map(p => p.peerId).sort()
    await page.waitForFunction((n) => document.querySelectorAll('#peers tbody tr[data-state="alive"]').length === n, others.length, { timeout: 15_000 })
    const shown = await page.$$eval('#peers tbody tr[data-state="alive"]', rows => rows.map(r => r.getAttribute('data-peer')))
    expect(shown.sort()).to.deep.equal(others)
    expect(await page.getAttribute('#peers tbody tr[data-state="self"]', 'data-peer')).to.equal(peers[0].peerId)
  })

  it('uploads a file through the page and shows its link', async () => {
    await page.setInputFiles('#file-input', file.path)
    await page.waitForSelector('#upload-result:not([hidden])', { timeout: 30_000 })
    link = await page.inputValue('#upload-link')
    expect(link).to.match(/^ionnet:\/\/b[a-z2-7]+#z[1-9A-HJ-NP-Za-km-z]+$/)
    expect(await page.getAttribute('#upload-status', 'data-state')).to.equal('done')
    // the file's strip appears, every block at its 3 copies
    await waitForCells(page, 'a strip of 3 blocks (2 chunks, the manifest) at 3 copies', 15_000, cells => cells.length === 3 && cells.every(c => c === 'at'))
    expect(await page.textContent('#files .file .name')).to.equal('three.bin')
  })

  it('downloads the file through the page, byte for byte', async () => {
    await page.fill('#download-link', link)
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 30_000 }),
      page.click('#download-form button[type="submit"]')
    ])
    expect(download.suggestedFilename()).to.equal('three.bin')
    const saved = join(dir, 'downloaded.bin')
    await download.saveAs(saved)
    expect(await download.failure()).to.equal(null)
    expect(await sha256File(saved)).to.equal(file.sha256)
    // a broken link gives a message, not a download
    await page.fill('#download-link', 'ionnet://nonsense')
    await page.click('#download-form button[type="submit"]')
    await page.waitForSelector('#download-status[data-state="error"]', { timeout: 10_000 })
  })

  it('colours a killed holder\'s blocks below target, then back at target as the healer repairs them', async () => {
    const holders: TestPeer[] = []
    for (const p of peers.slice(1)) if (await chunkCount(p) > 0) holders.push(p)
    expect(holders.length).to.be.greaterThan(0)
    const victim = holders[0]
    await victim.kill()

    await waitForCells(page, 'some block below 3 copies', 15_000, cells => cells.some(c => c === 'under' || c === 'missing'))
    await page.waitForSelector(`#peers tbody tr[data-peer="${victim.peerId}"][data-state="dead"]`, { timeout: 10_000 })
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-degraded.png') })

    await waitForCells(page, 'every block back at 3 copies or more', 20_000, cells => cells.length === 3 && cells.every(c => c === 'at' || c === 'over'))
    const repairs = peers.flatMap(p => p.events('repair')).filter(e => e.reason === 'repair')
    expect(repairs.length).to.be.greaterThan(0)
  })

  it('uploads a file dropped on the page, and the link gets the same bytes back on another peer', async () => {
    const size = 300 * 1024
    const dataTransfer = await page.evaluateHandle((n) => {
      const bytes = new Uint8Array(n).map((_, i) => (i * 31 + 7) & 0xff)
      const dt = new DataTransfer()
      dt.items.add(new File([bytes], 'dropped.bin'))
      return dt
    }, size)
    await page.dispatchEvent('#drop', 'dragenter', { dataTransfer })
    await page.dispatchEvent('#drop', 'drop', { dataTransfer })
    await page.waitForFunction(() => (document.getElementById('upload-link') as HTMLInputElement).value.includes('#') &&
      document.getElementById('upload-status')?.textContent?.startsWith('dropped.bin') === true, null, { timeout: 30_000 })
    const dropped = await page.inputValue('#upload-link')
    expect(dropped).to.not.equal(link)
    await page.waitForSelector('#files .file .name >> text=dropped.bin', { timeout: 10_000 })

    const reader = peers.find(p => p.running && p !== peers[0])!
    const out = join(dir, 'dropped.bin')
    const r = await reader.run(['get', dropped, '-o', out])
    expect(r.code, r.stderr).to.equal(0)
    const expected = createHash('sha256').update(Uint8Array.from({ length: size }, (_, i) => (i * 31 + 7) & 0xff)).digest('hex')
    expect(await sha256File(out)).to.equal(expected)
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png') })
  })
})
