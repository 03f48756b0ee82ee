// tc messages: struct tcmsg and its attributes for qdiscs, classes and filters, both ways.
// Pure: specs are checked and resolved (link names to indexes) by the operations first, so the
// golden tests can encode exactly what `tc` sent.
import { Attrs, decodeError, type RawMessage, type Writer } from '../../netlink/codec.js'
import {
  ETH_P,
  TC_H_INGRESS,
  TC_H_ROOT,
  TCA_CHAIN,
  TCA_KIND,
  TCA_MAX,
  TCA_OPTIONS,
  TCA_STATS_BASIC,
  TCA_STATS_MAX,
  TCA_STATS_PKT64,
  TCA_STATS_QUEUE,
  TCA_STATS2,
  TCA_XSTATS,
  TCMSG_LEN,
} from './constants.js'
import { formatClassid, formatQdiscHandle, parseHandle, type TcHandle } from './handles.js'
import { fqCodel } from './kinds/fq_codel.js'
import { htb, htbClass } from './kinds/htb.js'
import type { KindCodec, Options } from './kinds/kind.js'
import { netem } from './kinds/netem.js'
import { bfifo, noOptions, pfifo } from './kinds/simple.js'
import { tbf } from './kinds/tbf.js'
import type { Filter, Qdisc, TcClass, TcStats } from './types.js'
import { decodeU32, type U32Wire, writeU32 } from './u32.js'
import { TcSpecError } from './units.js'

export const QDISC_KINDS: Readonly<Record<string, KindCodec>> = {
  tbf,
  htb,
  netem,
  fq_codel: fqCodel,
  pfifo,
  bfifo,
  ingress: noOptions,
  clsact: noOptions,
  noqueue: noOptions,
}
export const CLASS_KINDS: Readonly<Record<string, KindCodec>> = { htb: htbClass }
/** Kinds with a fixed place: the ingress hook, handle ffff:. */
export const HOOK_KINDS = new Set(['ingress', 'clsact'])

/** A qdisc or class message, resolved: what the encoder writes. */
export interface TcWire {
  readonly ifindex: number
  readonly handle: number
  readonly parent: number
  readonly kind?: string
  readonly options?: Options
}

export function writeTcmsg(w: Writer, ifindex: number, handle: number, parent: number, info = 0): void {
  w.u8(0).u8(0).u16(0).s32(ifindex).u32(handle).u32(parent).u32(info)
}

function writeKindAndOptions(w: Writer, kinds: Readonly<Record<string, KindCodec>>, kind: string | undefined, options: Options | undefined): void {
  if (kind === undefined) return
  const codec = kinds[kind]
  if (!codec) throw new TcSpecError(`unknown kind "${kind}" (nsnet encodes ${Object.keys(kinds).join(', ')})`)
  w.attrStr(TCA_KIND, kind)
  if (options !== undefined) codec.encode(w, options)
  else codec.encode(w, {})
}

/** RTM_NEWQDISC / RTM_DELQDISC body. Without options a kind still gets its defaults (tbf refuses). */
export function writeQdisc(w: Writer, q: TcWire, withOptions = true): void {
  writeTcmsg(w, q.ifindex, q.handle, q.parent)
  if (q.kind === undefined) return
  if (!withOptions) {
    w.attrStr(TCA_KIND, q.kind)
    return
  }
  writeKindAndOptions(w, QDISC_KINDS, q.kind, q.options)
}

export function writeClass(w: Writer, c: TcWire, withOptions = true): void {
  writeTcmsg(w, c.ifindex, c.handle, c.parent)
  if (c.kind === undefined) return
  if (!withOptions) {
    w.attrStr(TCA_KIND, c.kind)
    return
  }
  writeKindAndOptions(w, CLASS_KINDS, c.kind, c.options)
}

export interface FilterWire {
  readonly ifindex: number
  readonly handle: number
  readonly parent: number
  readonly pref: number
  /** The ethertype, host order (0x0800). */
  readonly protocol: number
  readonly kind?: string
  readonly chain?: number
  readonly u32?: U32Wire
}

export function writeFilter(w: Writer, f: FilterWire): void {
  const proto = ((f.protocol & 0xff) << 8) | (f.protocol >>> 8) // htons
  writeTcmsg(w, f.ifindex, f.handle, f.parent, ((f.pref << 16) | proto) >>> 0)
  if (f.kind !== undefined) w.attrStr(TCA_KIND, f.kind)
  if (f.chain !== undefined) w.attrU32(TCA_CHAIN, f.chain)
  if (f.u32) writeU32(w, f.u32)
}

// ---------- parsing specs ----------

/** A handle from a spec, or undefined when unset. */
export function handleOf(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined
  const h = parseHandle(v as TcHandle)
  if (h === undefined) throw new TcSpecError(`${what} must be tc text such as '5:', '5:1', 'root' or a 32-bit number, got ${JSON.stringify(v)}`)
  return h
}

/** The ethertype for a filter's protocol. */
export function protocolOf(v: unknown): number {
  if (v === undefined) return ETH_P.all!
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffff) return v
  if (typeof v === 'string' && ETH_P[v] !== undefined) return ETH_P[v]!
  if (typeof v === 'string' && /^0x[0-9a-f]{1,4}$/i.test(v)) return parseInt(v, 16)
  throw new TcSpecError(`protocol must be one of ${Object.keys(ETH_P).join(', ')} or an ethertype, got ${JSON.stringify(v)}`)
}

