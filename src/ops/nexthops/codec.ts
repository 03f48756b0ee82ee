// NexthopObject objects (<linux/nexthop.h>): RTM_NEWNEXTHOP payload <-> NexthopObject, shaped like
// `ip -d -j nexthop show`, and the checks and encoding of what `ip nexthop add` takes.
import { Attrs, decodeError, formatIP, type RawMessage, type Writer } from '../../netlink/codec.js'
import { freeze, type LinkRef } from '../context.js'
import { RTNH_F_ONLINK } from '../routes/attrs.js'
import { flagNames } from '../routes/decode.js'
import { protocols, scopes } from '../routes/tables.js'
import { AF_INET, AF_INET6, AF_UNSPEC, familyNumber, type InetFamily } from '../rtnl.js'
import { SpecCheck } from '../spec-check.js'
import { NHMSG_LEN } from './wire.js'

export const NHA_ID = 1
const NHA_GROUP = 2
const NHA_GROUP_TYPE = 3
const NHA_BLACKHOLE = 4
export const NHA_OIF = 5
const NHA_GATEWAY = 6
export const NHA_GROUPS = 9
export const NHA_MASTER = 10
export const NHA_FDB = 11
const NHA_RES_GROUP = 12
const NHA_MAX = 13

const NHA_RES_GROUP_BUCKETS = 1
const NHA_RES_GROUP_IDLE_TIMER = 2
const NHA_RES_GROUP_UNBALANCED_TIMER = 3
const NHA_RES_GROUP_UNBALANCED_TIME = 4
const NHA_RES_GROUP_MAX = 4

const NEXTHOP_GRP_TYPE_MPATH = 0
const NEXTHOP_GRP_TYPE_RES = 1
/** clock_t ticks per second (USER_HZ), the unit of the resilient timers on the wire. */
const USER_HZ = 100

export interface NexthopGroupMember {
  readonly id: number
  /** 1..256; ip leaves it out when it is 1. */
  readonly weight?: number
}

export interface ResilientArgs {
  readonly buckets?: number
  /** Seconds, as ip prints them. */
  readonly idle_timer?: number
  readonly unbalanced_timer?: number
  /** Seconds the group has been unbalanced (read-only). */
  readonly unbalanced_time?: number
}

/** One nexthop object, as `ip -d -j nexthop show` prints it (`blackhole`/`fdb` are true instead of null), plus its family. */
export interface NexthopObject {
  readonly id: number
  readonly group?: readonly NexthopGroupMember[]
  /** 'resilient' for resilient groups; absent for the default hash-threshold (mpath) type, as ip prints it. */
  readonly type?: 'resilient'
  readonly resilient_args?: ResilientArgs
  readonly gateway?: string
  readonly dev?: string
  readonly scope: string
  readonly blackhole?: true
  readonly protocol: string
  /** 'onlink', 'dead', 'linkdown', ... as ip prints nexthop flags. */
  readonly flags: readonly string[]
  readonly fdb?: true
  /** The nexthop's family; undefined for groups (AF_UNSPEC). Not printed by ip. */
  readonly family?: InetFamily
}

/** What add/replace take; a NexthopObject from list() is accepted as is. */
export interface NexthopObjectSpec {
  /** 1..2^32-1; left out, the kernel picks one (as `ip nexthop add` without id). */
  readonly id?: number
  /** The gateway (`via` in ip). */
  readonly gateway?: string
  readonly dev?: LinkRef
  readonly onlink?: boolean
  readonly blackhole?: boolean
  /** For vxlan fdb entries (`fdb`): a gateway without dev, or a group of such. */
  readonly fdb?: boolean
  /** Members as objects, or ip's text `'1,2/4,3'` (id,weight/...). */
  readonly group?: readonly NexthopGroupMember[] | string
  /** 'mpath' (default) or 'resilient'. */
  readonly type?: 'mpath' | 'resilient'
  readonly resilient_args?: ResilientArgs
  /** Who installed it: a name ip knows (`static`, `bgp`...) or 0..255. */
  readonly protocol?: string | number
  /** 'inet' / 'inet6' (or 4 / 6): for dev-only and blackhole nexthops; a gateway sets it. */
  readonly family?: InetFamily | 4 | 6
  /** Listed fields handed back: scope is the kernel's; flags other than 'onlink' are states. */
  readonly scope?: string
  readonly flags?: readonly string[]
}

