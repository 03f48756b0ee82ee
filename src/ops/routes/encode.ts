// RouteSpec → RTM_NEWROUTE / RTM_DELROUTE. Device names are looked up first (one request, or one
// link dump for several); then every route is checked completely and encoded into one buffer, so a
// bad route is refused (with its index) before anything is sent.
import { type Family, parseIPv4Number, parseIPv6, Writer } from '../../netlink/codec.js'
import { NLM_F_APPEND, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, NLM_F_REQUEST } from '../../netlink/constants.js'
import type { CallOptions, EncodedRequests, Request } from '../../netlink/engine.js'
import { isNsnetError, NsnetError } from '../../netlink/errors.js'
import { linkIndex, linkNames, type OpsContext } from '../context.js'
import { afOf, familyNumber, RTM_DELROUTE, RTM_NEWROUTE, RTMSG_LEN } from '../rtnl.js'
import { type CheckContext, SpecCheck } from '../spec-check.js'
import {
  METRIC_NAMES,
  METRIC_SCALE,
  PREF_VALUES,
  ROUTE_FLAG_NAMES,
  RTA_DST,
  RTA_EXPIRES,
  RTA_GATEWAY,
  RTA_METRICS,
  RTA_MULTIPATH,
  RTA_NH_ID,
  RTA_OIF,
  RTA_PREF,
  RTA_PREFSRC,
  RTA_PRIORITY,
  RTA_SRC,
  RTA_TABLE,
  RTA_VIA,
  RTAX_CC_ALGO,
  RTAX_LOCK,
  RTNH_F_ONLINK,
} from './attrs.js'
import {
  protocols,
  RT_SCOPE_HOST,
  RT_SCOPE_LINK,
  RT_SCOPE_NOWHERE,
  RT_SCOPE_UNIVERSE,
  RT_TABLE_LOCAL,
  RT_TABLE_MAIN,
  RT_TABLE_UNSPEC,
  RTN_ANYCAST,
  RTN_BROADCAST,
  RTN_LOCAL,
  RTN_MULTICAST,
  RTN_NAT,
  RTN_UNICAST,
  RTN_UNSPEC,
  RTPROT_BOOT,
  RTPROT_UNSPEC,
  routeTypes,
  scopes,
  tables,
} from './tables.js'
import type { NexthopSpec, RouteSpec, RouteVia } from './types.js'

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
  readonly gateway?: WireAddr
  readonly via?: Uint8Array
  readonly ifindex: number
  readonly hops: number
  readonly flags: number
}

/** Link name → ifindex for the names a call uses; a name missing here does not exist. */
export type DeviceIndex = ReadonlyMap<string, number>

const NO_BYTES = Buffer.alloc(0)

/**
 * One checked and encoded route, as the engine Request that sends it. Its body was written
 * into a buffer shared by the whole call; the request only copies its slice. Kept small
 * (no per-route closures or field objects) because bulk adds make 100k of them.
 */
export class RouteMessage implements Request {
  /** The shared buffer holding this route's body at [off, off + len); set when encoding ends. */
  bytes: Buffer = NO_BYTES
  private text: string | undefined = undefined

  constructor(
    readonly spec: RouteSpec,
    readonly type: number,
    readonly flags: number,
    readonly operation: string,
    readonly off: number,
    readonly len: number,
  ) {}

  /** `route 10.0.2.0/24 via 10.0.1.1 dev veth1`, for errors; built only when asked. */
  get object(): string {
    return (this.text ??= describe(this.spec))
  }

  body(w: Writer): void {
    // A plain loop: Buffer#copy makes a view object per call, which costs more than ~50 bytes.
    const o = w.reserve(this.len)
    const to = w.buf,
      from = this.bytes,
      off = this.off
    for (let i = 0; i < this.len; i++) to[o + i] = from[off + i]!
  }
}

