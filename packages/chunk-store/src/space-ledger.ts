import { CapacityExceededError } from './errors.ts'

/**
 * Bytes held and bytes promised to writes still in flight. Reserving is
 * synchronous, so concurrent puts cannot all pass the check and then overshoot.
 */
export class SpaceLedger {
  readonly capacity: number
  #used = 0
  #reserved = 0
  #count = 0

  constructor (capacity: number) {
    this.capacity = capacity
  }

  get used (): number {
    return this.#used
  }

  get count (): number {
    return this.#count
  }

  reserve (bytes: number): void {
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
  }

  reset (): void {
    this.#used = 0
    this.#reserved = 0
    this.#count = 0
  }
}
