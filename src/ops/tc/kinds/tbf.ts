// tbf: the token bucket filter (`tc qdisc ... tbf rate R burst B latency L|limit N [peakrate P mtu M] [mpu U]`).
// Written as iproute2 6.1's tbf_parse_opt writes it: PARMS, BURST, RATE64 (rates >= 2^32 B/s), RTAB,
// and PRATE64, PBURST, PTAB with a peak rate. Rates are bits/s here (the kernel and tc -j: bytes/s).
import { Attrs, type Writer } from '../../../netlink/codec.js'
import {
  TCA_OPTIONS,
  TCA_TBF_BURST,
  TCA_TBF_MAX,
  TCA_TBF_PARMS,
  TCA_TBF_PBURST,
  TCA_TBF_PRATE64,
  TCA_TBF_PTAB,
  TCA_TBF_RATE64,
  TCA_TBF_RTAB,
} from '../constants.js'
import { parseRate, parseSize, parseTime, type Rate, rateTable, type Size, TcSpecError, type Time, ticksToUs, xmitSize, xmitTicks } from '../units.js'
import { beginOptions, checkKeys, type KindCodec, type Options, rate32, structHeader, writeRatespec } from './kind.js'

export interface TbfOptions {
  /** bits/s or tc text ('10mbit'). */
  readonly rate: Rate
  /** Bucket size: bytes or tc text ('32kbit'). */
  readonly burst: Size
  /** Queue limit in bytes; give this or `latency`. */
  readonly limit?: Size
  /** Longest time a packet may wait; the limit becomes rate * latency + burst. */
  readonly latency?: Time
  readonly peakrate?: Rate
  /** Peak bucket size (tc's `mtu`/`minburst`); needed with `peakrate`. */
  readonly mtu?: Size
  readonly minburst?: Size
  readonly mpu?: Size
}

const KEYS = ['rate', 'burst', 'limit', 'latency', 'lat', 'peakrate', 'mtu', 'minburst', 'mpu', 'linklayer']
const PARMS_LEN = 36

export const tbf: KindCodec = {
  keys: KEYS,
  encode(w: Writer, o: Options): void {
    checkKeys('tbf', o, KEYS)
    if (o.rate === undefined) throw new TcSpecError('tbf needs a rate')
    if (o.burst === undefined) throw new TcSpecError('tbf needs a burst')
    if (o.linklayer !== undefined && o.linklayer !== 'ethernet') throw new TcSpecError(`tbf linklayer must be 'ethernet', got ${JSON.stringify(o.linklayer)}`)
    const rate = parseRate(o.rate as Rate, 'rate')
    const burst = parseSize(o.burst as Size, 'burst')
    if (burst === 0) throw new TcSpecError('tbf burst must be at least 1 byte')
    const peak = o.peakrate === undefined ? 0 : parseRate(o.peakrate as Rate, 'peakrate')
    const mtuSpec = o.mtu ?? o.minburst
    const mtu = mtuSpec === undefined ? 0 : parseSize(mtuSpec as Size, 'mtu')
    const mpu = o.mpu === undefined ? 0 : parseSize(o.mpu as Size, 'mpu')
    if (mpu > 0xffff) throw new TcSpecError(`mpu ${mpu} exceeds 65535 bytes`)
    if (peak && !mtu) throw new TcSpecError('tbf with a peakrate needs mtu (the peak bucket size)')
    if (peak && peak <= rate) throw new TcSpecError('tbf peakrate must be above rate (the kernel refuses it otherwise)')
    // A list() object carries both limit and lat (tc's computed latency): limit wins.
    let limit: number
    if (o.limit !== undefined) {
      if (o.latency !== undefined) throw new TcSpecError('tbf takes limit or latency, not both')
      limit = parseSize(o.limit as Size, 'limit')
    } else if (o.latency !== undefined || o.lat !== undefined) {
      const latency = parseTime((o.latency ?? o.lat) as Time, 'latency')
      let lim = (rate * latency) / 1e6 + burst
      if (peak) lim = Math.min(lim, (peak * latency) / 1e6 + mtu)
      limit = Math.trunc(lim)
      if (limit > 0xffffffff) throw new TcSpecError('tbf rate * latency exceeds a 4 GiB limit')
    } else {
      throw new TcSpecError('tbf needs a limit or a latency')
    }
    if (limit === 0) throw new TcSpecError('tbf limit 0 would drop every packet')
    const r32 = rate32(rate)
    const p32 = rate32(peak)
    const rtab = rateTable(r32, mtu, mpu)
    const ptab = peak ? rateTable(p32, mtu, mpu) : undefined
    const at = beginOptions(w, TCA_OPTIONS)
    structHeader(w, TCA_TBF_PARMS, PARMS_LEN)
    writeRatespec(w, rtab.cellLog, mpu, r32)
    if (ptab) writeRatespec(w, ptab.cellLog, mpu, p32)
    else w.zeros(12)
    w.u32(limit)
      .u32(xmitTicks(r32, burst))
      .u32(peak ? xmitTicks(p32, mtu) : 0)
    w.attrU32(TCA_TBF_BURST, burst)
    if (rate >= 2 ** 32) w.attrU64(TCA_TBF_RATE64, rate)
    w.attrBytes(TCA_TBF_RTAB, rtab.table)
    if (ptab) {
      if (peak >= 2 ** 32) w.attrU64(TCA_TBF_PRATE64, peak)
      w.attrU32(TCA_TBF_PBURST, mtu)
      w.attrBytes(TCA_TBF_PTAB, ptab.table)
    }
    w.endNested(at)
  },
  decode(buf: Buffer, start: number, end: number): Record<string, unknown> {
    const a = new Attrs(buf, start, end, TCA_TBF_MAX)
    const p = a.offset(TCA_TBF_PARMS)
    if (p < 0 || a.length(TCA_TBF_PARMS) < PARMS_LEN) return {}
    const rate = a.u64(TCA_TBF_RATE64) ?? buf.readUInt32LE(p + 8)
    const peak = a.u64(TCA_TBF_PRATE64) ?? buf.readUInt32LE(p + 20)
    const limit = buf.readUInt32LE(p + 24)
    const buffer = buf.readUInt32LE(p + 28)
    const mtu = buf.readUInt32LE(p + 32)
    const mpu = buf.readUInt16LE(p + 6)
    const out: Record<string, unknown> = { rate: rate * 8, burst: xmitSize(rate, buffer) }
    if (peak) {
      out.peakrate = peak * 8
      if (mtu) out.minburst = xmitSize(peak, mtu)
    }
    // tc's latency: the time a full queue takes to drain, less the bucket's.
    let lat = rate ? 1e6 * (limit / rate) - ticksToUs(buffer) : NaN
    if (peak) lat = Math.max(lat, 1e6 * (limit / peak) - ticksToUs(mtu))
    if (lat >= 0 && Number.isFinite(lat)) out.lat = Math.trunc(lat)
    out.limit = limit
    if (mpu) out.mpu = mpu
    out.linklayer = (buf[p + 1]! & 0x0f) === 2 ? 'atm' : 'ethernet'
    return out
  },
}
