/**
 * The worker side of FileHasher (file-hasher.ts): per open hash, a file read from where the last read stopped up to
 * the length the writer reported, one reused buffer at a time.
 */
import { createHash } from 'node:crypto'
import { closeSync, openSync, readSync } from 'node:fs'
import { parentPort } from 'node:worker_threads'
import type { Hash } from 'node:crypto'
import type { FromWorker, ToWorker } from './file-hasher.ts'

interface Open {
  fd: number
  hash: Hash
  position: number
}

const READ_SIZE = 1024 * 1024
const buffer = Buffer.allocUnsafe(READ_SIZE)
const open = new Map<number, Open>()

parentPort?.on('message', (msg: ToWorker) => {
  try {
    if (msg.op === 'advance') advance(msg.id, msg.path, msg.bytes)
    else if (msg.op === 'digest') reply({ id: msg.id, digest: finish(msg.id, msg.path) })
    else close(msg.id)
  } catch (err: any) {
    close(msg.id)
    reply({ id: msg.id, error: String(err?.message ?? err) })
  }
})

function advance (id: number, path: string, bytes: number): Open {
  let file = open.get(id)
  if (file == null) open.set(id, file = { fd: openSync(path, 'r'), hash: createHash('sha256'), position: 0 })
  while (file.position < bytes) {
    const n = readSync(file.fd, buffer, 0, Math.min(READ_SIZE, bytes - file.position), file.position)
    if (n === 0) throw new Error(`${path} ended at ${file.position} bytes, ${bytes} were written`)
    file.hash.update(buffer.subarray(0, n))
    file.position += n
  }
  return file
}

function finish (id: number, path: string): Uint8Array {
  // an empty file was never advanced
  const digest = open.has(id) ? advance(id, path, 0).hash.digest() : createHash('sha256').digest()
  close(id)
  return digest
}

function close (id: number): void {
  const file = open.get(id)
  open.delete(id)
  if (file != null) closeSync(file.fd)
}

function reply (msg: FromWorker): void {
  parentPort?.postMessage(msg)
}
