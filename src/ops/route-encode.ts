// RouteSpec → RTM_NEWROUTE / RTM_DELROUTE. Checking is pure and complete (every bad field is
// refused before anything is sent); device names are resolved afterwards, in one go per batch.
import { Writer, parseIPv4Number, parseIPv6, type Family } from '../netlink/codec.js'
import { NsnetError, invalidArgument } from '../netlink/errors.js'
import { linkIndex, linkNames, checkLinkName, type LinkRef, type OpsContext } from './context.js'
import { NLM_F_APPEND, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE } from '../netlink/constants.js'
import type { CallOptions, Request } from '../netlink/engine.js'
import { afOf, RTM_DELROUTE, RTM_NEWROUTE, RTMSG_LEN } from './rtnl.js'
import {
  RTA_DST, RTA_SRC, RTA_OIF, RTA_GATEWAY, RTA_PRIORITY, RTA_PREFSRC, RTA_METRICS, RTA_MULTIPATH,
  RTA_TABLE, RTA_VIA, RTA_PREF, RTA_EXPIRES, RTNH_F_ONLINK, ROUTE_FLAG_NAMES, METRIC_NAMES,
  RTAX_LOCK, RTAX_CC_ALGO, PREF_VALUES, METRIC_SCALE,
} from './route-attrs.js'
import {
  tables, protocols, scopes, routeTypes, RT_TABLE_MAIN, RT_TABLE_UNSPEC, RTPROT_BOOT, RTPROT_UNSPEC,
  RT_SCOPE_UNIVERSE, RT_SCOPE_LINK, RT_SCOPE_HOST, RT_SCOPE_NOWHERE, RTN_UNSPEC, RTN_UNICAST, RTN_LOCAL,
  RTN_NAT, RTN_BROADCAST, RTN_MULTICAST, RTN_ANYCAST,
} from './route-tables.js'
import type { NexthopSpec, RouteSpec, RouteVia } from './route-types.js'

/** How a route request is sent: message type, flags, the defaults `ip` fills in, and a name for errors. */
export interface RouteMode {
  readonly type: number
  readonly flags: number
  /** `add` fills in protocol boot, type unicast and a scope; `delete` leaves them to match anything. */
  readonly intent: 'add' | 'delete'
  readonly operation: string
}

export const ROUTE_MODES = {
  add: { type: RTM_NEWROUTE, flags: NLM_F_CREATE | NLM_F_EXCL, intent: 'add', operation: 'routes.add' },
  replace: { type: RTM_NEWROUTE, flags: NLM_F_CREATE | NLM_F_REPLACE, intent: 'add', operation: 'routes.replace' },
  append: { type: RTM_NEWROUTE, flags: NLM_F_CREATE | NLM_F_APPEND, intent: 'add', operation: 'routes.append' },
  delete: { type: RTM_DELROUTE, flags: 0, intent: 'delete', operation: 'routes.delete' },
} as const satisfies Record<string, RouteMode>

/** An address ready for the wire: IPv4 as a u32 (sent big-endian), IPv6 as its 16 bytes. */
export type WireAddr = number | Uint8Array

interface EncodedNexthop {
  gateway?: WireAddr
  via?: Uint8Array
  dev?: LinkRef
  ifindex: number
  hops: number
  flags: number
}

/**
 * A checked route, and the engine Request that sends it once its devices have indexes.
 * A class (one object per route, no closures) because bulk adds make 100k of them.
 */
export class RouteMessage implements Request {
  af = 0
  dstLen = 0
  dst: WireAddr | undefined = undefined
  srcLen = 0
  src: WireAddr | undefined = undefined
  tos = 0
  table = 0
  protocol = 0
  scope = 0
  rtype = 0
  rtmFlags = 0
  dev: LinkRef | undefined = undefined
  ifindex = 0
  gateway: WireAddr | undefined = undefined
  via: Uint8Array | undefined = undefined
  prefsrc: WireAddr | undefined = undefined
  priority: number | undefined = undefined
  metrics: ReadonlyArray<readonly [number, number | string]> | undefined = undefined
  nexthops: EncodedNexthop[] | undefined = undefined
  pref: number | undefined = undefined
  expires: number | undefined = undefined
  private text: string | undefined = undefined

