import { cidForChunk } from '@ionnet/chunk-store'
import map from 'it-map'
import { decodeManifest, decryptChunk, FileVerifier, walkChunks } from '@ionnet/manifest'
import { FIND_PROVIDERS_TIMEOUT, GET_WINDOW_BYTES } from './constants.ts'
import { FileUnavailableError } from './errors.ts'
import { chunksInWindow, inOrder } from './window.ts'
import type { ChunkFetcher } from './fetcher.ts'
import type { ChunkRef, Link, Manifest } from '@ionnet/manifest'
import type { CID } from 'multiformats/cid'

/** An opened file: its manifest, known before any data moves, and its verified plaintext as a stream. */
export interface OpenedFile {
  manifest: Manifest
  content: AsyncIterable<Uint8Array>
}

export interface GetOptions {
  window?: number
  signal?: AbortSignal
  /** Counts live holders of chunks, to name the missing ones when a get fails. */
  census?(cids: CID[], signal?: AbortSignal): Promise<number[]>
}

/**
 * Opens a file by link: fetches and decrypts the manifest, then streams the plaintext in order while fetching a
 * window of chunks ahead from whichever peers hold them. Every chunk is authenticated on decryption under the key of
 * its position, checked for its place and length as it leaves, and the file for its size at the end.
 */
export async function openFile (link: Link, fetcher: ChunkFetcher, options: GetOptions = {}): Promise<OpenedFile> {
  const { signal } = options
  const manifest = decodeManifest(link, await fetcher.fetch(link.cid, { signal }))
  const fetchNode = async (cid: Link['cid'], s?: AbortSignal): Promise<Uint8Array> => fetcher.fetch(cid, { signal: s ?? signal })
  async function * content (): AsyncGenerator<Uint8Array> {
    // authentication has checked every byte, and the verifier checks each chunk's place and length as it leaves:
    // hashing the whole file again took 0.25 of the 1.45 s the reader's main thread was busy in a 256 MiB get
    const verifier = new FileVerifier(manifest, { sha256: false })
    const tasks = map(walkChunks(manifest, fetchNode, { signal }), ref => async () => {
      const plain = await fetcher.fetchOpened(ref.cid, bytes => openChunk(manifest, ref, bytes), { signal, size: ref.size })
      return { index: ref.index, plain }
    })
    try {
      for await (const { index, plain } of inOrder(tasks, options.window ?? chunksInWindow(GET_WINDOW_BYTES, manifest.chunkSize))) {
        verifier.updateChunk(index, plain)
        yield plain
      }
    } catch (err: any) {
      if (err.name !== 'ChunkUnavailableError' || options.census == null) throw err
      const unavailable = await missingChunks(manifest, options.census, fetchNode, signal)
      // every chunk has a live holder after all: the failure was on the way, so report it as it was
      throw unavailable.missing.length > 0 ? unavailable : err
    }
    verifier.finish()
  }
  return { manifest, content: content() }
}

/**
 * Decrypts a chunk's bytes, or returns undefined when they are not the chunk. Authentication is the check: every chunk
 * has a key of its own, so no other bytes pass it, and hashing them against the CID as well would cost a second pass
 * over every byte. Only when authentication fails does the hash say whose fault it is: bytes that are not the chunk
 * blame the peer that sent them, while the right bytes failing mean the manifest itself is wrong, and that error ends
 * the get.
 */
export function openChunk (manifest: Manifest, ref: ChunkRef, bytes: Uint8Array): Uint8Array | undefined {
  try {
    return decryptChunk(manifest, ref, bytes, { verified: true })
  } catch (err) {
    if (!cidForChunk(bytes).equals(ref.cid)) return undefined
    throw err
  }
}

/** Builds the error for an unavailable file, naming every chunk found on no live peer. */
async function missingChunks (manifest: Manifest, census: NonNullable<GetOptions['census']>, fetchNode: (cid: Link['cid']) => Promise<Uint8Array>, signal?: AbortSignal): Promise<FileUnavailableError> {
  const missing: string[] = []
  const deadline = AbortSignal.timeout(FIND_PROVIDERS_TIMEOUT * 2)
  const s = signal == null ? deadline : AbortSignal.any([signal, deadline])
  let batch: CID[] = []
  const flush = async (): Promise<void> => {
    const counts = await census(batch, s)
    counts.forEach((n, i) => { if (n === 0) missing.push(batch[i].toString()) })
    batch = []
  }
  try {
    for await (const ref of walkChunks(manifest, fetchNode, { signal: s })) {
      batch.push(ref.cid)
      if (batch.length >= CENSUS_BATCH) await flush()
    }
    await flush()
  } catch {
    // an unreachable manifest node: report what we found so far
  }
  return new FileUnavailableError(missing, manifest.chunkCount)
}

/** Chunks counted per census round, bounding memory for files of any size. */
const CENSUS_BATCH = 4096