// Fields of a decoded Route that carry kernel state, not identity: accepted and not sent.
const IGNORED_KEYS = new Set(['iif', 'uid', 'mark'])
const NEXTHOP_KEYS = new Set(['gateway', 'via', 'dev', 'weight', 'flags', 'onlink'])
const FLAG_BITS = new Map(ROUTE_FLAG_NAMES.map(([bit, name]) => [name, bit]))
const METRIC_NUMBERS = new Map(METRIC_NAMES.flatMap((n, i) => (n ? [[n, i] as const] : [])))

/** What errors name: the operation, the namespace, and the route being checked (one object per call, moved along a batch). */
class RouteWhere implements CheckContext {
  spec: RouteSpec | undefined = undefined
  /** Position in a batch; undefined for a single route. */
  index: number | undefined = undefined
  constructor(
    readonly operation: string,
    readonly namespace: string | undefined,
  ) {}
  get object(): string | undefined {
    return this.spec && typeof this.spec === 'object' ? describe(this.spec) : undefined
  }
}

function familyOf(v: unknown, c: SpecCheck): Family | undefined {
  if (v === 'ipv4') return 4
  if (v === 'ipv6') return 6
  return familyNumber(v, (m) => c.fail(m))
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
  if (slash < 0) {
    parsedPrefixLength = max
    return a
  }
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
function address(v: unknown, what: string, family: Family | undefined, where: SpecCheck): WireAddr {
  const a = typeof v === 'string' ? parseWireAddr(v) : undefined
  if (a === undefined) return where.fail(`${what} ${JSON.stringify(v)} is not an IPv4 or IPv6 address`)
  const fam = familyOfAddr(a)
  if (family !== undefined && fam !== family) {
    return where.fail(
      `${what} ${v} is IPv${fam} but the route is IPv${family}`,
      what === 'gateway' ? 'use `via: { family, host }` for a gateway of the other family' : undefined,
    )
  }
  return a
}

/** The host of a `via` given as { family, host }, for guessing the route's family. */
function viaHost(v: unknown): string | undefined {
  const host = v && typeof v === 'object' ? (v as RouteVia).host : undefined
  return typeof host === 'string' ? host : undefined
}

/** A via whose family is the route's: ip sends that as RTA_GATEWAY, not RTA_VIA. */
function sameFamilyVia(v: unknown, family: Family): boolean {
  if (!v || typeof v !== 'object') return false
  const f = (v as RouteVia).family as unknown
  return (family === 4 && (f === 'inet' || f === 4)) || (family === 6 && (f === 'inet6' || f === 6))
}

function encodeVia(v: unknown, where: SpecCheck): Uint8Array {
  const via = v as RouteVia
  if (!via || typeof via !== 'object') return where.fail(`via must be { family, host }, got ${JSON.stringify(v)}`)
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
function flagBits(flags: unknown, onlink: unknown, where: SpecCheck): number {
  let bits = 0
  if (flags !== undefined) {
    if (!Array.isArray(flags)) return where.fail(`flags must be an array of strings, got ${JSON.stringify(flags)}`)
    for (const f of flags) {
      if (!FLAG_BITS.has(f)) return where.fail(`unknown route flag ${JSON.stringify(f)}`, `known: ${[...FLAG_BITS.keys()].join(', ')}`)
      if (f === 'onlink') bits |= RTNH_F_ONLINK
    }
  }
  if (onlink !== undefined && typeof onlink !== 'boolean') return where.fail(`onlink must be a boolean`)
  if (onlink) bits |= RTNH_F_ONLINK
  return bits
}

function encodeMetrics(v: unknown, where: SpecCheck): Array<[number, number | string]> | undefined {
  if (v === undefined) return undefined
  if (!v || typeof v !== 'object' || Array.isArray(v)) return where.fail(`metrics must be an object like { mtu: 1400 }`)
  const out: Array<[number, number | string]> = []
  let lock = 0
  for (const [k, val] of Object.entries(v)) {
    if (val === undefined) continue
    const t = METRIC_NUMBERS.get(k)
    if (t === undefined) return where.fail(`unknown metric ${JSON.stringify(k)}`, `known: ${[...METRIC_NUMBERS.keys()].join(', ')}`)
    if (t === RTAX_LOCK) {
      if (!Array.isArray(val)) return where.fail(`metrics.lock must be an array of metric names`)
      for (const name of val) {
        const n = METRIC_NUMBERS.get(name)
        if (n === undefined || n === RTAX_LOCK || n === RTAX_CC_ALGO) return where.fail(`metrics.lock: ${JSON.stringify(name)} cannot be locked`)
        lock |= 1 << n
      }
    } else if (t === RTAX_CC_ALGO) {
      if (typeof val !== 'string' || !val || Buffer.byteLength(val) > 15)
        return where.fail(`metrics.congctl must be an algorithm name, got ${JSON.stringify(val)}`)
      out.push([t, val])
    } else {
      const scale = METRIC_SCALE[t] ?? 1
      out.push([t, where.int(val, `metrics.${k}`, 0, Math.floor(0xffffffff / scale)) * scale])
    }
  }
  if (lock) out.unshift([RTAX_LOCK, lock])
  return out.length ? out : undefined
}

function encodeNexthop(nh: NexthopSpec, family: Family, where: SpecCheck, devices: DeviceIndex, i: number): EncodedNexthop {
  if (!nh || typeof nh !== 'object') return where.fail(`nexthops[${i}] must be an object`)
  where.only(nh as unknown as Record<string, unknown>, NEXTHOP_KEYS, `nexthops[${i}]`)
  const viaGateway = sameFamilyVia(nh.via, family)
  const weight = nh.weight === undefined ? 1 : where.int(nh.weight, `nexthops[${i}].weight`, 0, 256)
  if (weight < 1) where.fail(`nexthops[${i}].weight must be 1..256`)
  if (nh.gateway === undefined && nh.dev === undefined && nh.via === undefined) where.fail(`nexthops[${i}] needs a gateway or a dev`)
  if (viaGateway && nh.gateway !== undefined) where.fail(`nexthops[${i}] has both gateway and a via of the same family`)
  const flags = flagBits(nh.flags, nh.onlink, where)
  if (flags & RTNH_F_ONLINK && nh.dev === undefined) where.fail(`nexthops[${i}] is onlink and needs a dev`)
  return {
    gateway: viaGateway
      ? address(nh.via!.host, 'via host', family, where)
      : nh.gateway === undefined
        ? undefined
        : address(nh.gateway, 'gateway', family, where),
    via: nh.via === undefined || viaGateway ? undefined : encodeVia(nh.via, where),
    ifindex: nh.dev === undefined ? 0 : deviceIndex(nh.dev, where, devices),
    hops: weight - 1,
    flags,
  }
}

/** The ifindex of `dev`: numbers as given (the kernel checks them), names through `devices` (ENODEV when absent). */
function deviceIndex(dev: unknown, where: SpecCheck, devices: DeviceIndex): number {
  if (typeof dev === 'number') {
    return where.int(dev, 'dev index', 1, 0x7fffffff)
  }
  const n = typeof dev === 'string' ? devices.get(dev) : undefined
  if (n !== undefined) return n
  where.linkName(dev, 'dev')
  const c = where.ctx
  throw new NsnetError(`no link named "${dev}"`, {
    code: 'ENODEV',
    errno: 19,
    operation: c.operation,
    object: c.object,
    namespace: c.namespace,
    index: c.index,
    hint: c.namespace ? `it is not in netns ${c.namespace}` : 'it is not in this network namespace',
  })
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

/** The less common parts of a route, checked by encodeExtras() only when the spec has any. */
interface Extras {
  src: WireAddr | undefined
  srcLen: number
  tos: number
  flags: number
  via: Uint8Array | undefined
  metrics: ReadonlyArray<readonly [number, number | string]> | undefined
  nexthops: EncodedNexthop[] | undefined
  pref: number | undefined
  expires: number | undefined
  nhid: number | undefined
}

// Keys of a RouteSpec: 1 for the ones most routes have, 2 for those encodeExtras() handles.
const KEY_KIND = new Map<string, number>([
  ...['dst', 'family', 'type', 'gateway', 'dev', 'table', 'protocol', 'scope', 'prefsrc', 'metric'].map((k) => [k, 1] as const),
  ...['from', 'via', 'tos', 'flags', 'onlink', 'metrics', 'pref', 'expires', 'nexthops', 'nhid'].map((k) => [k, 2] as const),
  ...[...IGNORED_KEYS].map((k) => [k, 1] as const),
])

function encodeExtras(spec: RouteSpec, family: Family, w: SpecCheck, devices: DeviceIndex, hasGateway: boolean, viaGateway: boolean): Extras {
  let src: WireAddr | undefined
  let srcLen = 0
  if (spec.from !== undefined) {
    src = typeof spec.from === 'string' ? parsePrefix(spec.from) : undefined
    if (src === undefined || familyOfAddr(src) !== family) w.fail(`from ${JSON.stringify(spec.from)} is not an IPv${family} prefix`)
    srcLen = parsedPrefixLength
    checkHostBits(src, srcLen, w, spec.from)
  }
  // A via of the route's own family went in as the gateway, as ip sends it.
  const via = spec.via === undefined || viaGateway ? undefined : encodeVia(spec.via, w)
  const tos = spec.tos === undefined ? 0 : w.int(spec.tos, 'tos', 0, 255)
  const flags = flagBits(spec.flags, spec.onlink, w)
  const metrics = encodeMetrics(spec.metrics, w)
  if (flags & RTNH_F_ONLINK && spec.dev === undefined && spec.nexthops === undefined) w.fail(`an onlink route needs a dev`)
  let nexthops: EncodedNexthop[] | undefined
  if (spec.nexthops !== undefined) {
    if (!Array.isArray(spec.nexthops) || spec.nexthops.length === 0) w.fail(`nexthops must be a non-empty array`)
    if (hasGateway || spec.via !== undefined || spec.dev !== undefined) w.fail(`give gateway/dev either at the top or in nexthops, not both`)
    nexthops = spec.nexthops.map((nh, i) => encodeNexthop(nh, family, w, devices, i))
  }
  let pref: number | undefined
  if (spec.pref !== undefined) {
    pref = PREF_VALUES[spec.pref as string]
    if (pref === undefined) w.fail(`pref must be 'low', 'medium' or 'high', got ${JSON.stringify(spec.pref)}`)
    if (family !== 6) w.fail(`pref applies to IPv6 routes only`)
  }
  let expires: number | undefined
  if (spec.expires !== undefined) {
    expires = w.int(spec.expires, 'expires', 0, 0xffffffff)
    if (family !== 6) w.fail(`expires applies to IPv6 routes only`)
  }
  // A route using a nexthop object (`ip route ... nhid N`): the kernel also reports that object's
  // gateway and dev on the route, and refuses them next to RTA_NH_ID, so they are not sent.
  const nhid = spec.nhid === undefined ? undefined : w.int(spec.nhid, 'nhid', 0, 0xffffffff)
  if (nhid === 0) w.fail(`nhid must be 1..2^32-1`)
  return { src, srcLen, tos, flags, via, metrics, nexthops, pref, expires, nhid }
}

/** Writes the attributes that come from Extras (those that go after the common ones). */
function writeExtras(out: Writer, x: Extras): void {
  if (x.metrics) writeMetrics(out, x.metrics)
  if (x.nexthops && x.nhid === undefined) writeMultipath(out, x.nexthops)
  if (x.pref !== undefined) out.attrU8(RTA_PREF, x.pref)
  if (x.expires !== undefined) out.attrU32(RTA_EXPIRES, x.expires)
  if (x.nhid !== undefined) putU32(out, RTA_NH_ID, x.nhid)
}

/**
 * Checks one RouteSpec completely, then writes its rtmsg and attributes to `out`.
 * Throws EINVAL_ARGUMENT (or ENODEV for an unknown dev) before writing anything.
 * The common fields are handled here, the rest in encodeExtras(): a small function is
 * optimised sooner, which shows when 100k routes go through it once.
 */
function encodeRoute(spec: RouteSpec, mode: RouteMode, w: SpecCheck, devices: DeviceIndex, out: Writer): void {
  const intent = mode.intent
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) w.fail(`a route must be an object with at least dst, got ${JSON.stringify(spec)}`)
  let kinds = 0
  for (const k in spec) {
    const kind = KEY_KIND.get(k)
    if (kind === undefined) {
      if ((spec as unknown as Record<string, unknown>)[k] === undefined) continue
      w.fail(`route has unknown field "${k}"`)
    }
    kinds |= kind
  }

  // Family: stated, or taken from the first address that says it.
  let family = familyOf(spec.family, w)
  if (typeof spec.dst !== 'string') w.fail(`dst must be 'default' or a prefix like '10.0.2.0/24', got ${JSON.stringify(spec.dst)}`)
  let dst: WireAddr | undefined
  let dstLen = 0
  if (spec.dst !== 'default') {
    dst = parsePrefix(spec.dst)
    if (dst === undefined) w.fail(`dst ${JSON.stringify(spec.dst)} is not 'default' or an IPv4/IPv6 prefix`)
    const fam = familyOfAddr(dst)
    if (family !== undefined && fam !== family) w.fail(`dst ${spec.dst} is IPv${fam} but family is IPv${family}`)
    family = fam
    dstLen = parsedPrefixLength
    checkHostBits(dst, dstLen, w, spec.dst)
  }
  if (family === undefined) {
    const first = spec.gateway ?? viaHost(spec.via) ?? spec.prefsrc ?? spec.nexthops?.find((n) => n?.gateway !== undefined)?.gateway
    const a = typeof first === 'string' ? parseWireAddr(first) : undefined
    family = a === undefined ? 4 : familyOfAddr(a)
  }

  const type = spec.type === undefined ? (intent === 'add' ? RTN_UNICAST : RTN_UNSPEC) : w.named(routeTypes, spec.type, 'route type')
  // As ip: local, broadcast, nat and anycast routes go to table local unless told otherwise.
  const table =
    spec.table !== undefined
      ? w.named(tables, spec.table, 'table')
      : type === RTN_LOCAL || type === RTN_BROADCAST || type === RTN_NAT || type === RTN_ANYCAST
        ? RT_TABLE_LOCAL
        : RT_TABLE_MAIN
  if (table === RT_TABLE_UNSPEC && spec.table !== undefined) w.fail(`table 0 (unspec) cannot hold routes`)
  const protocol = spec.protocol === undefined ? (intent === 'add' ? RTPROT_BOOT : RTPROT_UNSPEC) : w.named(protocols, spec.protocol, 'protocol')
  const viaGateway = sameFamilyVia(spec.via, family)
  if (viaGateway && spec.gateway !== undefined) w.fail(`give gateway or a via of the route's family, not both`)
  const gatewayText = viaGateway ? (spec.via as RouteVia).host : spec.gateway
  const gateway = gatewayText === undefined ? undefined : address(gatewayText, viaGateway ? 'via host' : 'gateway', family, w)
  const prefsrc = spec.prefsrc === undefined ? undefined : address(spec.prefsrc, 'prefsrc', family, w)
  const priority = spec.metric === undefined ? undefined : w.int(spec.metric, 'metric', 0, 0xffffffff)
  const x = kinds & 2 ? encodeExtras(spec, family, w, devices, spec.gateway !== undefined, viaGateway) : undefined
  // With a nexthop object, the path (gateway, dev, onlink) is the object's.
  const path = x?.nhid === undefined

  // Scope: what `ip route` picks when none is given.
  let scope: number
  if (spec.scope !== undefined) scope = w.named(scopes, spec.scope, 'scope')
  else if (intent === 'delete') scope = RT_SCOPE_NOWHERE
  else if (type === RTN_LOCAL || type === RTN_NAT) scope = RT_SCOPE_HOST
  else if (type === RTN_BROADCAST || type === RTN_MULTICAST || type === RTN_ANYCAST) scope = RT_SCOPE_LINK
  else if (type === RTN_UNICAST && gateway === undefined && !x?.via && !x?.nexthops && path) scope = RT_SCOPE_LINK
  else scope = RT_SCOPE_UNIVERSE

  // Last: an unknown device is reported only for a route that is otherwise fine.
  const ifindex = spec.dev === undefined || !path ? 0 : deviceIndex(spec.dev, w, devices)

  // Everything checked: write.
  const o = out.reserve(RTMSG_LEN)
  const b = out.buf
  const flags = x && path ? x.flags : 0
  b[o] = afOf(family)
  b[o + 1] = dstLen
  b[o + 2] = x ? x.srcLen : 0
  b[o + 3] = x ? x.tos : 0
  b[o + 4] = table < 256 ? table : RT_TABLE_UNSPEC
  b[o + 5] = protocol
  b[o + 6] = scope
  b[o + 7] = type
  b[o + 8] = flags
  b[o + 9] = flags >>> 8
  b[o + 10] = flags >>> 16
  b[o + 11] = flags >>> 24
  if (table >= 256) putU32(out, RTA_TABLE, table)
  if (dst !== undefined) putAddr(out, RTA_DST, dst)
  if (x?.src !== undefined) putAddr(out, RTA_SRC, x.src)
  if (ifindex) putU32(out, RTA_OIF, ifindex)
  if (gateway !== undefined && path) putAddr(out, RTA_GATEWAY, gateway)
  if (x?.via && path) out.attrBytes(RTA_VIA, x.via)
  if (prefsrc !== undefined) putAddr(out, RTA_PREFSRC, prefsrc)
  if (priority !== undefined) putU32(out, RTA_PRIORITY, priority)
  if (x) writeExtras(out, x)
}

function checkHostBits(a: WireAddr, plen: number, where: SpecCheck, text: string): void {
  let clean = true
  if (typeof a === 'number') {
    clean = plen >= 32 || ((a >>> 0) & (0xffffffff >>> plen)) === 0
  } else {
    for (let i = 0; i < a.length && clean; i++) {
      const keep = Math.max(0, Math.min(8, plen - 8 * i))
      if (a[i]! & ~((0xff << (8 - keep)) & 0xff)) clean = false
    }
  }
  if (!clean) where.fail(`${text} has host bits set beyond /${plen}`, 'give the network address, e.g. 10.0.2.0/24')
}

/** Every link name the routes mention (dev and nexthop devs), without checking anything else. */
function deviceNames(specs: readonly RouteSpec[]): Set<string> {
  const names = new Set<string>()
  for (const r of specs) {
    if (!r || typeof r !== 'object') continue
    if (typeof r.dev === 'string') names.add(r.dev)
    if (Array.isArray(r.nexthops)) for (const nh of r.nexthops) if (nh && typeof nh.dev === 'string') names.add(nh.dev)
  }
  return names
}

/**
 * Looks the names up: one RTM_GETLINK for a single name, one link dump for several.
 * Names that do not exist are left out (encodeRoute reports them with their route).
 */
async function resolveDevices(ctx: OpsContext, names: Set<string>, operation: string, opts?: CallOptions): Promise<DeviceIndex> {
  const index = new Map<string, number>()
  if (names.size === 1) {
    const name = [...names][0]!
    try {
      index.set(name, await linkIndex(ctx, name, operation, opts))
    } catch (e) {
      // A bad or missing name is reported with its route; anything else (a timeout...) now.
      if (!isNsnetError(e, 'ENODEV') && !isNsnetError(e, 'EINVAL_ARGUMENT')) throw e
    }
  } else if (names.size > 1) {
    for (const [i, n] of await linkNames(ctx, opts)) if (names.has(n)) index.set(n, i)
  }
  return index
}

/**
 * Checks and encodes every route before anything is sent: the first bad one throws
 * (with its `index` when there are several) and nothing is sent at all.
 */
export async function encodeRoutes(ctx: OpsContext, specs: readonly RouteSpec[], mode: RouteMode, opts?: CallOptions): Promise<RouteMessage[]> {
  const devices = await resolveDevices(ctx, deviceNames(specs), mode.operation, opts)
  const out = new Writer(Math.min(1 << 26, Math.max(256, specs.length * 64)))
  const at = new RouteWhere(mode.operation, ctx.namespace)
  const where = new SpecCheck(at)
  const messages: RouteMessage[] = new Array(specs.length)
  for (let i = 0; i < specs.length; i++) {
    const spec = specs[i]!
    at.spec = spec
    at.index = specs.length > 1 ? i : undefined
    const start = out.pos
    encodeRoute(spec, mode, where, devices, out)
    messages[i] = new RouteMessage(spec, mode.type, mode.flags, mode.operation, start, out.pos - start)
  }
  // The writer may have grown (moved) while encoding: point every message at the final bytes.
  const bytes = out.buf
  for (const m of messages) m.bytes = bytes
  return messages
}

/**
 * encodeRoutes() for a batch: every route is checked and written as a whole netlink message
 * into one buffer, with no object per route; the error text of a route is built from its
 * spec only if the kernel refuses it.
 */
export async function encodeRouteBatch(ctx: OpsContext, specs: readonly RouteSpec[], mode: RouteMode, opts?: CallOptions): Promise<EncodedRequests> {
  const devices = await resolveDevices(ctx, deviceNames(specs), mode.operation, opts)
  const out = new Writer(Math.min(1 << 26, Math.max(256, specs.length * 64)))
  const at = new RouteWhere(mode.operation, ctx.namespace)
  const where = new SpecCheck(at)
  const starts = new Int32Array(specs.length + 1)
  const flags = NLM_F_REQUEST | mode.flags
  for (let i = 0; i < specs.length; i++) {
    const spec = specs[i]!
    at.spec = spec
    at.index = specs.length > 1 ? i : undefined
    const start = out.pos
    starts[i] = start
    out.beginMessage(mode.type, flags, 0)
    encodeRoute(spec, mode, where, devices, out)
    out.endMessage(start)
  }
  starts[specs.length] = out.pos
  const operation = mode.operation
  return { buf: out.buf, starts, count: specs.length, describe: (i) => ({ operation, object: describe(specs[i]!) }) }
}

// Attributes are stored byte by byte into room reserved once: the Writer's general methods
// cost several bounds checks per field, which shows at 100k routes.
function putAttrHeader(b: Buffer, o: number, len: number, type: number): void {
  b[o] = len
  b[o + 1] = len >> 8
  b[o + 2] = type
  b[o + 3] = type >> 8
}

function putU32(w: Writer, type: number, v: number): void {
  const o = w.reserve(8)
  const b = w.buf
  putAttrHeader(b, o, 8, type)
  b[o + 4] = v
  b[o + 5] = v >>> 8
  b[o + 6] = v >>> 16
  b[o + 7] = v >>> 24
}

function putAddr(w: Writer, type: number, a: WireAddr): void {
  if (typeof a !== 'number') {
    w.attrBytes(type, a)
    return
  }
  const o = w.reserve(8)
  const b = w.buf
  putAttrHeader(b, o, 8, type)
  b[o + 4] = a >>> 24
  b[o + 5] = a >>> 16
  b[o + 6] = a >>> 8
  b[o + 7] = a
}

function writeMetrics(w: Writer, metrics: ReadonlyArray<readonly [number, number | string]>): void {
  const m = w.beginNested(RTA_METRICS)
  for (const [t, v] of metrics) {
    if (typeof v === 'string') w.attrStr(t, v)
    else w.attrU32(t, v)
  }
  w.endNested(m)
}

/** RTA_MULTIPATH: an array of struct rtnexthop, each followed by its own attributes; not an NLA_F_NESTED list. */
function writeMultipath(w: Writer, nexthops: readonly EncodedNexthop[]): void {
  const mp = w.beginNested(RTA_MULTIPATH)
  w.buf.writeUInt16LE(RTA_MULTIPATH, mp + 2)
  for (const nh of nexthops) {
    const start = w.pos
    w.u16(0).u8(nh.flags).u8(nh.hops).s32(nh.ifindex)
    if (nh.gateway !== undefined) putAddr(w, RTA_GATEWAY, nh.gateway)
    if (nh.via) w.attrBytes(RTA_VIA, nh.via)
    w.buf.writeUInt16LE(w.pos - start, start)
  }
  w.endNested(mp)
}
