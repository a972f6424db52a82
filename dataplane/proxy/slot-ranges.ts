// Ranges of endpoint slots in the proxy's shared DNAT map, one per Service
// port, kept from one sync to the next so that a change to one Service only
// rewrites that Service's map elements. Sizes are powers of two; a freed range
// is reused by the next Service port that needs one of that size.
import type { SlotRanges } from './ruleset.ts'

/** Slot numbers live in the low 24 bits of the packet mark. */
const MAX_SLOTS = 0x01000000

export class SlotAllocator implements SlotRanges {
  private readonly ranges = new Map<string, { base: number; size: number }>()
  private readonly free = new Map<number, number[]>()
  private readonly used = new Set<string>()
  private next = 0

  base(key: string, size: number): number {
    this.used.add(key)
    const current = this.ranges.get(key)
    if (current && current.size === size) return current.base
    if (current) this.release(current)
    const reused = this.free.get(size)?.pop()
    const base = reused ?? this.next
    if (reused === undefined) {
      if (this.next + size > MAX_SLOTS) throw new RangeError(`proxy: more than ${MAX_SLOTS} endpoint slots`)
      this.next += size
    }
    this.ranges.set(key, { base, size })
    return base
  }

  /** Keeps a key's range through the next sweep without asking for it again. */
  keep(key: string): void {
    this.used.add(key)
  }

  /** Frees the ranges of keys not asked for since the last sweep. */
  sweep(): void {
    for (const [key, range] of this.ranges) {
      if (this.used.has(key)) continue
      this.ranges.delete(key)
      this.release(range)
    }
    this.used.clear()
  }

  /** Forgets everything (after a full replace of the table). */
  reset(): void {
    this.ranges.clear()
    this.free.clear()
    this.used.clear()
    this.next = 0
  }

  private release(range: { base: number; size: number }): void {
    const list = this.free.get(range.size) ?? []
    list.push(range.base)
    this.free.set(range.size, list)
  }
}
