// Self-batching: requests that start while others are in flight are packed into one
// datagram, sent once the current turn of the event loop is over (setImmediate) or when
// the datagram is full. Each message keeps its own sequence number and NLM_F_ACK, so its
// answer still reaches its own caller; the kernel handles the messages of a datagram in
// order, one by one, as if they had come alone.
import type { BindingError } from './binding.js'

export interface Outgoing {
  readonly payload: Buffer
  /** The datagram holding it could not be sent. */
  failed(err: BindingError): void
  /** Told when its datagram leaves the outbox. */
  flushed?(): void
}

// Each message is one iovec of the sendmsg; the kernel refuses more than UIO_MAXIOV (1024)
// with EMSGSIZE.
const MAX_PARTS = 1024

export class Outbox {
  private queued: Outgoing[] = []
  private bytes = 0
  private scheduled = false

  /**
   * @param transmit sends one datagram made of the given messages; calls back once it went.
   * @param maxBytes the largest datagram to build.
   */
  constructor(
    private readonly transmit: (parts: Buffer[], done: (err?: BindingError) => void) => void,
    private readonly maxBytes: number,
  ) {}

  get isEmpty(): boolean {
    return this.queued.length === 0
  }

  add(m: Outgoing): void {
    if (this.bytes + m.payload.length > this.maxBytes || this.queued.length >= MAX_PARTS) this.flush()
    this.queued.push(m)
    this.bytes += m.payload.length
    if (!this.scheduled) {
      this.scheduled = true
      setImmediate(() => {
        this.scheduled = false
        this.flush()
      })
    }
  }

  /** Sends what is queued now (before anything that must not overtake it). */
  flush(): void {
    const batch = this.queued
    if (batch.length === 0) return
    this.queued = []
    this.bytes = 0
    const parts: Buffer[] = new Array(batch.length)
    for (let i = 0; i < batch.length; i++) {
      const m = batch[i]!
      parts[i] = m.payload
      m.flushed?.()
    }
    try {
      this.transmit(parts, (err) => {
        if (err) for (const m of batch) m.failed(err)
      })
    } catch (err) {
      for (const m of batch) m.failed(err as BindingError)
    }
  }

  /** Drops what is queued, telling each why (close). */
  discard(err: Error): void {
    const batch = this.queued
    this.queued = []
    this.bytes = 0
    for (const m of batch) m.failed(err)
  }
}
