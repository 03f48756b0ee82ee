// The in-flight window: how much of the receive buffer the answers to requests already sent
// may occupy, and the queue of requests waiting for room. An overflow of the receive buffer
// aborts the whole process inside the binding, so nothing is sent beyond the budget.
import type { NsnetError } from '../errors.js'

/** A request waiting for window room. */
export interface Waiter {
  readonly cost: number
  /** Called once there is room; takes its share with take() if it sends. */
  start(): void
  fail(e: NsnetError): void
  /** Taken off the queue by pump(). */
  started?: boolean
  /** Settled while queued; pump() drops it (searching the queue would be O(n) per call). */
  cancelled?: boolean
}

export class InflightWindow {
  /** Bytes of answers in flight, by the cost model of answerCost(). */
  private used = 0
  /** Waiters from index head on (shift() is O(n) on big arrays). */
  private queue: Waiter[] = []
  private head = 0
  /** Waiters queued that are not cancelled. */
  private live = 0

  constructor(readonly budget: number) {}

  get inflight(): number {
    return this.used
  }

  /** Waiters queued and not cancelled. */
  get waiting(): number {
    return this.live
  }

  take(cost: number): void {
    this.used += cost
  }

  release(cost: number): void {
    this.used -= cost
  }

  enqueue(w: Waiter): void {
    this.queue.push(w)
    this.live++
  }

  /** Marks a queued waiter as settled; pump() skips it. */
  cancel(w: Waiter): void {
    w.cancelled = true
    if (--this.live === 0) {
      this.queue.length = 0
      this.head = 0
    }
  }

  /** Starts waiters while there is room; one oversized request may always start alone. */
  pump(): void {
    while (this.head < this.queue.length) {
      const w = this.queue[this.head]!
      if (!w.cancelled && this.used > 0 && this.used + w.cost > this.budget) break
      this.queue[this.head++] = undefined as unknown as Waiter // let it be collected
      if (w.cancelled) continue
      this.live--
      w.started = true
      w.start()
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head)
      this.head = 0
    }
  }

  /** Empties the queue and returns what was in it (close, socket errors). */
  takeQueue(): Waiter[] {
    const queued = this.queue.slice(this.head)
    this.queue = []
    this.head = 0
    // `live` stays: each failed waiter cancels itself as it settles.
    return queued
  }
}