  constructor(readonly spec: RouteSpec, readonly type: number, readonly flags: number, readonly operation: string) {}

  /** `route 10.0.2.0/24 via 10.0.1.1 dev veth1`, for errors; built only when asked. */
  get object(): string {
    return (this.text ??= describe(this.spec))
  }

  body(w: Writer): void {
    writeRoute(w, this)
  }
}

// Fields of a decoded Route that carry kernel state, not identity: accepted and not sent.
const IGNORED_KEYS = new Set(['nhid', 'iif', 'uid', 'mark'])
const KNOWN_KEYS = new Set([
  'dst', 'family', 'type', 'from', 'gateway', 'via', 'dev', 'table', 'protocol', 'scope', 'prefsrc',
  'metric', 'tos', 'flags', 'onlink', 'metrics', 'pref', 'expires', 'nexthops', ...IGNORED_KEYS,
])
const NEXTHOP_KEYS = new Set(['gateway', 'via', 'dev', 'weight', 'flags', 'onlink'])
const FLAG_BITS = new Map(ROUTE_FLAG_NAMES.map(([bit, name]) => [name, bit]))
const METRIC_NUMBERS = new Map(METRIC_NAMES.flatMap((n, i) => (n ? [[n, i] as const] : [])))

interface Where {
  readonly operation: string
  readonly namespace: string | undefined
  /** The route being checked; it names the object in the error. */
  readonly spec?: RouteSpec
}

function fail(where: Where, summary: string, hint?: string): never {
  const object = where.spec && typeof where.spec === 'object' ? describe(where.spec) : undefined
  throw invalidArgument(summary, { operation: where.operation, object, namespace: where.namespace, hint })
}

function familyOf(v: unknown, where: Where): Family | undefined {
  if (v === undefined) return undefined
  if (v === 4 || v === 'inet' || v === 'ipv4') return 4
  if (v === 6 || v === 'inet6' || v === 'ipv6') return 6
  return fail(where, `family must be 'inet' or 'inet6' (or 4 / 6), got ${JSON.stringify(v)}`)
}

function uint(v: unknown, max: number, what: string, where: Where): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    return fail(where, `${what} must be an integer 0..${max}, got ${JSON.stringify(v)}`)
  }
  return v
}

function named(table: { number(v: string | number): number | undefined; names(): string[] }, v: unknown, what: string, where: Where): number {
  const n = typeof v === 'string' || typeof v === 'number' ? table.number(v) : undefined
  if (n === undefined) return fail(where, `unknown ${what} ${JSON.stringify(v)}`, `use a number or one of: ${table.names().join(', ')}`)
  return n
}

/** IPv4 or IPv6 text → WireAddr, without allocating for IPv4; undefined when it is neither. */
export function parseWireAddr(s: string, start = 0, end = s.length): WireAddr | undefined {
  const v4 = parseIPv4Number(s, start, end)
  if (v4 !== undefined) return v4
  return parseIPv6(start === 0 && end === s.length ? s : s.slice(start, end))
}

const familyOfAddr = (a: WireAddr): Family => (typeof a === 'number' ? 4 : 6)

/** Prefix length of the last parsePrefix() call (kept outside the result to avoid an object per route). */
let parsedPrefixLength = 0