const SPEC_FIELDS = new Set(['id', 'gateway', 'dev', 'onlink', 'blackhole', 'fdb', 'group', 'type', 'resilient_args', 'protocol', 'family', 'scope', 'flags'])
const RES_FIELDS = new Set(['buckets', 'idle_timer', 'unbalanced_timer', 'unbalanced_time'])

/** Decodes one RTM_NEWNEXTHOP/DELNEXTHOP message. `names` maps ifindex to link name. */
export function decodeNexthop(m: RawMessage, names?: ReadonlyMap<number, string>): NexthopObject {
  const b = m.buf,
    s = m.start
  if (m.end - s < NHMSG_LEN) throw decodeError(`nexthop message of ${m.end - s} bytes is shorter than nhmsg`)
  const af = b[s]!
  const scope = b[s + 1]!
  const protocol = b[s + 2]!
  const nhFlags = b.readUInt32LE(s + 4)
  const a = new Attrs(b, s + NHMSG_LEN, m.end, NHA_MAX)
  let group: NexthopGroupMember[] | undefined
  if (a.has(NHA_GROUP)) {
    group = []
    const o = a.offset(NHA_GROUP),
      n = Math.floor(a.length(NHA_GROUP) / 8)
    for (let i = 0; i < n; i++) {
      const weight = b[o + i * 8 + 4]! + 1
      group.push(weight > 1 ? { id: b.readUInt32LE(o + i * 8), weight } : { id: b.readUInt32LE(o + i * 8) })
    }
  }
  const groupType = a.u16(NHA_GROUP_TYPE)
  const res = a.nested(NHA_RES_GROUP, NHA_RES_GROUP_MAX)
  const oif = a.u32(NHA_OIF)
  const gwLen = a.length(NHA_GATEWAY)
  return freeze({
    id: a.u32(NHA_ID) ?? 0,
    group,
    type: groupType === NEXTHOP_GRP_TYPE_RES ? ('resilient' as const) : undefined,
    resilient_args: res
      ? {
          buckets: res.u16(NHA_RES_GROUP_BUCKETS),
          idle_timer: seconds(res.u32(NHA_RES_GROUP_IDLE_TIMER)),
          unbalanced_timer: seconds(res.u32(NHA_RES_GROUP_UNBALANCED_TIMER)),
          unbalanced_time: seconds(res.u64(NHA_RES_GROUP_UNBALANCED_TIME)),
        }
      : undefined,
    gateway: gwLen > 0 ? formatIP(b, a.offset(NHA_GATEWAY), gwLen) : undefined,
    dev: oif ? (names?.get(oif) ?? `if${oif}`) : undefined,
    scope: scopes.name(scope),
    blackhole: a.flag(NHA_BLACKHOLE) ? (true as const) : undefined,
    protocol: protocols.name(protocol),
    flags: flagNames(nhFlags),
    fdb: a.flag(NHA_FDB) ? (true as const) : undefined,
    family: af === AF_INET ? ('inet' as const) : af === AF_INET6 ? ('inet6' as const) : undefined,
  })
}

function seconds(ticks: number | undefined): number | undefined {
  return ticks === undefined ? undefined : ticks / USER_HZ
}

export interface EncodedNexthop {
  readonly af: number
  readonly id?: number
  readonly protocol: number
  readonly flags: number
  readonly group?: readonly NexthopGroupMember[]
  readonly groupType?: number
  readonly res?: { buckets?: number; idle?: number; unbalanced?: number }
  readonly blackhole: boolean
  readonly dev?: LinkRef
  readonly gateway?: Uint8Array
  readonly fdb: boolean
  readonly object: string
}

