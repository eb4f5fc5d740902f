import { createReadStream } from 'node:fs'
import { open, rename, rm, stat } from 'node:fs/promises'
import { LocalFileError } from './errors.ts'

/** Streams a regular file on this machine; every failure to read it is a LocalFileError naming the file. */
export async function readLocalFile (path: string): Promise<AsyncIterable<Uint8Array>> {
  const info = await stat(path).catch((err: any) => { throw new LocalFileError(`cannot read ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`) })
  if (!info.isFile()) throw new LocalFileError(`cannot read ${path}: not a regular file`)
  return (async function * () {
    try {
      yield * createReadStream(path, { highWaterMark: 1024 * 1024 })
    } catch (err: any) {
      throw new LocalFileError(`cannot read ${path}: ${err.message}`)
    }
  })()
}

/**
 * Writes a stream to `path` through a temporary file beside it, renamed into place only when the stream ended
 * cleanly: a failed or interrupted download never leaves a truncated file under the name the user asked for.
 */
export async function writeFileAtomic (path: string, content: AsyncIterable<Uint8Array>): Promise<number> {
  const tmp = `${path}.ionnet-partial`
  const fh = await open(tmp, 'w').catch((err: any) => { throw new LocalFileError(`cannot write ${path}: ${err.message}`) })
  let n = 0
  try {
    for await (const piece of content) {
      await fh.write(piece)
      n += piece.length
    }
    await fh.close()
    await rename(tmp, path)
    return n
  } catch (err) {
    await fh.close().catch(() => {})
    await rm(tmp, { force: true })
    throw err
  }
}