/** `10.0.2.0/24`, `2001:db8::/32` or a bare address (full length); undefined when malformed. */
function parsePrefix(s: string): WireAddr | undefined {
  const slash = s.indexOf('/')
  const a = parseWireAddr(s, 0, slash < 0 ? s.length : slash)
  if (a === undefined) return undefined
  const max = typeof a === 'number' ? 32 : 128
  if (slash < 0) { parsedPrefixLength = max; return a }
  let len = 0
  // No leading zeros: iproute2 reads `/024` as octal, so the text is ambiguous.
  if (slash + 1 === s.length || s.length - slash > 4 || (s.charCodeAt(slash + 1) === 48 && s.length - slash > 2)) return undefined
  for (let i = slash + 1; i < s.length; i++) {
    const c = s.charCodeAt(i) - 48
    if (c < 0 || c > 9) return undefined
    len = len * 10 + c
  }
  if (len > max) return undefined
  parsedPrefixLength = len
  return a
}

/** An address of the given family (or either, when `family` is undefined). */
function address(v: unknown, what: string, family: Family | undefined, where: Where): WireAddr {
  const a = typeof v === 'string' ? parseWireAddr(v) : undefined
  if (a === undefined) return fail(where, `${what} ${JSON.stringify(v)} is not an IPv4 or IPv6 address`)
  const fam = familyOfAddr(a)
  if (family !== undefined && fam !== family) {
    return fail(where, `${what} ${v} is IPv${fam} but the route is IPv${family}`, what === 'gateway' ? 'use `via: { family, host }` for a gateway of the other family' : undefined)
  }
  return a
}

function encodeVia(v: unknown, where: Where): Uint8Array {
  const via = v as RouteVia
  if (!via || typeof via !== 'object') return fail(where, `via must be { family, host }, got ${JSON.stringify(v)}`)
  const fam = familyOf(via.family, where)!
  const a = address(via.host, 'via host', fam, where)
  const out = new Uint8Array(fam === 4 ? 6 : 18)
  out[0] = afOf(fam) & 0xff
  out[1] = afOf(fam) >> 8
  if (typeof a === 'number') new DataView(out.buffer).setUint32(2, a)
  else out.set(a, 2)
  return out
}

/** Turns `flags: [...]`/`onlink` into rtnh bits; kernel-state words (linkdown, dead...) are accepted and dropped. */
function flagBits(flags: unknown, onlink: unknown, where: Where): number {
  let bits = 0
  if (flags !== undefined) {
    if (!Array.isArray(flags)) return fail(where, `flags must be an array of strings, got ${JSON.stringify(flags)}`)
    for (const f of flags) {
      if (!FLAG_BITS.has(f)) return fail(where, `unknown route flag ${JSON.stringify(f)}`, `known: ${[...FLAG_BITS.keys()].join(', ')}`)
      if (f === 'onlink') bits |= RTNH_F_ONLINK
    }
  }
  if (onlink !== undefined && typeof onlink !== 'boolean') return fail(where, `onlink must be a boolean`)
  if (onlink) bits |= RTNH_F_ONLINK
  return bits
}

function encodeMetrics(v: unknown, where: Where): Array<[number, number | string]> | undefined {
  if (v === undefined) return undefined
  if (!v || typeof v !== 'object' || Array.isArray(v)) return fail(where, `metrics must be an object like { mtu: 1400 }`)
  const out: Array<[number, number | string]> = []
  let lock = 0
  for (const [k, val] of Object.entries(v)) {
    if (val === undefined) continue
    const t = METRIC_NUMBERS.get(k)
    if (t === undefined) return fail(where, `unknown metric ${JSON.stringify(k)}`, `known: ${[...METRIC_NUMBERS.keys()].join(', ')}`)
    if (t === RTAX_LOCK) {
      if (!Array.isArray(val)) return fail(where, `metrics.lock must be an array of metric names`)
      for (const name of val) {
        const n = METRIC_NUMBERS.get(name)
        if (n === undefined || n === RTAX_LOCK || n === RTAX_CC_ALGO) return fail(where, `metrics.lock: ${JSON.stringify(name)} cannot be locked`)
        lock |= 1 << n
      }
    } else if (t === RTAX_CC_ALGO) {
      if (typeof val !== 'string' || !val || Buffer.byteLength(val) > 15) return fail(where, `metrics.congctl must be an algorithm name, got ${JSON.stringify(val)}`)
      out.push([t, val])
    } else {
      const scale = METRIC_SCALE[t] ?? 1
      out.push([t, uint(val, Math.floor(0xffffffff / scale), `metrics.${k}`, where) * scale])
    }
  }
  if (lock) out.unshift([RTAX_LOCK, lock])
  return out.length ? out : undefined
}

