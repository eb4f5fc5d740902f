import { readFile, writeFile } from 'node:fs/promises'
import { BadRequestError } from './errors.ts'

const HEADER = '/key/swarm/psk/1.0.0/'

/** A new pre-shared key for a private swarm, in the file format libp2p (and IPFS) use. */
export async function newSwarmKey (): Promise<Uint8Array> {
  const { generateKey } = await import('@libp2p/pnet')
  const key = new Uint8Array(95)
  generateKey(key)
  return key
}

/** Writes a new swarm key to `path`, never over an existing one (that would cut this peer off its swarm). */
export async function writeNewSwarmKey (path: string): Promise<void> {
  await writeFile(path, await newSwarmKey(), { mode: 0o600, flag: 'wx' }).catch((err: any) => {
    throw new BadRequestError(err.code === 'EEXIST' ? `${path} already exists; a new key would cut this peer off its swarm` : `cannot write ${path}: ${err.message}`)
  })
}

/** Reads and checks a swarm key file; undefined if it does not exist and `optional` is set. */
export async function readSwarmKey (path: string, optional = false): Promise<Uint8Array | undefined> {
  let bytes: Buffer
  try {
    bytes = await readFile(path)
  } catch (err: any) {
    if (optional && err.code === 'ENOENT') return undefined
    throw new BadRequestError(`cannot read swarm key ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`)
  }
  const lines = bytes.toString('utf8').split('\n')
  if (lines[0] !== HEADER.slice(0, -1) && lines[0] !== HEADER) throw new BadRequestError(`${path} is not a swarm key (expected ${HEADER} on its first line)`)
  if (lines[1] !== '/base16/' || !/^[0-9a-fA-F]{64}$/.test(lines[2] ?? '')) throw new BadRequestError(`${path} is not a swarm key: expected /base16/ and 64 hex digits`)
  return new Uint8Array(bytes)
}