function protocolName(p: number): string {
  for (const [name, n] of Object.entries(ETH_P)) if (n === p) return name
  return `0x${p.toString(16).padStart(4, '0')}`
}

// ---------- decoding ----------

function stats(a: Attrs): TcStats {
  const s = a.nested(TCA_STATS2, TCA_STATS_MAX)
  let bytes = 0,
    packets = 0,
    drops = 0,
    overlimits = 0,
    requeues = 0,
    backlog = 0,
    qlen = 0
  if (s) {
    const b = s.offset(TCA_STATS_BASIC)
    if (b >= 0 && s.length(TCA_STATS_BASIC) >= 12) {
      bytes = s.buf.readUInt32LE(b) + s.buf.readUInt32LE(b + 4) * 2 ** 32
      packets = s.buf.readUInt32LE(b + 8)
    }
    packets = s.u64(TCA_STATS_PKT64) ?? packets
    const q = s.offset(TCA_STATS_QUEUE)
    if (q >= 0 && s.length(TCA_STATS_QUEUE) >= 20) {
      qlen = s.buf.readUInt32LE(q)
      backlog = s.buf.readUInt32LE(q + 4)
      drops = s.buf.readUInt32LE(q + 8)
      requeues = s.buf.readUInt32LE(q + 12)
      overlimits = s.buf.readUInt32LE(q + 16)
    }
  }
  return { bytes, packets, drops, overlimits, requeues, backlog, qlen }
}

function options(a: Attrs, codec: KindCodec | undefined): Record<string, unknown> {
  const o = a.offset(TCA_OPTIONS)
  if (o < 0 || !codec) return {}
  return codec.decode(a.buf, o, o + a.length(TCA_OPTIONS))
}

function place(parent: number): { root?: true; parent?: string } {
  return parent === TC_H_ROOT ? { root: true } : { parent: formatClassid(parent) }
}

type Names = (ifindex: number) => string | undefined

/** struct tcmsg and the attributes after it; `info` is the refcnt (qdisc), leaf (class) or prio/protocol (filter). */
function header(m: RawMessage, name: Names) {
  if (m.end - m.start < TCMSG_LEN) throw decodeError(`tc message of ${m.end - m.start} bytes is shorter than tcmsg`)
  const ifindex = m.buf.readInt32LE(m.start + 4)
  const a = new Attrs(m.buf, m.start + TCMSG_LEN, m.end, TCA_MAX)
  return {
    ifindex,
    dev: name(ifindex) ?? `if${ifindex}`,
    handle: m.buf.readUInt32LE(m.start + 8),
    parent: m.buf.readUInt32LE(m.start + 12),
    info: m.buf.readUInt32LE(m.start + 16),
    a,
    kind: a.str(TCA_KIND) ?? '',
  }
}

/** An RTM_NEWQDISC message as `tc -j -s qdisc show` prints it. */
export function decodeQdisc(m: RawMessage, name: Names): Qdisc {
  const { ifindex, dev, handle, parent, info: refcnt, a, kind } = header(m, name)
  return {
    kind,
    handle: formatQdiscHandle(handle),
    dev,
    ifindex,
    ...place(parent),
    ...(parent === TC_H_ROOT ? { refcnt } : {}),
    options: options(a, QDISC_KINDS[kind]),
    ...stats(a),
  }
}

/** An RTM_NEWTCLASS message as `tc -s class show` prints it. */
export function decodeClass(m: RawMessage, name: Names): TcClass {
  const { ifindex, dev, handle, parent, info: leaf, a, kind } = header(m, name)
  const out: Record<string, unknown> = {
    kind,
    handle: formatClassid(handle),
    dev,
    ifindex,
    ...place(parent),
    ...(leaf ? { leaf: formatQdiscHandle(leaf) } : {}),
    options: options(a, CLASS_KINDS[kind]),
    ...stats(a),
  }
  const x = a.offset(TCA_XSTATS)
  if (kind === 'htb' && x >= 0 && a.length(TCA_XSTATS) >= 20) {
    out.lended = a.buf.readUInt32LE(x)
    out.borrowed = a.buf.readUInt32LE(x + 4)
    out.giants = a.buf.readUInt32LE(x + 8)
    out.tokens = a.buf.readInt32LE(x + 12)
    out.ctokens = a.buf.readInt32LE(x + 16)
  }
  return out as unknown as TcClass
}

/** An RTM_NEWTFILTER message as `tc -j filter show` prints it. */
export function decodeFilter(m: RawMessage, name: Names): Filter {
  const { ifindex, dev, handle, parent, info, a, kind } = header(m, name)
  const proto = info & 0xffff
  const o = a.offset(TCA_OPTIONS)
  const opts = o >= 0 && kind === 'u32' ? decodeU32(m.buf, o, o + a.length(TCA_OPTIONS), handle, name) : {}
  const chain = a.u32(TCA_CHAIN)
  return {
    dev,
    ifindex,
    parent: parent === TC_H_INGRESS ? 'ffff:fff1' : formatClassid(parent),
    protocol: protocolName(((proto & 0xff) << 8) | (proto >>> 8)),
    pref: info >>> 16,
    kind,
    ...(chain !== undefined ? { chain } : {}),
    options: opts,
  }
}
