// fq_codel (`tc qdisc ... fq_codel [limit N] [flows N] [quantum N] [interval T] [target T] [ecn|noecn]
// [ce_threshold T] [memory_limit S] [drop_batch N]`), attributes in iproute2 6.1's order.
// This kernel has no fq_codel; the encoding is checked byte for byte against what tc sends.
import { Attrs, type Writer } from '../../../netlink/codec.js'
import {
  TCA_FQ_CODEL_CE_THRESHOLD,
  TCA_FQ_CODEL_DROP_BATCH_SIZE,
  TCA_FQ_CODEL_ECN,
  TCA_FQ_CODEL_FLOWS,
  TCA_FQ_CODEL_INTERVAL,
  TCA_FQ_CODEL_LIMIT,
  TCA_FQ_CODEL_MAX,
  TCA_FQ_CODEL_MEMORY_LIMIT,
  TCA_FQ_CODEL_QUANTUM,
  TCA_FQ_CODEL_TARGET,
  TCA_OPTIONS,
} from '../constants.js'
import { parseSize, parseTime, type Size, TcSpecError, type Time } from '../units.js'
import { beginOptions, checkKeys, type KindCodec, type Options, optionalU32 } from './kind.js'

export interface FqCodelOptions {
  readonly limit?: number
  readonly flows?: number
  readonly quantum?: number
  readonly target?: Time
  readonly interval?: Time
  readonly ecn?: boolean
  readonly ce_threshold?: Time
  readonly memory_limit?: Size
  readonly drop_batch?: number
}

const KEYS = ['limit', 'flows', 'quantum', 'target', 'interval', 'ecn', 'ce_threshold', 'memory_limit', 'drop_batch']

export const fqCodel: KindCodec = {
  keys: KEYS,
  encode(w: Writer, o: Options): void {
    checkKeys('fq_codel', o, KEYS)
    if (o.ecn !== undefined && typeof o.ecn !== 'boolean') throw new TcSpecError(`ecn must be true or false, got ${JSON.stringify(o.ecn)}`)
    const at = beginOptions(w, TCA_OPTIONS)
    const u32 = (type: number, v: number | undefined) => {
      if (v) w.attrU32(type, v)
    }
    u32(TCA_FQ_CODEL_LIMIT, optionalU32(o, 'limit'))
    u32(TCA_FQ_CODEL_FLOWS, optionalU32(o, 'flows'))
    u32(TCA_FQ_CODEL_QUANTUM, optionalU32(o, 'quantum'))
    u32(TCA_FQ_CODEL_INTERVAL, o.interval === undefined ? undefined : parseTime(o.interval as Time, 'interval'))
    u32(TCA_FQ_CODEL_TARGET, o.target === undefined ? undefined : parseTime(o.target as Time, 'target'))
    if (o.ecn !== undefined) w.attrU32(TCA_FQ_CODEL_ECN, o.ecn ? 1 : 0)
    if (o.ce_threshold !== undefined) w.attrU32(TCA_FQ_CODEL_CE_THRESHOLD, parseTime(o.ce_threshold as Time, 'ce_threshold'))
    if (o.memory_limit !== undefined) w.attrU32(TCA_FQ_CODEL_MEMORY_LIMIT, parseSize(o.memory_limit as Size, 'memory_limit'))
    u32(TCA_FQ_CODEL_DROP_BATCH_SIZE, optionalU32(o, 'drop_batch'))
    w.endNested(at)
  },
  decode(buf: Buffer, start: number, end: number): Record<string, unknown> {
    const a = new Attrs(buf, start, end, TCA_FQ_CODEL_MAX)
    const out: Record<string, unknown> = {}
    const put = (k: string, v: number | undefined) => {
      if (v !== undefined) out[k] = v
    }
    put('limit', a.u32(TCA_FQ_CODEL_LIMIT))
    put('flows', a.u32(TCA_FQ_CODEL_FLOWS))
    put('quantum', a.u32(TCA_FQ_CODEL_QUANTUM))
    put('target', a.u32(TCA_FQ_CODEL_TARGET))
    put('interval', a.u32(TCA_FQ_CODEL_INTERVAL))
    put('memory_limit', a.u32(TCA_FQ_CODEL_MEMORY_LIMIT))
    put('drop_batch', a.u32(TCA_FQ_CODEL_DROP_BATCH_SIZE))
    const ecn = a.u32(TCA_FQ_CODEL_ECN)
    if (ecn !== undefined) out.ecn = ecn !== 0
    const ce = a.u32(TCA_FQ_CODEL_CE_THRESHOLD)
    if (ce !== undefined && ce !== 0xffffffff) out.ce_threshold = ce
    return out
  },
}
