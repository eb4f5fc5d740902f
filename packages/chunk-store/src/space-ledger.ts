import { DISK_FULL_RECHECK } from './constants.ts'
import { CapacityExceededError, DiskFullError } from './errors.ts'

/**
 * Bytes held and bytes promised to writes still in flight. Reserving is
 * synchronous, so concurrent puts cannot all pass the check and then overshoot.
 */
export class SpaceLedger {
  readonly capacity: number
  #used = 0
  #reserved = 0
  #count = 0
  #fullUntil = 0

  constructor (capacity: number) {
    this.capacity = capacity
  }

  get used (): number {
    return this.#used
  }

  get count (): number {
    return this.#count
  }

  /** Bytes that may still be stored: 0 while the disk is marked full. */
  get free (): number {
    return this.diskFull ? 0 : Math.max(0, this.capacity - this.#used)
  }

  get diskFull (): boolean {
    return this.#fullUntil > Date.now()
  }

  /** The file system refused a write for want of space: refuse new bytes for a while rather than fail each write. */
  markDiskFull (): void {
    this.#fullUntil = Date.now() + DISK_FULL_RECHECK
  }

  reserve (bytes: number): void {
    if (this.diskFull) throw new DiskFullError(this.#used)
    const taken = this.#used + this.#reserved
    if (taken + bytes > this.capacity) {
      throw new CapacityExceededError(taken, bytes, this.capacity)
    }
    this.#reserved += bytes
  }

  release (bytes: number): void {
    this.#reserved -= bytes
  }

  /** Turns a reservation into a stored chunk. */
  commit (bytes: number): void {
    this.#reserved -= bytes
    this.add(bytes)
  }

  /** Counts a chunk found already stored, without a reservation. */
  add (bytes: number): void {
    this.#used += bytes
    this.#count++
  }

  remove (bytes: number): void {
    this.#used -= bytes
    this.#count--
    this.#fullUntil = 0
  }

  reset (): void {
    this.#used = 0
    this.#reserved = 0
    this.#count = 0
    this.#fullUntil = 0
  }
}
