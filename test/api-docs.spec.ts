import { expect } from 'chai'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { dirname, join, resolve } from 'node:path'
import { ERROR_CODES, IonNetClient } from '@ionnet/client'
import { cleanup, startPeer, tempDir, waitFor } from './helpers/network.ts'
import type { TestPeer } from './helpers/network.ts'
import type { IncomingHttpHeaders } from 'node:http'

const ROOT = new URL('../', import.meta.url).pathname
const DOC_PATH = join(ROOT, 'docs/API.md')
const HTTP_API_PATH = join(ROOT, 'packages/peer/src/http-api.ts')

/** One documented request, as its curl example writes it, and the answer block that follows it. */
interface Example {
  curl: string
  answer: { lang: string, text: string }
}

interface Endpoint {
  route: string
  method: string
  path: string
  examples: Example[]
  /** Answer fields the section marks optional (`name?`). */
  optional: Set<string>
}

interface Doc {
  endpoints: Endpoint[]
  /** The code table of the Errors section: code → status (null for "—"). */
  codes: Map<string, number | null>
  /** The shell lines that read $API and $TOKEN from api.json. */
  shell: string
  text: string
}

function blocks (text: string): Array<{ lang: string, text: string }> {
  return [...text.matchAll(/```(\w+)\n([\s\S]*?)\n```/g)].map(m => ({ lang: m[1], text: m[2] }))
}

function parseDoc (text: string): Doc {
  const endpointsPart = text.slice(text.indexOf('\n## Endpoints'))
  const sections = endpointsPart.split(/^### /m).slice(1)
  const endpoints = sections.map((section): Endpoint => {
    const [heading] = section.split('\n', 1)
    const m = /^(GET|POST) (\/api\/v1\/[\w-]+)$/.exec(heading)
    if (m == null) throw new Error(`endpoint heading not of the form "### METHOD /api/v1/x": ${heading}`)
    const examples: Example[] = []
    const found = blocks(section)
    found.forEach((b, i) => {
      if (b.lang !== 'sh') return
      const answer = found[i + 1]
      if (answer == null || answer.lang === 'sh') throw new Error(`${heading}: the example ${b.text} has no answer block after it`)
      examples.push({ curl: b.text, answer })
    })
    const optional = new Set([...section.matchAll(/`(\w+)\?`/g)].map(o => o[1]))
    return { route: heading, method: m[1], path: m[2], examples, optional }
  })
  const errorsPart = text.slice(text.indexOf('\n## Errors'), text.indexOf('\n## Endpoints'))
  const codes = new Map<string, number | null>()
  for (const row of errorsPart.matchAll(/^\| `(ERR_[A-Z_]+)` \| (\d{3}|—) \|/gm)) codes.set(row[1], row[2] === '—' ? null : Number(row[2]))
  const reaching = text.slice(text.indexOf('\n## Reaching the API'), text.indexOf('\n## Authentication'))
  const shell = blocks(reaching).find(b => b.lang === 'sh' && b.text.includes('TOKEN='))?.text ?? ''
  return { endpoints, codes, shell, text }
}

/** Splits a shell command into words: quotes, `\` line continuations, and `$VAR` inside double quotes. */
function shellWords (command: string, vars: Record<string, string>): string[] {
  const words: string[] = []
  let word: string | undefined
  const src = command.replace(/\\\n\s*/g, ' ')
  for (let i = 0; i < src.length; i++) {
    const c = src[i]
    if (c === ' ' || c === '\t' || c === '\n') {
      if (word != null) words.push(word)
      word = undefined
    } else if (c === '\'') {
      const end = src.indexOf('\'', i + 1)
      word = (word ?? '') + src.slice(i + 1, end)
      i = end
    } else if (c === '"') {
      const end = src.indexOf('"', i + 1)
      word = (word ?? '') + src.slice(i + 1, end).replace(/\$(\w+)/g, (_, name: string) => {
        if (vars[name] == null) throw new Error(`the example uses $${name}, which the docs never define`)
        return vars[name]
      })
      i = end
    } else {
      word = (word ?? '') + c
    }
  }
  if (word != null) words.push(word)
  return words
}

interface DocRequest {
  method: string
  url: URL
  headers: Record<string, string>
  body?: Buffer
}

/** The request a documented curl command sends; only the flags the docs use are understood, so new ones fail here. */
async function curlRequest (command: string, vars: Record<string, string>, cwd: string): Promise<DocRequest> {
  const words = shellWords(command, vars)
  if (words.shift() !== 'curl') throw new Error(`not a curl command: ${command}`)
  let method: string | undefined
  let get = false
  let url: URL | undefined
  const headers: Record<string, string> = {}
  const data: Buffer[] = []
  const query: Array<[string, string]> = []
  while (words.length > 0) {
    const w = words.shift()!
    if (/^-[sSNi]+$/.test(w)) continue
    if (w === '-G') get = true
    else if (w === '-X') method = words.shift()
    else if (w === '-o') words.shift()
    else if (w === '-H') {
      const [name, ...value] = words.shift()!.split(':')
      headers[name.trim().toLowerCase()] = value.join(':').trim()
    } else if (w === '--data-binary') {
      const d = words.shift()!
      data.push(d.startsWith('@') ? await readFile(resolve(cwd, d.slice(1))) : Buffer.from(d))
    } else if (w === '--data-urlencode') {
      const d = words.shift()!
      const eq = d.indexOf('=')
      query.push([d.slice(0, eq), d.slice(eq + 1)])
    } else if (!w.startsWith('-')) url = new URL(w)
    else throw new Error(`the docs test does not understand curl's ${w}`)
  }
  if (url == null) throw new Error(`no URL in ${command}`)
  if (query.length > 0 && !get) throw new Error(`--data-urlencode without -G would send a form body: ${command}`)
  for (const [k, v] of query) url.searchParams.append(k, v)
  return { method: method ?? (data.length > 0 && !get ? 'POST' : 'GET'), url, headers, body: data.length > 0 ? Buffer.concat(data) : undefined }
}

interface Answer {
  status: number
  headers: IncomingHttpHeaders
  trailers: NodeJS.Dict<string>
  body: Buffer
}

/** Sends a request and reads the whole answer, or only its head for an event stream, which never ends. */
async function send (req: DocRequest): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const r = request(req.url, { method: req.method, headers: req.headers }, (res) => {
      if (String(res.headers['content-type']).startsWith('text/event-stream')) {
        res.destroy()
        resolve({ status: res.statusCode ?? 0, headers: res.headers, trailers: {}, body: Buffer.alloc(0) })
        return
      }
      const parts: Buffer[] = []
      res.on('data', (d: Buffer) => parts.push(d))
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, trailers: res.trailers, body: Buffer.concat(parts) }) })
      res.on('error', reject)
    })
    r.on('error', reject)
    r.end(req.body)
  })
}