function encodeNexthop(nh: NexthopSpec, family: Family, where: Where, i: number): EncodedNexthop {
  if (!nh || typeof nh !== 'object') return fail(where, `nexthops[${i}] must be an object`)
  for (const k of Object.keys(nh)) if (!NEXTHOP_KEYS.has(k)) fail(where, `nexthops[${i}] has unknown field ${JSON.stringify(k)}`)
  const weight = nh.weight === undefined ? 1 : uint(nh.weight, 256, `nexthops[${i}].weight`, where)
  if (weight < 1) fail(where, `nexthops[${i}].weight must be 1..256`)
  if (nh.gateway === undefined && nh.dev === undefined && nh.via === undefined) fail(where, `nexthops[${i}] needs a gateway or a dev`)
  const flags = flagBits(nh.flags, nh.onlink, where)
  if (flags & RTNH_F_ONLINK && nh.dev === undefined) fail(where, `nexthops[${i}] is onlink and needs a dev`)
  return {
    gateway: nh.gateway === undefined ? undefined : address(nh.gateway, 'gateway', family, where),
    via: nh.via === undefined ? undefined : encodeVia(nh.via, where),
    dev: nh.dev === undefined ? undefined : checkDev(nh.dev, where),
    ifindex: 0,
    hops: weight - 1,
    flags,
  }
}

function checkDev(dev: unknown, where: Where): LinkRef {
  if (typeof dev === 'number') {
    if (!Number.isInteger(dev) || dev <= 0) fail(where, `dev index must be a positive integer, got ${dev}`)
    return dev
  }
  return checkLinkName(dev, { namespace: where.namespace } as OpsContext, where.operation, 'dev')
}

/** Words for errors: `route blackhole 10.0.2.0/24 via 10.0.1.1 dev veth1 table 1000`. */
function describe(s: RouteSpec): string {
  let t = 'route '
  if (typeof s.type === 'string' && s.type !== 'unicast') t += `${s.type} `
  t += String(s.dst)
  if (s.gateway !== undefined) t += ` via ${s.gateway}`
  if (s.dev !== undefined) t += ` dev ${s.dev}`
  if (s.table !== undefined && s.table !== 'main' && s.table !== RT_TABLE_MAIN) t += ` table ${s.table}`
  if (s.metric !== undefined) t += ` metric ${s.metric}`
  return t
}

