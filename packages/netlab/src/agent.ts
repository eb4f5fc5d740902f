#!/usr/bin/env node
/**
 * The lab's hand inside a host. The lab starts one per host it questions (`ip netns exec <ns> node agent.ts
 * <repo>`), because the peer's API listens on the namespace's own 127.0.0.1. It reads one request per line on stdin,
 * `{"id":1,"method":"GET","path":"/api/v1/health?link=...","timeout":120000}`, calls the API with the address and
 * token from `<repo>/api.json` (read again each time: a restarted peer writes a new one), and answers one line,
 * `{"id":1,"status":200,"body":{...}}`; status 0 when the API could not be reached.
 *
 * It does what `ionnet <command> --json` does through the same documented HTTP API, without starting Node for every
 * question: polling health and peers from a dozen hosts with CLI processes would spend a core of this machine on
 * measuring alone. When the lab goes away its stdin closes, and the agent exits.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

interface Request { id: number, method: string, path: string, timeout: number }

const repo = process.argv[2]
const lines = createInterface({ input: process.stdin })
lines.on('line', (line) => { void answer(JSON.parse(line)) })
lines.on('close', () => { process.exit(0) })

async function answer (req: Request): Promise<void> {
  try {
    const { url, token } = JSON.parse(await readFile(join(repo, 'api.json'), 'utf8'))
    const res = await fetch(new URL(req.path, url), { method: req.method, headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(req.timeout) })
    reply({ id: req.id, status: res.status, body: await res.json() })
  } catch (err: any) {
    const code = err.code === 'ENOENT' ? 'ERR_PEER_NOT_RUNNING' : err.cause?.code ?? err.code ?? err.name
    reply({ id: req.id, status: 0, body: { error: { code, message: err.cause?.message ?? err.message } } })
  }
}

function reply (message: unknown): void {
  process.stdout.write(JSON.stringify(message) + '\n')
}
