/*
 * Tree arithmetic shared by the encoder and the decoder. Level 0 holds the
 * data chunks; level d > 0 holds the nodes at depth d, each listing up to
 * `fanout` items of level d - 1. Every node but the last of its level is full,
 * and the tree grows only while a level has more than `fanout` items, so
 * (chunkCount, fanout) alone fix the whole shape. That lets a decoder check
 * each node's link count exactly instead of trusting it.
 */

/** ceil(a / b) exactly, for safe integers, where floating-point division could round. */
export function ceilDiv (a: number, b: number): number {
  const rest = a % b
  return (a - rest) / b + (rest === 0 ? 0 : 1)
}

/** Number of items at `level` (0 = data chunks). */
export function levelWidth (chunkCount: number, fanout: number, level: number): number {
  let width = chunkCount
  for (let d = 0; d < level; d++) width = ceilDiv(width, fanout)
  return width
}

/** Height of the tree: how many node levels sit between the root record and the chunks. */
export function treeDepth (chunkCount: number, fanout: number): number {
  let depth = 0
  for (let width = chunkCount; width > fanout; width = ceilDiv(width, fanout)) depth++
  return depth
}

/** How many links the node at (depth, position) must hold. */
export function nodeLinkCount (chunkCount: number, fanout: number, depth: number, position: number): number {
  const below = levelWidth(chunkCount, fanout, depth - 1)
  return Math.min(fanout, below - position * fanout)
}

/** Plaintext length of chunk `index`: full except the last. */
export function chunkPlainSize (size: number, chunkSize: number, index: number): number {
  return Math.min(chunkSize, size - index * chunkSize)
}
