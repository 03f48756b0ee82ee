// netem (`tc qdisc ... netem [limit N] [delay T [jitter T [corr%]]] [loss P [corr%]] [duplicate P]
// [reorder P [corr%]] [gap N] [rate R]`). Its TCA_OPTIONS is not nested: struct tc_netem_qopt comes
// first and the attributes follow inside the same TCA_OPTIONS, as iproute2 6.1 writes them.
// This kernel has no netem; the encoding is checked byte for byte against what tc sends.
import { Attrs, type Writer } from '../../../netlink/codec.js'
import {
  NETEM_QOPT_LEN,
  TCA_NETEM_CORR,
  TCA_NETEM_JITTER64,
  TCA_NETEM_LATENCY64,
  TCA_NETEM_MAX,
  TCA_NETEM_RATE,
  TCA_NETEM_RATE64,
  TCA_NETEM_REORDER,
  TCA_OPTIONS,
} from '../constants.js'
import {
  type Percent,
  parsePercent,
  parseRate,
  parseTime,
  percentOf,
  type Rate,
  TcSpecError,
  type Time,
  ticksOverflow,
  ticksToUs,
  usToTicks,
} from '../units.js'
import { beginOptions, checkKeys, type KindCodec, type Options, optionalU32, rate32, structHeader } from './kind.js'

export interface NetemOptions {
  /** Packets queued at most (default 1000). */
  readonly limit?: number
  readonly delay?: Time
  readonly jitter?: Time
  /** Delay correlation, percent. */
  readonly correlation?: Percent
  /** Random loss, percent. */
  readonly loss?: Percent
  readonly loss_correlation?: Percent
  readonly duplicate?: Percent
  readonly reorder?: Percent
  readonly reorder_correlation?: Percent
  readonly gap?: number
  readonly rate?: Rate
}

const KEYS = ['limit', 'delay', 'jitter', 'correlation', 'loss', 'loss_correlation', 'duplicate', 'reorder', 'reorder_correlation', 'gap', 'rate']

function ticks(v: unknown, what: string): number {
  if (v === undefined) return 0
  const us = parseTime(v as Time, what)
  if (ticksOverflow(us)) throw new TcSpecError(`${what} ${JSON.stringify(v)} is too large`)
  return usToTicks(us)
}
const pct = (v: unknown, what: string): number => (v === undefined ? 0 : parsePercent(v as Percent, what))

export const netem: KindCodec = {
  keys: KEYS,
  encode(w: Writer, o: Options): void {
    checkKeys('netem', o, KEYS)
    const latency = ticks(o.delay, 'delay')
    const jitter = ticks(o.jitter, 'jitter')
    if (o.jitter !== undefined && o.delay === undefined) throw new TcSpecError('netem jitter needs a delay')
    if (o.correlation !== undefined && o.jitter === undefined) throw new TcSpecError('netem correlation needs a delay and a jitter')
    if (o.loss_correlation !== undefined && o.loss === undefined) throw new TcSpecError('netem loss_correlation needs a loss')
    if (o.reorder_correlation !== undefined && o.reorder === undefined) throw new TcSpecError('netem reorder_correlation needs a reorder')
    const reorder = pct(o.reorder, 'reorder')
    let gap = optionalU32(o, 'gap') ?? 0
    if (reorder) {
      if (!latency) throw new TcSpecError('netem reorder needs a delay')
      if (!gap) gap = 1
    } else if (gap) {
      throw new TcSpecError('netem gap needs a reorder')
    }
    const at = beginOptions(w, TCA_OPTIONS)
    w.u32(latency)
      .u32(optionalU32(o, 'limit') ?? 1000)
      .u32(pct(o.loss, 'loss'))
      .u32(gap)
      .u32(pct(o.duplicate, 'duplicate'))
      .u32(jitter)
    // tc 6.1 sends the correlations only when a delay, loss or reorder correlation was given.
    if (o.correlation !== undefined || o.loss_correlation !== undefined || o.reorder_correlation !== undefined) {
      structHeader(w, TCA_NETEM_CORR, 12)
      w.u32(pct(o.correlation, 'correlation')).u32(pct(o.loss_correlation, 'loss_correlation')).u32(0)
    }
    if (o.reorder !== undefined) {
      structHeader(w, TCA_NETEM_REORDER, 8)
      w.u32(reorder).u32(pct(o.reorder_correlation, 'reorder_correlation'))
    }
    if (o.rate !== undefined) {
      const rate = parseRate(o.rate as Rate, 'rate')
      if (rate >= 2 ** 32) w.attrU64(TCA_NETEM_RATE64, rate)
      structHeader(w, TCA_NETEM_RATE, 16)
      w.u32(rate32(rate)).s32(0).u32(0).s32(0)
    }
    w.endNested(at)
  },
  decode(buf: Buffer, start: number, end: number): Record<string, unknown> {
    if (end - start < NETEM_QOPT_LEN) return {}
    const out: Record<string, unknown> = { limit: buf.readUInt32LE(start + 4) }
    const a = new Attrs(buf, start + NETEM_QOPT_LEN, end, TCA_NETEM_MAX)
    const latency64 = a.u64(TCA_NETEM_LATENCY64)
    const jitter64 = a.u64(TCA_NETEM_JITTER64)
    const delay = latency64 !== undefined ? Math.trunc(latency64 / 1000) : ticksToUs(buf.readUInt32LE(start))
    const jitter = jitter64 !== undefined ? Math.trunc(jitter64 / 1000) : ticksToUs(buf.readUInt32LE(start + 20))
    if (delay) out.delay = delay
    if (jitter) out.jitter = jitter
    const loss = buf.readUInt32LE(start + 8)
    const gap = buf.readUInt32LE(start + 12)
    const dup = buf.readUInt32LE(start + 16)
    if (loss) out.loss = percentOf(loss)
    if (dup) out.duplicate = percentOf(dup)
    const c = a.offset(TCA_NETEM_CORR)
    if (c >= 0 && a.length(TCA_NETEM_CORR) >= 12) {
      if (buf.readUInt32LE(c)) out.correlation = percentOf(buf.readUInt32LE(c))
      if (buf.readUInt32LE(c + 4)) out.loss_correlation = percentOf(buf.readUInt32LE(c + 4))
    }
    const r = a.offset(TCA_NETEM_REORDER)
    if (r >= 0 && a.length(TCA_NETEM_REORDER) >= 8 && buf.readUInt32LE(r)) {
      out.reorder = percentOf(buf.readUInt32LE(r))
      if (buf.readUInt32LE(r + 4)) out.reorder_correlation = percentOf(buf.readUInt32LE(r + 4))
      out.gap = gap
    }
    const rt = a.offset(TCA_NETEM_RATE)
    if (rt >= 0 && a.length(TCA_NETEM_RATE) >= 16) out.rate = (a.u64(TCA_NETEM_RATE64) ?? buf.readUInt32LE(rt)) * 8
    return out
  },
}
