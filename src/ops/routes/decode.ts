// RTM_NEWROUTE → Route. This is the hot path of a 100k-route dump, so it indexes the
// attributes into two reused arrays (no per-message allocation besides the result)
// and builds strings only for the fields present.
import { Attrs, decodeError, fixedAt, formatIP, formatIPv4, formatIPv6, type RawMessage } from '../../netlink/codec.js'
import { align4, NLA_HDRLEN, NLA_TYPE_MASK } from '../../netlink/constants.js'
import type { InetFamily } from '../rtnl.js'
import { AF_INET, AF_INET6, RTMSG_LEN } from '../rtnl.js'
import {
  CACHEINFO_EXPIRES_OFFSET,
  METRIC_NAMES,
  METRIC_SCALE,
  PREF_NAMES,
  ROUTE_FLAG_NAMES,
  RTA_CACHEINFO,
  RTA_CACHEINFO_LEN,
  RTA_DST,
  RTA_GATEWAY,
  RTA_IIF,
  RTA_MARK,
  RTA_MAX,
  RTA_METRICS,
  RTA_MULTIPATH,
  RTA_NH_ID,
  RTA_OIF,
  RTA_PREF,
  RTA_PREFSRC,
  RTA_PRIORITY,
  RTA_SRC,
  RTA_TABLE,
  RTA_UID,
  RTA_VIA,
  RTAX_CC_ALGO,
  RTAX_HOPLIMIT,
  RTAX_LOCK,
  RTAX_MAX,
  RTNEXTHOP_LEN,
  USER_HZ,
} from './attrs.js'
import { protocols, routeTypes, scopes, tables } from './tables.js'
import type { Nexthop, Route, RouteMetrics, RouteVia } from './types.js'

/** A decoded object while its fields are filled in, in the order ip prints them. */
type Building<T> = { -readonly [K in keyof T]?: T[K] }

const offs = new Int32Array(RTA_MAX + 1)
const lens = new Int32Array(RTA_MAX + 1)
/** Attribute types that only some routes carry; indexAttrs notes whether any was seen. */
const RARE = (1 << RTA_VIA) | (1 << RTA_IIF) | (1 << RTA_CACHEINFO) | (1 << RTA_NH_ID) | (1 << RTA_UID) | (1 << RTA_MARK) | (1 << RTA_MULTIPATH)
let seen = 0
const NO_FLAGS: readonly string[] = Object.freeze([])

/** Fills offs/lens for the attributes in [start, end); repeated types keep the last. */
function indexAttrs(buf: Buffer, start: number, end: number): void {
  offs.fill(-1)
  seen = 0
  let off = start
  while (off + NLA_HDRLEN <= end) {
    const alen = buf[off]! | (buf[off + 1]! << 8)
    if (alen < NLA_HDRLEN || off + alen > end) throw decodeError(`bad route attribute length ${alen} at offset ${off - start}`)
    const type = (buf[off + 2]! | (buf[off + 3]! << 8)) & NLA_TYPE_MASK
    if (type <= RTA_MAX) {
      offs[type] = off + NLA_HDRLEN
      lens[type] = alen - NLA_HDRLEN
      seen |= 1 << type
    }
    off += align4(alen)
  }
}

const prefName = (v: number): string => PREF_NAMES[v] ?? String(v)

function u32(buf: Buffer, type: number): number {
  if (lens[type]! < 4) throw decodeError(`route attribute ${type} too short (${lens[type]} bytes)`)
  return buf.readUInt32LE(offs[type]!)
}

/** An address attribute of the route's family. */
function addr(buf: Buffer, o: number, len: number, family: number): string {
  if (family === AF_INET && len === 4) return formatIPv4(buf, o)
  if (family === AF_INET6 && len === 16) return formatIPv6(buf, o)
  return formatIP(buf, o, len)
}

// Gateways and preferred sources repeat across a table: keep the last text per IPv4 value.
let lastGw = -1,
  lastGwText = ''
let lastSrc = -1,
  lastSrcText = ''

function gatewayText(buf: Buffer, o: number, len: number, family: number): string {
  if (len !== 4) return addr(buf, o, len, family)
  const v = buf.readUInt32BE(o)
  if (v !== lastGw) {
    lastGw = v
    lastGwText = formatIPv4(buf, o)
  }
  return lastGwText
}