/** Checks a RouteSpec completely and turns it into numbers; throws EINVAL_ARGUMENT on the first problem. */
export function encodeRoute(spec: RouteSpec, mode: RouteMode, namespace: string | undefined): RouteMessage {
  const intent = mode.intent
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) fail({ operation: mode.operation, namespace }, `a route must be an object with at least dst, got ${JSON.stringify(spec)}`)
  const w: Where = { operation: mode.operation, namespace, spec }
  for (const k in spec) if (!KNOWN_KEYS.has(k)) fail(w, `unknown route field ${JSON.stringify(k)}`)

  // Family: stated, or taken from the first address that says it.
  let family = familyOf(spec.family, w)
  if (typeof spec.dst !== 'string') fail(w, `dst must be 'default' or a prefix like '10.0.2.0/24', got ${JSON.stringify(spec.dst)}`)
  let dst: WireAddr | undefined
  let dstLen = 0
  if (spec.dst !== 'default') {
    dst = parsePrefix(spec.dst)
    if (dst === undefined) fail(w, `dst ${JSON.stringify(spec.dst)} is not 'default' or an IPv4/IPv6 prefix`)
    const fam = familyOfAddr(dst)
    if (family !== undefined && fam !== family) fail(w, `dst ${spec.dst} is IPv${fam} but family is IPv${family}`)
    family = fam
    dstLen = parsedPrefixLength
    checkHostBits(dst, dstLen, w, spec.dst)
  }
  if (family === undefined) {
    const first = spec.gateway ?? spec.prefsrc ?? spec.nexthops?.find((n) => n?.gateway !== undefined)?.gateway
    const a = typeof first === 'string' ? parseWireAddr(first) : undefined
    family = a === undefined ? 4 : familyOfAddr(a)
  }
  const af = afOf(family)

  let src: WireAddr | undefined
  let srcLen = 0
  if (spec.from !== undefined) {
    src = typeof spec.from === 'string' ? parsePrefix(spec.from) : undefined
    if (src === undefined || familyOfAddr(src) !== family) fail(w, `from ${JSON.stringify(spec.from)} is not an IPv${family} prefix`)
    srcLen = parsedPrefixLength
    checkHostBits(src, srcLen, w, spec.from)
  }

  const type = spec.type === undefined ? (intent === 'add' ? RTN_UNICAST : RTN_UNSPEC) : named(routeTypes, spec.type, 'route type', w)
  const table = spec.table === undefined ? RT_TABLE_MAIN : named(tables, spec.table, 'table', w)
  if (table === RT_TABLE_UNSPEC && spec.table !== undefined) fail(w, `table 0 (unspec) cannot hold routes`)
  const protocol = spec.protocol === undefined ? (intent === 'add' ? RTPROT_BOOT : RTPROT_UNSPEC) : named(protocols, spec.protocol, 'protocol', w)
  const gateway = spec.gateway === undefined ? undefined : address(spec.gateway, 'gateway', family, w)
  const via = spec.via === undefined ? undefined : encodeVia(spec.via, w)
  const prefsrc = spec.prefsrc === undefined ? undefined : address(spec.prefsrc, 'prefsrc', family, w)
  const priority = spec.metric === undefined ? undefined : uint(spec.metric, 0xffffffff, 'metric', w)
  const tos = spec.tos === undefined ? 0 : uint(spec.tos, 255, 'tos', w)
  const flags = flagBits(spec.flags, spec.onlink, w)
  const metrics = encodeMetrics(spec.metrics, w)
  const dev = spec.dev === undefined ? undefined : checkDev(spec.dev, w)
  if (flags & RTNH_F_ONLINK && dev === undefined && spec.nexthops === undefined) fail(w, `an onlink route needs a dev`)

  let nexthops: EncodedNexthop[] | undefined
  if (spec.nexthops !== undefined) {
    if (!Array.isArray(spec.nexthops) || spec.nexthops.length === 0) fail(w, `nexthops must be a non-empty array`)
    if (gateway || via || dev !== undefined) fail(w, `give gateway/dev either at the top or in nexthops, not both`)
    nexthops = spec.nexthops.map((nh, i) => encodeNexthop(nh, family!, w, i))
  }

  let pref: number | undefined
  if (spec.pref !== undefined) {
    pref = PREF_VALUES[spec.pref as string]
    if (pref === undefined) fail(w, `pref must be 'low', 'medium' or 'high', got ${JSON.stringify(spec.pref)}`)
    if (family !== 6) fail(w, `pref applies to IPv6 routes only`)
  }
  let expires: number | undefined
  if (spec.expires !== undefined) {
    expires = uint(spec.expires, 0xffffffff, 'expires', w)
    if (family !== 6) fail(w, `expires applies to IPv6 routes only`)
  }

  // Scope: what `ip route` picks when none is given.
  let scope: number
  if (spec.scope !== undefined) scope = named(scopes, spec.scope, 'scope', w)
  else if (intent === 'delete') scope = RT_SCOPE_NOWHERE
  else if (type === RTN_LOCAL || type === RTN_NAT) scope = RT_SCOPE_HOST
  else if (type === RTN_BROADCAST || type === RTN_MULTICAST || type === RTN_ANYCAST) scope = RT_SCOPE_LINK
  else if (type === RTN_UNICAST && gateway === undefined && !via && !nexthops) scope = RT_SCOPE_LINK
  else scope = RT_SCOPE_UNIVERSE

  const m = new RouteMessage(spec, mode.type, mode.flags, mode.operation)
  m.af = af; m.dstLen = dstLen; m.dst = dst; m.srcLen = srcLen; m.src = src; m.tos = tos
  m.table = table; m.protocol = protocol; m.scope = scope; m.rtype = type; m.rtmFlags = flags
  m.dev = dev; m.gateway = gateway; m.via = via; m.prefsrc = prefsrc; m.priority = priority
  m.metrics = metrics; m.nexthops = nexthops; m.pref = pref; m.expires = expires
  return m
}

