// @ts-check
/** Number formatting for the dashboard: sizes, rates, ages and short peer IDs. */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB']

/** @param {number} bytes */
export function formatSize (bytes) {
  let v = bytes
  let i = 0
  while (v >= 1024 && i < UNITS.length - 1) { v /= 1024; i++ }
  return `${i === 0 ? v : v.toFixed(1)} ${UNITS[i]}`
}

/** @param {number} bytesPerSec */
export function formatRate (bytesPerSec) {
  return `${formatSize(Math.round(bytesPerSec))}/s`
}

/** @param {number} ms */
export function formatAge (ms) {
  if (ms < 1000) return `${(ms / 1000).toFixed(1)} s`
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`
  return `${(ms / 3_600_000).toFixed(1)} h`
}

/** `12D3KooWAbc…xyz12`: enough to tell peers apart in a table; the full ID goes in the title. @param {string} id */
export function shortId (id) {
  return id.length <= 16 ? id : `${id.slice(0, 10)}…${id.slice(-5)}`
}

/**
 * The state of a block with `copies` live copies when `replicas` are wanted: the strip's colour.
 * @param {number} copies
 * @param {number} replicas
 * @returns {'missing' | 'under' | 'at' | 'over'}
 */
export function copyState (copies, replicas) {
  if (copies === 0) return 'missing'
  if (copies < replicas) return 'under'
  return copies === replicas ? 'at' : 'over'
}