function prefsrcText(buf: Buffer, o: number, len: number, family: number): string {
  if (len !== 4) return addr(buf, o, len, family)
  const v = buf.readUInt32BE(o)
  if (v !== lastSrc) {
    lastSrc = v
    lastSrcText = formatIPv4(buf, o)
  }
  return lastSrcText
}

/** `default`, `a.b.c.d/len`, or a bare host address: the way `ip` prints a prefix. */
function prefix(buf: Buffer, type: number, plen: number, family: number): string | undefined {
  const o = offs[type]!
  const len = lens[type]!
  if (o < 0) return plen === 0 ? undefined : `${family === AF_INET ? '0.0.0.0' : '::'}/${plen}`
  if (family === AF_INET && len === 4) return formatIPv4(buf, o, plen === 32 ? undefined : plen)
  const a = addr(buf, o, len, family)
  return plen === 128 && family === AF_INET6 ? a : `${a}/${plen}`
}

export function flagNames(flags: number): readonly string[] {
  if (flags === 0) return NO_FLAGS
  const out: string[] = []
  for (const [bit, name] of ROUTE_FLAG_NAMES) if (flags & bit) out.push(name)
  return out.length ? Object.freeze(out) : NO_FLAGS
}

function linkName(ifindex: number, names: Map<number, string> | undefined): string {
  return names?.get(ifindex) ?? `if${ifindex}`
}

const familyName = (af: number): InetFamily => (af === AF_INET6 ? 'inet6' : 'inet')

function decodeVia(buf: Buffer, o: number, len: number): RouteVia {
  if (len < 2) throw decodeError('RTA_VIA too short')
  const af = buf.readUInt16LE(o)
  return Object.freeze({ family: familyName(af), host: formatIP(buf, o + 2, len - 2) })
}

function decodeMetrics(buf: Buffer, o: number, len: number): RouteMetrics | undefined {
  const a = new Attrs(buf, o, o + len, RTAX_MAX)
  const m: Record<string, unknown> = {}
  for (let t = 2; t <= RTAX_MAX; t++) {
    if (!a.has(t)) continue
    if (t === RTAX_CC_ALGO) {
      m.congctl = a.str(t)
      continue
    }
    const v = a.u32(t)!
    if (t === RTAX_HOPLIMIT && v === 0xffffffff) continue // "use the default", ip hides it
    const scale = METRIC_SCALE[t]
    m[METRIC_NAMES[t]!] = scale ? Math.floor(v / scale) : v
  }
  const lock = a.u32(RTAX_LOCK)
  if (lock) {
    const locked: string[] = []
    for (let t = 2; t <= RTAX_MAX; t++) if (lock & (1 << t)) locked.push(METRIC_NAMES[t]!)
    m.lock = Object.freeze(locked)
  }
  return Object.keys(m).length ? (Object.freeze(m) as RouteMetrics) : undefined
}

function decodeMultipath(buf: Buffer, o: number, len: number, family: number, names: Map<number, string> | undefined): Nexthop[] {
  const out: Nexthop[] = []
  const end = o + len
  let off = o
  while (off + RTNEXTHOP_LEN <= end) {
    const nlen = buf.readUInt16LE(off)
    if (nlen < RTNEXTHOP_LEN || off + nlen > end) throw decodeError(`bad rtnexthop length ${nlen}`)
    const ifindex = buf.readInt32LE(off + 4)
    // Key order as ip prints: gateway, dev, weight, flags.
    const nh: Building<Nexthop> = {}
    if (nlen > RTNEXTHOP_LEN) {
      const a = new Attrs(buf, off + RTNEXTHOP_LEN, off + nlen, RTA_VIA)
      const go = a.offset(RTA_GATEWAY)
      if (go >= 0) nh.gateway = addr(buf, go, a.length(RTA_GATEWAY), family)
      if (a.has(RTA_VIA)) nh.via = decodeVia(buf, a.offset(RTA_VIA), a.length(RTA_VIA))
    }
    if (ifindex > 0) nh.dev = linkName(ifindex, names)
    nh.weight = buf[off + 3]! + 1
    nh.flags = flagNames(buf[off + 2]!)
    out.push(Object.freeze(nh) as Nexthop)
    off += align4(nlen)
  }
  return out
}

