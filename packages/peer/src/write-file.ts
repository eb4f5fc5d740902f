import { open, rename, rm } from 'node:fs/promises'
import { LocalFileError } from './errors.ts'

/**
 * Writes a stream to `path` through a temporary file beside it, renamed into place only when the stream ended
 * cleanly: a failed or interrupted get never leaves a truncated file under the name the user asked for.
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