/** Checks a NexthopObjectSpec completely (the kernel's combination rules included) before anything is sent. */
export function encodeNexthop(spec: NexthopObjectSpec, c: SpecCheck): EncodedNexthop {
  const o = c.object(spec, 'nexthop')
  c.only(o, SPEC_FIELDS, 'nexthop')
  const id = o.id === undefined ? undefined : c.int(o.id, 'id', 1, 0xffffffff)
  const object = id === undefined ? 'nexthop' : `nexthop id ${id}`
  const cc: SpecCheck = new SpecCheck({ ...c.ctx, object })
  const bool = (k: string) => (o[k] === undefined ? false : cc.bool(o[k], k))
  const blackhole = bool('blackhole'),
    fdb = bool('fdb')
  let onlink = bool('onlink')
  if (o.flags !== undefined) {
    if (!Array.isArray(o.flags) || o.flags.some((f) => typeof f !== 'string')) cc.fail(`flags must be an array of flag names, got ${JSON.stringify(o.flags)}`)
    if ((o.flags as string[]).includes('onlink')) onlink = true
  }
  if (o.scope !== undefined && scopes.number(cc.str(o.scope, 'scope')) === undefined) cc.fail(`scope ${JSON.stringify(o.scope)} is not a scope name`)
  const protocol = o.protocol === undefined ? 0 : protocols.number(o.protocol as string | number)
  if (protocol === undefined)
    cc.fail(`protocol must be a protocol name (${protocols.names().slice(0, 6).join(', ')}, ...) or 0..255, got ${JSON.stringify(o.protocol)}`)
  const family = familyNumber(o.family, (msg) => cc.fail(msg))
  const gw = o.gateway === undefined ? undefined : cc.ip(o.gateway, 'gateway', family)
  const dev = o.dev === undefined ? undefined : cc.linkRef(o.dev, 'dev')
  const group = o.group === undefined ? undefined : parseGroup(o.group, cc)
  if (group) {
    if (gw || dev !== undefined || blackhole || onlink) cc.fail('a group takes no gateway, dev, blackhole or onlink (its members do)')
    if (family !== undefined) cc.fail('a group has no family of its own')
  } else {
    if (o.type !== undefined || o.resilient_args !== undefined) cc.fail('type and resilient_args belong to groups')
    if (blackhole && (gw || dev !== undefined || onlink)) cc.fail('a blackhole nexthop takes no gateway, dev or onlink')
    if (blackhole && fdb) cc.fail('an fdb nexthop cannot be a blackhole')
    if (fdb && dev !== undefined) cc.fail('an fdb nexthop takes no dev (only a gateway)')
    if (!blackhole && !gw && dev === undefined) cc.fail('a nexthop needs a gateway, a dev, blackhole or a group')
    if (!gw && dev === undefined && fdb) cc.fail('an fdb nexthop needs a gateway')
    if (onlink && (!gw || dev === undefined)) cc.fail('onlink needs both a gateway and a dev')
  }
  let groupType: number | undefined
  let res: EncodedNexthop['res']
  if (o.type !== undefined) groupType = cc.oneOf(o.type, 'type', { mpath: NEXTHOP_GRP_TYPE_MPATH, resilient: NEXTHOP_GRP_TYPE_RES })
  if (o.resilient_args !== undefined) {
    if (groupType !== NEXTHOP_GRP_TYPE_RES) cc.fail("resilient_args need type 'resilient'")
    const r = cc.object(o.resilient_args, 'resilient_args')
    cc.only(r, RES_FIELDS, 'resilient_args')
    const ticks = (k: string) => {
      const v = r[k]
      if (v === undefined) return undefined
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) cc.fail(`resilient_args.${k} must be a number of seconds >= 0, got ${JSON.stringify(v)}`)
      return cc.int(Math.round(v * USER_HZ), `resilient_args.${k} in 1/100 s`, 0, 0xffffffff)
    }
    res = {
      buckets: r.buckets === undefined ? undefined : cc.int(r.buckets, 'resilient_args.buckets', 1, 0xffff),
      idle: ticks('idle_timer'),
      unbalanced: ticks('unbalanced_timer'),
    }
  }
  // ip's choice: a gateway's family, else AF_INET for a dev or blackhole, AF_UNSPEC for groups.
  const af = gw ? (gw.family === 4 ? AF_INET : AF_INET6) : family ? (family === 4 ? AF_INET : AF_INET6) : group ? AF_UNSPEC : AF_INET
  return {
    af,
    id,
    protocol,
    flags: onlink ? RTNH_F_ONLINK : 0,
    group,
    groupType,
    res,
    blackhole,
    dev,
    gateway: gw?.bytes,
    fdb,
    object,
  }
}

