import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { API_INFO_FILE } from './constants.ts'
import { LocalFileError, PeerNotRunningError } from './errors.ts'
import type { ApiInfo } from './api-types.ts'

/**
 * Reads `<repo>/api.json`, which a peer writes when its API is up and removes when it stops. No file means no peer;
 * a file that is not a valid record is treated the same, since the peer writes it whole (write, then rename). A file
 * that exists but cannot be read (another user's peer: it is mode 0600) is a LocalFileError, so the message says so.
 */
export async function readApiInfo (repoDir: string): Promise<ApiInfo> {
  const dir = resolve(repoDir)
  const notRunning = (): PeerNotRunningError =>
    new PeerNotRunningError(`no peer is running for repo ${dir}; start one with: ionnet peer start --repo ${dir}`)
  const path = join(dir, API_INFO_FILE)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err: any) {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') throw notRunning()
    throw new LocalFileError(`cannot read ${path}: ${err.message}`)
  }
  let info: any
  try {
    info = JSON.parse(text)
  } catch {
    throw notRunning()
  }
  if (typeof info?.url !== 'string' || typeof info?.token !== 'string' || !URL.canParse(info.url)) throw notRunning()
  return { url: info.url, token: info.token, pid: Number(info.pid) }
}