function checkHostBits(a: WireAddr, plen: number, where: Where, text: string): void {
  let clean = true
  if (typeof a === 'number') {
    clean = plen >= 32 || ((a >>> 0) & (0xffffffff >>> plen)) === 0
  } else {
    for (let i = 0; i < a.length && clean; i++) {
      const keep = Math.max(0, Math.min(8, plen - 8 * i))
      if (a[i]! & ~((0xff << (8 - keep)) & 0xff)) clean = false
    }
  }
  if (!clean) fail(where, `${text} has host bits set beyond /${plen}`, 'give the network address, e.g. 10.0.2.0/24')
}

/**
 * Fills in the ifindex of every device named in `routes`: one RTM_GETLINK for a single
 * name, one link dump when there are several. Unknown names fail with ENODEV naming the route.
 */
export async function resolveDevices(ctx: OpsContext, routes: readonly RouteMessage[], operation: string, opts?: CallOptions): Promise<void> {
  const wanted = new Set<string>()
  for (const r of routes) {
    if (typeof r.dev === 'string') wanted.add(r.dev)
    if (r.nexthops) for (const nh of r.nexthops) if (typeof nh.dev === 'string') wanted.add(nh.dev)
  }
  const index = new Map<string, number>()
  if (wanted.size === 1) {
    const name = [...wanted][0]!
    const first = routes.find((r) => r.dev === name || r.nexthops?.some((n) => n.dev === name))
    try {
      index.set(name, await linkIndex(ctx, name, operation, opts))
    } catch (e) {
      throw first ? renamed(e, first, routes.indexOf(first), routes.length) : e
    }
  } else if (wanted.size > 1) {
    for (const [i, n] of await linkNames(ctx, opts)) index.set(n, i)
  }
  for (let i = 0; i < routes.length; i++) {
    const r = routes[i]!
    const look = (dev: LinkRef): number => {
      if (typeof dev === 'number') return dev
      const n = index.get(dev)
      if (n === undefined) {
        throw invalidDevice(ctx, operation, r, dev, routes.length > 1 ? i : undefined)
      }
      return n
    }
    if (r.dev !== undefined) r.ifindex = look(r.dev)
    if (r.nexthops) for (const nh of r.nexthops) if (nh.dev !== undefined) nh.ifindex = look(nh.dev)
  }
}


function invalidDevice(ctx: OpsContext, operation: string, r: RouteMessage, dev: string, index: number | undefined): NsnetError {
  return new NsnetError(`no link named "${dev}"`, {
    code: 'ENODEV', errno: 19, operation, object: r.object, namespace: ctx.namespace, index,
    hint: ctx.namespace ? `it is not in netns ${ctx.namespace}` : 'it is not in this network namespace',
  })
}

