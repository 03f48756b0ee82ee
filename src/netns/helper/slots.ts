// A bound on the helper processes alive at once, shared by the handles given it (a lab's).
// A slot is taken before a helper is spawned and given back when that process has exited,
// so the bound counts processes, not handles. When every slot is taken, the helper used
// least recently that has nothing in flight is asked to stop; its handle starts a new one
// on its next call.

/** What holds a slot: a handle that can end its helper when it is idle. */
export interface SlotHolder {
  /** Ends the helper if nothing is in flight; true when it did (its slot comes back on exit). */
  stopIfIdle(): boolean
}

export class HelperSlots {
  /** Live tokens in least-recently-used order (a Map keeps insertion order). */
  private readonly held = new Map<symbol, SlotHolder>()
  private readonly waiting: Array<() => void> = []

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`helper limit must be a positive integer, got ${limit}`)
  }

  /** Helpers alive (or starting) under this bound. */
  get size(): number {
    return this.held.size
  }

  /** Waits for a slot; resolves with the token to give back with release(). */
  async acquire(holder: SlotHolder): Promise<symbol> {
    for (;;) {
      if (this.held.size < this.limit) {
        const token = Symbol('helper slot')
        this.held.set(token, holder)
        return token
      }
      for (const h of this.held.values()) if (h !== holder && h.stopIfIdle()) break
      await new Promise<void>((resolve) => this.waiting.push(resolve))
    }
  }

  /** Marks the token's helper as just used (it is stopped last). */
  touch(token: symbol): void {
    const h = this.held.get(token)
    if (h === undefined) return
    this.held.delete(token)
    this.held.set(token, h)
  }

  /** A helper became idle: a waiter may now stop it instead of waiting for an exit. */
  nudge(): void {
    this.waiting.shift()?.()
  }

  /** Gives a slot back (its process has exited); wakes one waiter. */
  release(token: symbol): void {
    if (this.held.delete(token)) this.waiting.shift()?.()
  }
}