/** The attributes few routes have, added as keys only when present (kept out of decodeRoute's hot path). */
function addRareFields(r: Record<string, unknown>, b: Buffer, af: number, names: Map<number, string> | undefined): void {
  // Read every offset first: the nested decoders below may index other attributes.
  // Every fixed-size value is length-checked by u32()/fixedAt().
  const vo = offs[RTA_VIA]!,
    vl = lens[RTA_VIA]!
  const iif = offs[RTA_IIF]! >= 0 ? u32(b, RTA_IIF) : undefined
  const co = offs[RTA_CACHEINFO]! >= 0 ? fixedAt(offs[RTA_CACHEINFO]!, lens[RTA_CACHEINFO]!, RTA_CACHEINFO_LEN, 'RTA_CACHEINFO') : -1
  const nhid = offs[RTA_NH_ID]! >= 0 ? u32(b, RTA_NH_ID) : undefined
  const uid = offs[RTA_UID]! >= 0 ? u32(b, RTA_UID) : undefined
  const mark = offs[RTA_MARK]! >= 0 ? u32(b, RTA_MARK) : undefined
  const mpo = offs[RTA_MULTIPATH]!,
    mpl = lens[RTA_MULTIPATH]!
  if (vo >= 0) r.via = decodeVia(b, vo, vl)
  if (iif !== undefined) r.iif = linkName(iif, names)
  if (co >= 0) {
    const ticks = b.readInt32LE(co + CACHEINFO_EXPIRES_OFFSET)
    if (ticks !== 0) r.expires = Math.trunc(ticks / USER_HZ)
  }
  if (nhid !== undefined) r.nhid = nhid
  if (uid !== undefined) r.uid = uid
  if (mark !== undefined) r.mark = mark
  if (mpo >= 0) r.nexthops = Object.freeze(decodeMultipath(b, mpo, mpl, af, names))
}

/**
 * Decodes one RTM_NEWROUTE (or RTM_DELROUTE) message. `names` maps ifindex → link name;
 * without it devices show as `if<N>`. The result is frozen.
 */
export function decodeRoute(m: RawMessage, names?: Map<number, string>): Route {
  const b = m.buf
  const s = m.start
  if (m.end - s < RTMSG_LEN) throw decodeError(`route message of ${m.end - s} bytes is shorter than rtmsg`)
  const af = b[s]!
  const dstLen = b[s + 1]!
  const srcLen = b[s + 2]!
  const tos = b[s + 3]!
  const hdrTable = b[s + 4]!
  const protocol = b[s + 5]!
  const scope = b[s + 6]!
  const type = b[s + 7]!
  const rtmFlags = b.readUInt32LE(s + 8)
  indexAttrs(b, s + RTMSG_LEN, m.end)

  // One literal with every common field (absent ones undefined): objects built by adding
  // properties one by one are several times slower to make and to collect at 100k routes.
  const go = offs[RTA_GATEWAY]!,
    oo = offs[RTA_OIF]!,
    so = offs[RTA_PREFSRC]!,
    po = offs[RTA_PRIORITY]!
  const to = offs[RTA_TABLE]!,
    mo = offs[RTA_METRICS]!,
    ml = lens[RTA_METRICS]!,
    pr = offs[RTA_PREF]!
  const r: Record<string, unknown> = {
    family: familyName(af),
    type: routeTypes.name(type),
    dst: prefix(b, RTA_DST, dstLen, af) ?? 'default',
    from: offs[RTA_SRC]! >= 0 || srcLen ? prefix(b, RTA_SRC, srcLen, af) : undefined,
    gateway: go >= 0 ? gatewayText(b, go, lens[RTA_GATEWAY]!, af) : undefined,
    dev: oo >= 0 ? linkName(u32(b, RTA_OIF), names) : undefined,
    table: tables.name(to >= 0 ? u32(b, RTA_TABLE) : hdrTable),
    protocol: protocols.name(protocol),
    scope: scopes.name(scope),
    prefsrc: so >= 0 ? prefsrcText(b, so, lens[RTA_PREFSRC]!, af) : undefined,
    metric: po >= 0 ? u32(b, RTA_PRIORITY) : undefined,
    flags: flagNames(rtmFlags),
    metrics: mo >= 0 && ml > 0 ? decodeMetrics(b, mo, ml) : undefined,
    pref: pr >= 0 ? prefName(b[fixedAt(pr, lens[RTA_PREF]!, 1, 'RTA_PREF')]!) : undefined,
  }
  if (tos) r.tos = tos
  if (seen & RARE) addRareFields(r, b, af, names)
  return Object.freeze(r) as unknown as Route
}
