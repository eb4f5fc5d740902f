import { appendFile, readFile } from 'node:fs/promises'
import type { FileEntry } from '@ionnet/client'

/** One file this peer put: the API's `FileEntry`, kept as one JSON line of the keyring. */
export type KeyringEntry = FileEntry

/**
 * The links of the files this peer put, so `get <CID>` works without the key on the uploader.
 * Append-only JSON lines: a crash can at worst lose the last line, never the earlier ones.
 */
export class Keyring {
  readonly #path: string
  #entries?: Map<string, KeyringEntry>

  constructor (path: string) {
    this.#path = path
  }

  async add (entry: KeyringEntry): Promise<void> {
    const entries = await this.#load()
    await appendFile(this.#path, JSON.stringify(entry) + '\n', { mode: 0o600 })
    entries.set(entry.cid, entry)
  }

  async get (cid: string): Promise<KeyringEntry | undefined> {
    return (await this.#load()).get(cid)
  }

  async list (): Promise<KeyringEntry[]> {
    return [...(await this.#load()).values()]
  }

  async #load (): Promise<Map<string, KeyringEntry>> {
    if (this.#entries != null) return this.#entries
    const entries = new Map<string, KeyringEntry>()
    let text = ''
    try {
      text = await readFile(this.#path, 'utf8')
    } catch (err: any) {
      if (err.code !== 'ENOENT') throw err
    }
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue
      try {
        const entry = JSON.parse(line) as KeyringEntry
        if (typeof entry.cid === 'string' && typeof entry.link === 'string') entries.set(entry.cid, entry)
      } catch {
        // a torn last line after a crash; the others still count
      }
    }
    this.#entries = entries
    return entries
  }
}
