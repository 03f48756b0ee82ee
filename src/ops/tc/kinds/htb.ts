// htb: the qdisc (`tc qdisc ... htb [default ID] [r2q N] [direct_qlen N]`) and its classes
// (`tc class ... htb rate R [ceil C] [burst B] [cburst B] [prio N] [quantum N] [mtu N] [mpu N]`),
// written as iproute2 6.1 writes them. Class rates are bits/s here (tc -j prints bytes/s).
import { Attrs, type Writer } from '../../../netlink/codec.js'
import {
  TC_HTB_PROTOVER,
  TCA_HTB_CEIL64,
  TCA_HTB_CTAB,
  TCA_HTB_DIRECT_QLEN,
  TCA_HTB_INIT,
  TCA_HTB_MAX,
  TCA_HTB_PARMS,
  TCA_HTB_RATE64,
  TCA_HTB_RTAB,
  TCA_OPTIONS,
} from '../constants.js'
import { parseRate, parseSize, pschedClock, type Rate, rateTable, type Size, TcSpecError, xmitSize, xmitTicks } from '../units.js'
import { beginOptions, checkKeys, type KindCodec, type Options, optionalU32, rate32, structHeader, writeRatespec } from './kind.js'

export interface HtbOptions {
  /** The minor of the class unclassified traffic goes to: a number, or hex text as tc takes it ('10' = 0x10). */
  readonly default?: number | string
  /** Rate-to-quantum divisor (default 10). */
  readonly r2q?: number
  readonly direct_qlen?: number
}

export interface HtbClassOptions {
  readonly rate: Rate
  readonly ceil?: Rate
  readonly burst?: Size
  readonly cburst?: Size
  readonly prio?: number
  /** Bytes per round; give one to avoid the kernel's "quantum is big" warning above ~16 Mbit/s. */
  readonly quantum?: number
  readonly mtu?: number
  readonly mpu?: Size
}

const QDISC_KEYS = ['default', 'r2q', 'direct_qlen', 'direct_packets_stat', 'ver']
const CLASS_KEYS = ['rate', 'ceil', 'burst', 'cburst', 'prio', 'quantum', 'mtu', 'mpu', 'level']
const GLOB_LEN = 20
const OPT_LEN = 44

function defaultClass(v: unknown): number {
  if (v === undefined) return 0
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff) return v
  if (typeof v === 'string' && /^(0x)?[0-9a-f]{1,8}$/i.test(v.trim())) return parseInt(v.trim().replace(/^0x/i, ''), 16)
  throw new TcSpecError(`htb default must be a class minor (a number, or hex text such as '10'), got ${JSON.stringify(v)}`)
}

export const htb: KindCodec = {
  keys: QDISC_KEYS,
  encode(w: Writer, o: Options): void {
    checkKeys('htb', o, QDISC_KEYS)
    const r2q = optionalU32(o, 'r2q') ?? 10
    const directQlen = optionalU32(o, 'direct_qlen')
    const at = beginOptions(w, TCA_OPTIONS)
    structHeader(w, TCA_HTB_INIT, GLOB_LEN)
    w.u32(TC_HTB_PROTOVER).u32(r2q).u32(defaultClass(o.default)).u32(0).u32(0)
    if (directQlen !== undefined) w.attrU32(TCA_HTB_DIRECT_QLEN, directQlen)
    w.endNested(at)
  },
  decode(buf: Buffer, start: number, end: number): Record<string, unknown> {
    const a = new Attrs(buf, start, end, TCA_HTB_MAX)
    const g = a.offset(TCA_HTB_INIT)
    const out: Record<string, unknown> = {}
    if (g >= 0 && a.length(TCA_HTB_INIT) >= GLOB_LEN) {
      out.r2q = buf.readUInt32LE(g + 4)
      out.default = `0x${buf.readUInt32LE(g + 8).toString(16)}`
      out.direct_packets_stat = buf.readUInt32LE(g + 16)
    }
    const q = a.u32(TCA_HTB_DIRECT_QLEN)
    if (q !== undefined) out.direct_qlen = q
    return out
  },
}

export const htbClass: KindCodec = {
  keys: CLASS_KEYS,
  encode(w: Writer, o: Options): void {
    checkKeys('htb class', o, CLASS_KEYS)
    if (o.rate === undefined) throw new TcSpecError('an htb class needs a rate')
    const rate = parseRate(o.rate as Rate, 'rate')
    const ceil = o.ceil === undefined ? rate : parseRate(o.ceil as Rate, 'ceil')
    if (ceil < rate) throw new TcSpecError('htb ceil must not be below rate')
    const mtu = optionalU32(o, 'mtu') ?? 1600
    const mpu = o.mpu === undefined ? 0 : parseSize(o.mpu as Size, 'mpu')
    if (mpu > 0xffff) throw new TcSpecError(`mpu ${mpu} exceeds 65535 bytes`)
    const prio = optionalU32(o, 'prio') ?? 0
    if (prio > 7) throw new TcSpecError(`htb prio must be 0..7, got ${prio}`)
    const quantum = optionalU32(o, 'quantum') ?? 0
    // tc's default bucket: one timer tick of data plus an MTU.
    const hz = pschedClock().hz
    const burst = o.burst === undefined ? Math.trunc(rate / hz) + mtu : parseSize(o.burst as Size, 'burst')
    const cburst = o.cburst === undefined ? Math.trunc(ceil / hz) + mtu : parseSize(o.cburst as Size, 'cburst')
    const r32 = rate32(rate)
    const c32 = rate32(ceil)
    const rtab = rateTable(r32, mtu, mpu)
    const ctab = rateTable(c32, mtu, mpu)
    const at = beginOptions(w, TCA_OPTIONS)
    if (rate >= 2 ** 32) w.attrU64(TCA_HTB_RATE64, rate)
    if (ceil >= 2 ** 32) w.attrU64(TCA_HTB_CEIL64, ceil)
    structHeader(w, TCA_HTB_PARMS, OPT_LEN)
    writeRatespec(w, rtab.cellLog, mpu, r32)
    writeRatespec(w, ctab.cellLog, mpu, c32)
    w.u32(xmitTicks(rate, burst)).u32(xmitTicks(ceil, cburst)).u32(quantum).u32(0).u32(prio)
    w.attrBytes(TCA_HTB_RTAB, rtab.table)
    w.attrBytes(TCA_HTB_CTAB, ctab.table)
    w.endNested(at)
  },
  decode(buf: Buffer, start: number, end: number): Record<string, unknown> {
    const a = new Attrs(buf, start, end, TCA_HTB_MAX)
    const p = a.offset(TCA_HTB_PARMS)
    if (p < 0 || a.length(TCA_HTB_PARMS) < OPT_LEN) return {}
    const rate = a.u64(TCA_HTB_RATE64) ?? buf.readUInt32LE(p + 8)
    const ceil = a.u64(TCA_HTB_CEIL64) ?? buf.readUInt32LE(p + 20)
    return {
      rate: rate * 8,
      ceil: ceil * 8,
      burst: xmitSize(rate, buf.readUInt32LE(p + 24)),
      cburst: xmitSize(ceil, buf.readUInt32LE(p + 28)),
      quantum: buf.readUInt32LE(p + 32),
      level: buf.readUInt32LE(p + 36),
      prio: buf.readUInt32LE(p + 40),
    }
  },
}