/** Where an answer's shape differs from the documented example: missing or undocumented fields, other types. */
function shapeDiff (documented: unknown, actual: unknown, optional: Set<string>, at = '$'): string[] {
  // a documented null stands for "null or a value" (capacity, free), so either side may be null
  if (documented === null || actual === null) return []
  if (Array.isArray(documented)) {
    if (!Array.isArray(actual)) return [`${at}: documented an array, answered ${typeof actual}`]
    if (documented.length === 0) return []
    return actual.flatMap((item, i) => shapeDiff(documented[0], item, optional, `${at}[${i}]`))
  }
  if (typeof documented === 'object') {
    if (typeof actual !== 'object' || Array.isArray(actual)) return [`${at}: documented an object, answered ${JSON.stringify(actual)}`]
    const doc = documented as Record<string, unknown>
    const act = actual as Record<string, unknown>
    const problems: string[] = []
    for (const k of Object.keys(doc)) if (!(k in act) && !optional.has(k)) problems.push(`${at}.${k}: documented, not answered`)
    for (const k of Object.keys(act)) {
      if (!(k in doc)) problems.push(`${at}.${k}: answered, not documented`)
      else problems.push(...shapeDiff(doc[k], act[k], optional, `${at}.${k}`))
    }
    return problems
  }
  return typeof documented === typeof actual ? [] : [`${at}: documented ${typeof documented}, answered ${typeof actual}`]
}

