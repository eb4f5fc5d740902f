import { close, fstat, open, read } from 'node:fs'

/**
 * Reads a whole file in as few trips to libuv's thread pool as it allows: open, fstat, one read of its size, and a
 * close nobody waits for. `fs.promises.readFile` reads in 512 KiB pieces, seven trips for a 2 MiB chunk, and each
 * trip waits for a pool thread and then for the event loop: on a machine whose cores are busy with a transfer a
 * holder took 4.9 ms median (p90 10.7) to read a chunk it then sent in 0.9.
 */
export async function readWhole (path: string, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
  const { signal } = options
  signal?.throwIfAborted()
  const fd = await new Promise<number>((resolve, reject) => { open(path, 'r', (err, fd) => { err == null ? resolve(fd) : reject(err) }) })
  try {
    const { size } = await new Promise<{ size: number }>((resolve, reject) => { fstat(fd, (err, st) => { err == null ? resolve(st) : reject(err) }) })
    const buffer = Buffer.allocUnsafeSlow(size)
    let filled = 0
    // a file may come back short, e.g. while another writer truncates it: what was read is what it holds
    while (filled < size) {
      signal?.throwIfAborted()
      const n = await new Promise<number>((resolve, reject) => { read(fd, buffer, filled, size - filled, filled, (err, n) => { err == null ? resolve(n) : reject(err) }) })
      if (n === 0) break
      filled += n
    }
    return filled === size ? buffer : buffer.subarray(0, filled)
  } finally {
    close(fd, () => {})
  }
}