/** `[{ id: 1, weight: 2 }, { id: 4 }]` or ip's `'1,2/4'`. */
function parseGroup(v: unknown, c: SpecCheck): NexthopGroupMember[] {
  let members: unknown[]
  if (typeof v === 'string') {
    if (!/^\d+(,\d+)?(\/\d+(,\d+)?)*$/.test(v)) c.fail(`group ${JSON.stringify(v)} is not of the form 'id[,weight]/id[,weight]...'`)
    members = v.split('/').map((p) => {
      const [id, w] = p.split(',')
      return { id: Number(id), weight: w === undefined ? undefined : Number(w) }
    })
  } else if (Array.isArray(v)) {
    members = v
  } else {
    c.fail(`group must be an array of { id, weight } or a text like '1,2/3', got ${JSON.stringify(v)}`)
  }
  if (members.length === 0) c.fail('group needs at least one member')
  const seen = new Set<number>()
  return members.map((m, i) => {
    const o = c.object(m, `group[${i}]`)
    c.only(o, new Set(['id', 'weight']), `group[${i}]`)
    const id = c.int(o.id, `group[${i}].id`, 1, 0xffffffff)
    if (seen.has(id)) c.fail(`group lists nexthop ${id} twice`)
    seen.add(id)
    const weight = o.weight === undefined ? undefined : c.int(o.weight, `group[${i}].weight`, 1, 256)
    return weight === undefined ? { id } : { id, weight }
  })
}

/** The RTM_NEWNEXTHOP body. */
export function writeNexthop(w: Writer, e: EncodedNexthop, ifindex: number | undefined): void {
  w.u8(e.af).u8(0).u8(e.protocol).u8(0).u32(e.flags)
  if (e.id !== undefined) w.attrU32(NHA_ID, e.id)
  if (e.group) {
    const b = Buffer.alloc(e.group.length * 8)
    e.group.forEach((m, i) => {
      b.writeUInt32LE(m.id, i * 8)
      b[i * 8 + 4] = (m.weight ?? 1) - 1
    })
    w.attrBytes(NHA_GROUP, b)
  }
  if (e.groupType !== undefined) w.attrU16(NHA_GROUP_TYPE, e.groupType)
  if (e.res) {
    const n = w.beginNested(NHA_RES_GROUP)
    if (e.res.buckets !== undefined) w.attrU16(NHA_RES_GROUP_BUCKETS, e.res.buckets)
    if (e.res.idle !== undefined) w.attrU32(NHA_RES_GROUP_IDLE_TIMER, e.res.idle)
    if (e.res.unbalanced !== undefined) w.attrU32(NHA_RES_GROUP_UNBALANCED_TIMER, e.res.unbalanced)
    w.endNested(n)
  }
  if (e.blackhole) w.attrFlag(NHA_BLACKHOLE)
  if (ifindex !== undefined) w.attrU32(NHA_OIF, ifindex)
  if (e.gateway) w.attrBytes(NHA_GATEWAY, e.gateway)
  if (e.fdb) w.attrFlag(NHA_FDB)
}
