// The pending-request table: sequence number -> the exchange waiting for the kernel's answer.
// A batch datagram covers a range of sequence numbers and is found by range.
import type { RawMessage } from '../codec.js'
import type { ErrorContext, NsnetError } from '../errors.js'

/** State of one sent request awaiting its answer. */
export interface Pending {
  readonly seq: number
  readonly ctx: ErrorContext
  readonly cost: number
  onMessage(m: RawMessage): void
  fail(e: NsnetError): void
  /** The kernel's last message for this exchange (its ACK or error, a dump's DONE, a batch's barrier). */
  isFinal(m: RawMessage): boolean
  /** Set once the final message arrived. */
  finished?: boolean
  /** Told when the caller gave up before the final message: `drained` settles once it came. */
  abandon?(drained: Promise<void>): void
}

/** Sequence numbers first..last (inclusive) answered to one exchange. */
export interface SeqRange {
  readonly first: number
  readonly last: number
}

/** What add() returns and remove() takes. */
export interface Entry {
  readonly p: Pending
  readonly range: SeqRange | undefined
}

export class PendingTable {
  private readonly bySeq = new Map<number, Pending>()
  private readonly ranges: Array<SeqRange & { p: Pending }> = []
  /** Entries that stand in for abandoned exchanges (they keep no caller waiting). */
  private standIns = 0

  add(p: Pending, range?: SeqRange, standIn = false): Entry {
    this.bySeq.set(p.seq, p)
    const r = range && { first: range.first, last: range.last, p }
    if (r) this.ranges.push(r)
    if (standIn) this.standIns++
    return { p, range: r }
  }

  /** Removes the entry, unless another has taken its sequence number since. */
  remove(e: Entry, standIn = false): void {
    if (this.bySeq.get(e.p.seq) === e.p) this.bySeq.delete(e.p.seq)
    if (e.range) {
      const i = this.ranges.indexOf(e.range as SeqRange & { p: Pending })
      if (i >= 0) this.ranges.splice(i, 1)
    }
    if (standIn) this.standIns--
  }

  /** The exchange a message with this sequence number answers. */
  lookup(seq: number): Pending | undefined {
    const p = this.bySeq.get(seq)
    if (p) return p
    for (const r of this.ranges) if (seq >= r.first && seq <= r.last) return r.p
    return undefined
  }

  /** Whether a caller still waits for an answer (stand-ins do not count). */
  get waitedFor(): boolean {
    return this.bySeq.size > this.standIns
  }

  all(): Pending[] {
    return [...this.bySeq.values()]
  }
}

/** Sequence numbers, kept below 2^31 so a batch's range never wraps. */
export class SequenceCounter {
  private last = (Math.random() * 0x3fffffff) >>> 0

  /** Reserves n consecutive numbers and returns the first. */
  reserve(n: number): number {
    if (this.last > 0x7ff00000) this.last = 1
    const first = this.last + 1
    this.last += n
    return first
  }
}
