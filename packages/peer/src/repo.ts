import { randomBytes } from 'node:crypto'
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { API_INFO_FILE } from '@ionnet/client'
import { DEFAULT_REPO_NAME } from './constants.ts'
import { RepoLockedError } from './errors.ts'
import type { ApiInfo } from '@ionnet/client'
import type { PrivateKey } from '@libp2p/interface'

/** The repo folder of one peer: identity, chunks, datastore, keyring and API details. */
export class Repo {
  readonly dir: string

  constructor (dir: string) {
    this.dir = resolve(dir)
  }

  get chunksDir (): string { return join(this.dir, 'chunks') }
  get datastoreDir (): string { return join(this.dir, 'datastore') }
  get keyringPath (): string { return join(this.dir, 'keyring.jsonl') }
  get apiPath (): string { return join(this.dir, API_INFO_FILE) }
  get tokenPath (): string { return join(this.dir, 'api-token') }
  get identityPath (): string { return join(this.dir, 'identity.key') }
  get lockPath (): string { return join(this.dir, 'repo.lock') }
  get swarmKeyPath (): string { return join(this.dir, 'swarm.key') }

  async init (): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 })
  }

  /** Loads the peer's private key, creating one on first start so the peer ID survives restarts. */
  async identity (): Promise<PrivateKey> {
    // loaded here only: the CLI reads the repo too, and should not pay for libp2p's crypto at every command
    const { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } = await import('@libp2p/crypto/keys')
    try {
      return privateKeyFromProtobuf(await readFile(this.identityPath))
    } catch (err: any) {
      if (err.code !== 'ENOENT') throw err
    }
    const key = await generateKeyPair('Ed25519')
    await writeSecret(this.identityPath, privateKeyToProtobuf(key))
    return key
  }

  /** The API token: created once, kept so that a browser session survives peer restarts. */
  async token (): Promise<string> {
    try {
      const token = (await readFile(this.tokenPath, 'utf8')).trim()
      if (token.length >= 32) return token
    } catch (err: any) {
      if (err.code !== 'ENOENT') throw err
    }
    const token = randomBytes(24).toString('base64url')
    await writeSecret(this.tokenPath, token)
    return token
  }

  /** Takes the repo for this process; a second peer on the same repo would corrupt its stores. */
  async lock (): Promise<void> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fh = await open(this.lockPath, 'wx', 0o600)
        await fh.writeFile(String(process.pid))
        await fh.close()
        return
      } catch (err: any) {
        if (err.code !== 'EEXIST') throw err
      }
      const pid = Number(await readFile(this.lockPath, 'utf8').catch(() => ''))
      if (pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new RepoLockedError(`repo ${this.dir} is in use by a running peer (pid ${pid})`)
      }
      // a stale lock from a peer that crashed
      await rm(this.lockPath, { force: true })
    }
    throw new RepoLockedError(`could not lock repo ${this.dir}`)
  }

  async unlock (): Promise<void> {
    await rm(this.lockPath, { force: true })
  }

  async writeApi (info: ApiInfo): Promise<void> {
    await writeSecret(this.apiPath, JSON.stringify(info, null, 2) + '\n')
  }

  async removeApi (): Promise<void> {
    await rm(this.apiPath, { force: true })
  }
}

/** The repo folder from an explicit option, then IONNET_REPO, then ~/.ionnet. */
export function repoPath (explicit?: string): string {
  return resolve(explicit ?? process.env.IONNET_REPO ?? join(homedir(), DEFAULT_REPO_NAME))
}

async function writeSecret (path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, data, { mode: 0o600 })
  await rename(tmp, path)
}

function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err: any) {
    return err.code === 'EPERM'
  }
}