function renamed(e: unknown, r: RouteMessage, i: number, count: number): unknown {
  if (!(e instanceof NsnetError) || e.code !== 'ENODEV') return e
  return new NsnetError(e.summary, {
    code: e.code, errno: e.errno, operation: e.operation, object: r.object, namespace: e.namespace,
    hint: e.hint, index: count > 1 ? i : undefined,
  })
}

// Attributes are stored byte by byte into room reserved once: the Writer's general methods
// cost several bounds checks per field, which shows at 100k routes.
function putAttrHeader(b: Buffer, o: number, len: number, type: number): void {
  b[o] = len; b[o + 1] = len >> 8; b[o + 2] = type; b[o + 3] = type >> 8
}

function putU32(w: Writer, type: number, v: number): void {
  const o = w.reserve(8)
  const b = w.buf
  putAttrHeader(b, o, 8, type)
  b[o + 4] = v; b[o + 5] = v >>> 8; b[o + 6] = v >>> 16; b[o + 7] = v >>> 24
}

function putAddr(w: Writer, type: number, a: WireAddr): void {
  if (typeof a !== 'number') { w.attrBytes(type, a); return }
  const o = w.reserve(8)
  const b = w.buf
  putAttrHeader(b, o, 8, type)
  b[o + 4] = a >>> 24; b[o + 5] = a >>> 16; b[o + 6] = a >>> 8; b[o + 7] = a
}

/** Writes rtmsg and the attributes (the body of the netlink message). */
export function writeRoute(w: Writer, r: RouteMessage): void {
  const o = w.reserve(RTMSG_LEN)
  const b = w.buf
  b[o] = r.af; b[o + 1] = r.dstLen; b[o + 2] = r.srcLen; b[o + 3] = r.tos
  b[o + 4] = r.table < 256 ? r.table : RT_TABLE_UNSPEC; b[o + 5] = r.protocol; b[o + 6] = r.scope; b[o + 7] = r.rtype
  const f = r.rtmFlags
  b[o + 8] = f; b[o + 9] = f >>> 8; b[o + 10] = f >>> 16; b[o + 11] = f >>> 24
  if (r.table >= 256) putU32(w, RTA_TABLE, r.table)
  if (r.dst !== undefined) putAddr(w, RTA_DST, r.dst)
  if (r.src !== undefined) putAddr(w, RTA_SRC, r.src)
  if (r.ifindex) putU32(w, RTA_OIF, r.ifindex)
  if (r.gateway !== undefined) putAddr(w, RTA_GATEWAY, r.gateway)
  if (r.via) w.attrBytes(RTA_VIA, r.via)
  if (r.prefsrc !== undefined) putAddr(w, RTA_PREFSRC, r.prefsrc)
  if (r.priority !== undefined) putU32(w, RTA_PRIORITY, r.priority)
  if (r.metrics) {
    const m = w.beginNested(RTA_METRICS)
    for (const [t, v] of r.metrics) {
      if (typeof v === 'string') w.attrStr(t, v)
      else w.attrU32(t, v)
    }
    w.endNested(m)
  }
  if (r.nexthops) {
    // An array of struct rtnexthop, each followed by its own attributes; not an NLA_F_NESTED list.
    const mp = w.beginNested(RTA_MULTIPATH)
    w.buf.writeUInt16LE(RTA_MULTIPATH, mp + 2)
    for (const nh of r.nexthops) {
      const start = w.pos
      w.u16(0).u8(nh.flags).u8(nh.hops).s32(nh.ifindex)
      if (nh.gateway !== undefined) putAddr(w, RTA_GATEWAY, nh.gateway)
      if (nh.via) w.attrBytes(RTA_VIA, nh.via)
      w.buf.writeUInt16LE(w.pos - start, start)
    }
    w.endNested(mp)
  }
  if (r.pref !== undefined) w.attrU8(RTA_PREF, r.pref)
  if (r.expires !== undefined) w.attrU32(RTA_EXPIRES, r.expires)
}