describe('docs/API.md describes the API a real peer serves', function () {
  this.timeout(120_000)
  // read at once: the documented endpoints become the test cases
  const doc = parseDoc(readFileSync(DOC_PATH, 'utf8'))
  const peers: TestPeer[] = []
  let dir: string
  let vars: Record<string, string>
  let file: Buffer

  before(async () => {
    dir = await tempDir()
    const first = await startPeer()
    peers.push(first)
    peers.push(await startPeer({ bootstrap: [first] }))
    const info = JSON.parse(await readFile(join(first.repo, 'api.json'), 'utf8'))
    const client = new IonNetClient(info)
    // the peers example shows a row: wait for one, so an empty list cannot pass for the documented shape
    await waitFor(async () => (await client.peers()).some(p => p.alive), { message: 'the second peer to be seen alive' })
    file = Buffer.from('photo bytes, documented')
    await writeFile(join(dir, 'photo.jpg'), file)
    const { link } = await client.put(file, { name: 'photo.jpg' })
    vars = { API: info.url, TOKEN: info.token, LINK: link, PWD: dir }
  })

  after(async () => {
    await cleanup(peers)
    await rm(dir, { recursive: true, force: true })
  })

  it('documents every endpoint the peer routes, and no other', async () => {
    const source = await readFile(HTTP_API_PATH, 'utf8')
    const routed = new Set([...source.matchAll(/'((?:GET|POST) \/api\/v1\/[\w-]+)'/g)].map(m => m[1]))
    const documented = new Set(doc.endpoints.map(e => e.route))
    expect(routed.size, 'routes found in http-api.ts').to.be.greaterThan(0)
    for (const route of routed) expect(documented, `${route} is served but not documented`).to.include(route)
    for (const route of documented) expect(routed, `${route} is documented but not routed`).to.include(route)
    for (const e of doc.endpoints) expect(e.examples.length, `${e.route} has no curl example`).to.be.greaterThan(0)
  })

  for (const endpoint of doc.endpoints) {
    it(`${endpoint.route} answers its examples as documented`, async function () {
      for (const example of endpoint.examples) {
        const req = await curlRequest(example.curl, vars, dir)
        expect(req.method, example.curl).to.equal(endpoint.method)
        expect(req.url.pathname, example.curl).to.equal(endpoint.path)
        expect(req.headers.authorization, `${example.curl} sends the token`).to.equal(`Bearer ${vars.TOKEN}`)
        const answer = await send(req)
        expect(answer.status, `${example.curl}: ${answer.body.toString().slice(0, 300)}`).to.equal(200)
        if (example.answer.lang === 'json') {
          expect(answer.headers['content-type']).to.equal('application/json')
          const problems = shapeDiff(JSON.parse(example.answer.text), JSON.parse(answer.body.toString()), endpoint.optional)
          expect(problems, example.curl).to.deep.equal([])
        } else if (endpoint.path === '/api/v1/events') {
          expect(answer.headers['content-type']).to.match(/^text\/event-stream/)
        } else {
          expect(endpoint.path, 'only get and events answer something other than JSON').to.equal('/api/v1/get')
          expect(answer.headers['content-type']).to.equal('application/octet-stream')
          expect(decodeURIComponent(String(answer.headers['x-ionnet-name']))).to.equal('photo.jpg')
          expect(Number(answer.headers['x-ionnet-size'])).to.equal(file.length)
          expect(answer.body.equals(file), 'the bytes of the file put').to.equal(true)
          expect(answer.trailers['x-ionnet-status']).to.equal('ok')
        }
      }
    })
  }

  it('answers every documented endpoint with 401 ERR_UNAUTHORIZED without the token', async () => {
    for (const endpoint of doc.endpoints) {
      const req = await curlRequest(endpoint.examples[0].curl, vars, dir)
      delete req.headers.authorization
      const answer = await send(req)
      expect(answer.status, endpoint.route).to.equal(401)
      expect(JSON.parse(answer.body.toString()).error.code, endpoint.route).to.equal('ERR_UNAUTHORIZED')
    }
  })

  it('answers routes it does not document with 404 ERR_NOT_FOUND', async () => {
    const auth = { authorization: `Bearer ${vars.TOKEN}` }
    // paths outside /api/ are left out: the dashboard's pages may live there
    const undocumented = [['GET', '/api/v1/nope'], ['POST', '/api/v1/id'], ['GET', '/api/v1/peers/x'], ['GET', '/api/v2/id']]
    for (const [method, path] of undocumented) {
      expect(doc.endpoints.map(e => e.route)).to.not.include(`${method} ${path}`)
      const answer = await send({ method, url: new URL(path, vars.API), headers: auth })
      expect(answer.status, `${method} ${path}`).to.equal(404)
      expect(JSON.parse(answer.body.toString()).error.code).to.equal('ERR_NOT_FOUND')
    }
    // the control: the same request to a documented route is answered
    expect((await send({ method: 'GET', url: new URL('/api/v1/id', vars.API), headers: auth })).status).to.equal(200)
  })

  it('lists exactly the codes of ERROR_CODES, with their statuses, and mentions no other code', () => {
    const table = Object.fromEntries(Object.entries(ERROR_CODES).map(([code, info]) => [code, info.status]))
    expect(Object.fromEntries(doc.codes)).to.deep.equal(table)
    const mentioned = new Set([...doc.text.matchAll(/\bERR_[A-Z_]+[A-Z]\b/g)].map(m => m[0]))
    for (const code of mentioned) expect(table, `docs mention ${code}`).to.have.property(code)
  })

  it('gives shell lines that read $API and $TOKEN from <repo>/api.json', async () => {
    expect(doc.shell).to.not.equal('')
    const out = execFileSync('bash', ['-c', `${doc.shell}\nprintf '%s %s' "$API" "$TOKEN"`], {
      encoding: 'utf8',
      env: { ...process.env, IONNET_REPO: peers[0].repo, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` }
    })
    expect(out).to.equal(`${vars.API} ${vars.TOKEN}`)
  })
})
