// Policy routing rules: `ip rule`. Encodes RTM_NEWRULE/DELRULE and decodes RTM_NEWRULE
// into objects shaped like `ip -j rule show`.
import { Attrs, decodeError, parseCidr, type RawAttribute, type RawMessage, type Writer } from '../../netlink/codec.js'
import type { CallOptions } from '../../netlink/engine.js'
import { invalidArgument, type NsnetError } from '../../netlink/errors.js'
import { NLM_F_CREATE, NLM_F_EXCL } from '../../netlink/constants.js'
import { checkLinkName, freeze, type OpsContext } from '../context.js'
import { AF_UNSPEC, FIB_RULE_HDR_LEN, RTM_DELRULE, RTM_GETRULE, RTM_NEWRULE, afOf, familyNumber, familyOfAf, inetFamily, type FamilyName, type InetFamily } from '../rtnl.js'
import { RT_TABLE_MAIN, protocols, tables } from '../routes/tables.js'

// <linux/fib_rules.h>
const FRA_DST = 1
const FRA_SRC = 2
const FRA_IIFNAME = 3
const FRA_GOTO = 4
const FRA_PRIORITY = 6
const FRA_FWMARK = 10
const FRA_FLOW = 11
const FRA_SUPPRESS_IFGROUP = 13
const FRA_SUPPRESS_PREFIXLEN = 14
const FRA_TABLE = 15
const FRA_FWMASK = 16
const FRA_OIFNAME = 17
const FRA_L3MDEV = 19
const FRA_UID_RANGE = 20
const FRA_PROTOCOL = 21
const FRA_IP_PROTO = 22
const FRA_SPORT_RANGE = 23
const FRA_DPORT_RANGE = 24
// Attributes we know by number but ignore (FRA_PAD, FRA_TUN_ID ...) are still listed in `unknown`.
const FRA_MAX = FRA_DPORT_RANGE

const FIB_RULE_INVERT = 0x02
const FIB_RULE_IIF_DETACHED = 0x08
const FIB_RULE_OIF_DETACHED = 0x10

const ACTIONS = ['unspec', 'lookup', 'goto', 'nop', 'res3', 'res4', 'blackhole', 'unreachable', 'prohibit'] as const
export type RuleAction = 'lookup' | 'goto' | 'nop' | 'blackhole' | 'unreachable' | 'prohibit'
const ACTION_NUMBER: Readonly<Record<RuleAction, number>> = { lookup: 1, goto: 2, nop: 3, blackhole: 6, unreachable: 7, prohibit: 8 }

export interface PortRange { readonly start: number; readonly end: number }

/**
 * One rule, as `ip -j rule show` prints it; differences: `src`/`dst` are undefined for
 * "all", fwmark/fwmask/tos are numbers, flags are `true` instead of ip's `null`,
 * `action` is always present (ip omits 'lookup').
 */
export interface Rule {
  readonly family: InetFamily
  readonly priority: number
  readonly not?: true
  readonly src?: string
  readonly srclen?: number
  readonly dst?: string
  readonly dstlen?: number
  readonly tos?: number
  readonly fwmark?: number
  readonly fwmask?: number
  readonly iif?: string
  readonly iif_detached?: true
  readonly oif?: string
  readonly oif_detached?: true
  readonly l3mdev?: true
  readonly uidrange?: PortRange
  readonly ipproto?: number
  readonly sport?: PortRange
  readonly dport?: PortRange
  /** Table name or decimal text, as ip prints it ('main', '100'). */
  readonly table?: string
  readonly suppress_prefixlen?: number
  readonly suppress_ifgroup?: number
  /** FRA_FLOW (`realms`), the realm id pair as the kernel stores it. */
  readonly realms?: number
  readonly action: RuleAction | string
  /** Target priority of a 'goto' rule. */
  readonly goto?: number
  /** Who installed it ('kernel' for the default rules); undefined for RTPROT_UNSPEC. */
  readonly protocol?: string
  /** Attributes this decoder does not interpret, kept raw. */
  readonly unknown?: readonly RawAttribute[]
}

/** What add/delete take. `from`/`to` are prefixes ('10.0.0.0/24' or 'all'); a Rule from list() is accepted as is. */
export interface RuleSpec {
  readonly family?: FamilyName
  readonly priority?: number
  readonly from?: string
  readonly to?: string
  readonly src?: string
  readonly srclen?: number
  readonly dst?: string
  readonly dstlen?: number
  readonly not?: boolean
  readonly tos?: number
  readonly fwmark?: number
  readonly fwmask?: number
  readonly iif?: string
  readonly oif?: string
  readonly l3mdev?: boolean
  readonly uidrange?: PortRange
  readonly ipproto?: number
  readonly sport?: PortRange | number
  readonly dport?: PortRange | number
  /** Name ('main', 'local', 'default') or id; ids above 255 go in FRA_TABLE. add() defaults to main for 'lookup'. */
  readonly table?: string | number
  readonly suppress_prefixlen?: number
  readonly suppress_ifgroup?: number
  /** FRA_FLOW (`realms`), the realm id pair as the kernel stores it. */
  readonly realms?: number
  /** Default 'lookup'. */
  readonly action?: RuleAction | string
  readonly goto?: number
  readonly protocol?: string | number
  // Fields list() returns that describe state, not identity; accepted and ignored.
  readonly iif_detached?: boolean
  readonly oif_detached?: boolean
  readonly unknown?: readonly RawAttribute[]
}

export interface RuleFilter {
  readonly family?: FamilyName
  /** Only rules that look up this table. */
  readonly table?: string | number
  readonly priority?: number
}

function portRange(a: Attrs, type: number): PortRange | undefined {
  if (a.length(type) < 4) return undefined
  const o = a.offset(type)
  return { start: a.buf.readUInt16LE(o), end: a.buf.readUInt16LE(o + 2) }
}

/** Decodes one RTM_NEWRULE/DELRULE message; undefined for families other than IPv4/IPv6 (ipmr rules). */
export function decodeRule(m: RawMessage): Rule | undefined {
  const b = m.buf
  const s = m.start
  if (m.end - s < FIB_RULE_HDR_LEN) throw decodeError(`rule message of ${m.end - s} bytes is shorter than fib_rule_hdr`)
  const family = familyOfAf(b[s]!)
  if (family === undefined) return undefined
  const dstLen = b[s + 1]!, srcLen = b[s + 2]!, tos = b[s + 3]!, hdrTable = b[s + 4]!, action = b[s + 7]!
  const flags = b.readUInt32LE(s + 8)
  const a = new Attrs(b, s + FIB_RULE_HDR_LEN, m.end, FRA_MAX)
  const r: { -readonly [K in keyof Rule]: Rule[K] } = { family: inetFamily(family), priority: a.u32(FRA_PRIORITY) ?? 0, action: ACTIONS[action] ?? String(action) }
  if (flags & FIB_RULE_INVERT) r.not = true
  if (a.has(FRA_SRC)) { r.src = a.ip(FRA_SRC); r.srclen = srcLen }
  if (a.has(FRA_DST)) { r.dst = a.ip(FRA_DST); r.dstlen = dstLen }
  if (tos) r.tos = tos
  const mark = a.u32(FRA_FWMARK), mask = a.u32(FRA_FWMASK)
  if (mark || mask) { r.fwmark = mark ?? 0; if (mask !== undefined) r.fwmask = mask }
  const iif = a.str(FRA_IIFNAME)
  if (iif) { r.iif = iif; if (flags & FIB_RULE_IIF_DETACHED) r.iif_detached = true }
  const oif = a.str(FRA_OIFNAME)
  if (oif) { r.oif = oif; if (flags & FIB_RULE_OIF_DETACHED) r.oif_detached = true }
  if (a.u8(FRA_L3MDEV)) r.l3mdev = true
  if (a.length(FRA_UID_RANGE) >= 8) {
    const o = a.offset(FRA_UID_RANGE)
    r.uidrange = { start: b.readUInt32LE(o), end: b.readUInt32LE(o + 4) }
  }
  const ipproto = a.u8(FRA_IP_PROTO)
  if (ipproto) r.ipproto = ipproto
  const sport = portRange(a, FRA_SPORT_RANGE), dport = portRange(a, FRA_DPORT_RANGE)
  if (sport) r.sport = sport
  if (dport) r.dport = dport
  const table = a.u32(FRA_TABLE) ?? hdrTable
  if (table) r.table = tables.name(table)
  const spl = a.u32(FRA_SUPPRESS_PREFIXLEN)
  if (spl !== undefined && spl !== 0xffffffff) r.suppress_prefixlen = spl
  const sig = a.u32(FRA_SUPPRESS_IFGROUP)
  if (sig !== undefined && sig !== 0xffffffff) r.suppress_ifgroup = sig
  const realms = a.u32(FRA_FLOW)
  if (realms) r.realms = realms
  if (action === ACTION_NUMBER.goto) r.goto = a.u32(FRA_GOTO)
  const proto = a.u8(FRA_PROTOCOL)
  if (proto) r.protocol = protocols.name(proto)
  const unknown = a.unknown()
  if (unknown) r.unknown = unknown
  return freeze(r as Rule)
}

type Ctx = { operation: string; object?: string; namespace: string | undefined }

/** A validated rule, ready to write. */
interface Encoded {
  af: number
  src?: { bytes: Uint8Array; len: number }
  dst?: { bytes: Uint8Array; len: number }
  tos: number
  table: number
  action: number
  flags: number
  u32: Array<[number, number]>
  u8: Array<[number, number]>
  str: Array<[number, string]>
  pairs: Array<[number, Buffer]>
}

/** Describes a rule the way `ip rule` prints it, for error messages. */
function describe(s: RuleSpec): string {
  const p: string[] = ['rule']
  if (s.priority !== undefined) p.push(`${s.priority}:`)
  if (s.not) p.push('not')
  const from = s.from ?? (s.src !== undefined ? `${s.src}/${s.srclen}` : undefined)
  const to = s.to ?? (s.dst !== undefined ? `${s.dst}/${s.dstlen}` : undefined)
  p.push(`from ${from ?? 'all'}`)
  if (to) p.push(`to ${to}`)
  if (s.fwmark !== undefined) p.push(`fwmark ${s.fwmark}`)
  if (s.iif) p.push(`iif ${s.iif}`)
  if (s.oif) p.push(`oif ${s.oif}`)
  if (s.table !== undefined) p.push(`lookup ${s.table}`)
  if (s.action && s.action !== 'lookup') p.push(String(s.action))
  return p.join(' ')
}

const isU32 = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff

export class Rules {
  constructor(readonly ctx: OpsContext) {}

  /** `ip rule show` (`ip -4`/`-6 rule show`, `ip rule show table T`); both families unless one is asked for. */
  async list(filter: RuleFilter = {}, opts?: CallOptions): Promise<Rule[]> {
    const ctx: Ctx = { operation: 'rules.list', namespace: this.ctx.namespace }
    if (filter === null || typeof filter !== 'object') throw invalidArgument('filter must be an object', ctx)
    const family = familyNumber(filter.family, (m) => { throw invalidArgument(m, ctx) })
    let table: string | undefined
    if (filter.table !== undefined) {
      const t = tables.number(filter.table)
      if (t === undefined) throw invalidArgument(`unknown table ${JSON.stringify(filter.table)}`, { ...ctx, hint: 'a name (main, local, default) or a number' })
      table = tables.name(t)
    }
    const rules = await this.ctx.sock.dump({
      type: RTM_GETRULE,
      operation: ctx.operation,
      object: 'rules',
      body: (w) => { w.u8(family ? afOf(family) : AF_UNSPEC).zeros(11) },
    }, (m) => m.type === RTM_NEWRULE ? decodeRule(m) : undefined, opts)
    return rules.filter((r) =>
      (table === undefined || r.table === table) && (filter.priority === undefined || r.priority === filter.priority))
  }

  /** `ip rule add [not] [from P] [to P] [fwmark M/MASK] [iif I] [oif O] [pref N] [lookup T | blackhole | ...]`. */
  async add(rule: RuleSpec, opts?: CallOptions): Promise<void> {
    const e = this.encode(rule, 'rules.add', false)
    await this.ctx.sock.request({
      type: RTM_NEWRULE, flags: NLM_F_CREATE | NLM_F_EXCL, operation: 'rules.add', object: describe(rule),
      body: (w) => writeRule(w, e),
    }, opts)
  }

  /**
   * `ip rule del ...`: removes the first rule that matches every field given (the kernel treats
   * absent fields as wildcards), so a Rule from list(), which carries its priority, removes that rule.
   */
  async delete(rule: RuleSpec, opts?: CallOptions): Promise<void> {
    const e = this.encode(rule, 'rules.delete', true)
    await this.ctx.sock.request({
      type: RTM_DELRULE, operation: 'rules.delete', object: describe(rule),
      body: (w) => writeRule(w, e),
    }, opts)
  }

  /** Validates everything and builds the message parts before anything is sent. */
  private encode(spec: RuleSpec, operation: string, forDelete: boolean): Encoded {
    const ctx: Ctx = { operation, namespace: this.ctx.namespace }
    if (spec === null || typeof spec !== 'object') throw invalidArgument('rule must be an object', ctx)
    ctx.object = describe(spec)
    const bad = (msg: string, hint?: string) => invalidArgument(msg, { ...ctx, hint })
    const e: Encoded = { af: 0, tos: 0, table: 0, action: 0, flags: 0, u32: [], u8: [], str: [], pairs: [] }

    let family = familyNumber(spec.family, (m) => { throw bad(m) })
    const prefix = (what: 'from' | 'to', text: string | undefined, addr: string | undefined, len: number | undefined) => {
      let t = text
      if (t === undefined && addr !== undefined) t = len === undefined ? addr : `${addr}/${len}`
      if (t === undefined || t === 'all') return undefined
      if (typeof t !== 'string') throw bad(`${what} must be a prefix string like 10.0.0.0/24, got ${JSON.stringify(t)}`)
      const c = parseCidr(t)
      if (!c) throw bad(`${what} "${t}" is not an IPv4 or IPv6 prefix`)
      if (family !== undefined && c.family !== family) throw bad(`${what} ${t} is not IPv${family}`, 'from, to and family must agree')
      family = c.family
      return { bytes: c.bytes, len: c.prefixLength }
    }
    e.src = prefix('from', spec.from, spec.src, spec.srclen)
    e.dst = prefix('to', spec.to, spec.dst, spec.dstlen)
    e.af = afOf(family ?? 4)

    if (spec.priority !== undefined) {
      if (!isU32(spec.priority)) throw bad(`priority must be an integer 0..4294967295, got ${JSON.stringify(spec.priority)}`)
      e.u32.push([FRA_PRIORITY, spec.priority])
    }
    if (spec.not !== undefined && typeof spec.not !== 'boolean') throw bad('not must be a boolean')
    if (spec.not) e.flags |= FIB_RULE_INVERT
    if (spec.tos !== undefined) {
      if (!Number.isInteger(spec.tos) || spec.tos < 0 || spec.tos > 255) throw bad(`tos must be 0..255, got ${JSON.stringify(spec.tos)}`)
      e.tos = spec.tos
    }
    if (spec.fwmark !== undefined || spec.fwmask !== undefined) {
      if (spec.fwmark === undefined || !isU32(spec.fwmark)) throw bad(`fwmark must be an integer 0..0xffffffff, got ${JSON.stringify(spec.fwmark)}`)
      e.u32.push([FRA_FWMARK, spec.fwmark])
      if (spec.fwmask !== undefined) {
        if (!isU32(spec.fwmask)) throw bad(`fwmask must be an integer 0..0xffffffff, got ${JSON.stringify(spec.fwmask)}`)
        e.u32.push([FRA_FWMASK, spec.fwmask])
      }
    }
    for (const [name, type] of [['iif', FRA_IIFNAME], ['oif', FRA_OIFNAME]] as const) {
      const v = spec[name]
      if (v === undefined) continue
      try {
        e.str.push([type, checkLinkName(v, this.ctx, operation, name)])
      } catch (err) {
        throw bad((err as NsnetError).summary) // keep the rule as the object, not the link
      }
    }
    if (spec.l3mdev) e.u8.push([FRA_L3MDEV, 1])
    if (spec.uidrange !== undefined) {
      const u = spec.uidrange
      if (!u || !isU32(u.start) || !isU32(u.end) || u.start > u.end) throw bad(`uidrange must be {start, end} with start <= end, got ${JSON.stringify(u)}`)
      const buf = Buffer.alloc(8)
      buf.writeUInt32LE(u.start, 0); buf.writeUInt32LE(u.end, 4)
      e.pairs.push([FRA_UID_RANGE, buf])
    }
    if (spec.ipproto !== undefined) {
      if (!Number.isInteger(spec.ipproto) || spec.ipproto < 1 || spec.ipproto > 255) throw bad(`ipproto must be 1..255, got ${JSON.stringify(spec.ipproto)}`)
      e.u8.push([FRA_IP_PROTO, spec.ipproto])
    }
    for (const [name, type] of [['sport', FRA_SPORT_RANGE], ['dport', FRA_DPORT_RANGE]] as const) {
      const v = spec[name]
      if (v === undefined) continue
      const r = typeof v === 'number' ? { start: v, end: v } : v
      const port = (n: unknown) => Number.isInteger(n) && (n as number) >= 0 && (n as number) <= 0xffff
      if (!r || !port(r.start) || !port(r.end) || r.start > r.end) throw bad(`${name} must be a port or {start, end}, got ${JSON.stringify(v)}`)
      const buf = Buffer.alloc(4)
      buf.writeUInt16LE(r.start, 0); buf.writeUInt16LE(r.end, 2)
      e.pairs.push([type, buf])
    }

    const actionName = spec.action ?? 'lookup'
    const action = ACTION_NUMBER[actionName as RuleAction]
    if (action === undefined) throw bad(`unknown action ${JSON.stringify(spec.action)}`, `one of ${Object.keys(ACTION_NUMBER).join(', ')}`)
    e.action = action
    let table: number | undefined
    if (spec.table !== undefined) {
      table = tables.number(spec.table)
      if (table === undefined) throw bad(`unknown table ${JSON.stringify(spec.table)}`, 'a name (main, local, default) or a number')
    } else if (action === ACTION_NUMBER.lookup && !forDelete) {
      table = RT_TABLE_MAIN // as `ip rule add` does
    }
    if (table !== undefined && table !== 0) {
      if (table < 256) e.table = table
      else e.u32.push([FRA_TABLE, table]) // fib_rule_hdr.table is one byte
    }
    if (spec.goto !== undefined || action === ACTION_NUMBER.goto) {
      if (action !== ACTION_NUMBER.goto) throw bad('goto is only valid with action "goto"')
      if (!isU32(spec.goto)) throw bad(`goto must be the priority of the target rule, got ${JSON.stringify(spec.goto)}`)
      e.u32.push([FRA_GOTO, spec.goto])
    }
    for (const [name, type] of [['suppress_prefixlen', FRA_SUPPRESS_PREFIXLEN], ['suppress_ifgroup', FRA_SUPPRESS_IFGROUP], ['realms', FRA_FLOW]] as const) {
      const v = spec[name]
      if (v === undefined) continue
      if (!isU32(v)) throw bad(`${name} must be an integer 0..4294967295, got ${JSON.stringify(v)}`)
      e.u32.push([type, v])
    }
    if (spec.protocol !== undefined) {
      const p = protocols.number(spec.protocol)
      if (p === undefined) throw bad(`unknown protocol ${JSON.stringify(spec.protocol)}`)
      e.u8.push([FRA_PROTOCOL, p])
    }
    return e
  }
}

function writeRule(w: Writer, e: Encoded): void {
  w.u8(e.af).u8(e.dst?.len ?? 0).u8(e.src?.len ?? 0).u8(e.tos)
  w.u8(e.table).u8(0).u8(0).u8(e.action)
  w.u32(e.flags)
  if (e.src) w.attrBytes(FRA_SRC, e.src.bytes)
  if (e.dst) w.attrBytes(FRA_DST, e.dst.bytes)
  for (const [t, v] of e.u32) w.attrU32(t, v)
  for (const [t, v] of e.u8) w.attrU8(t, v)
  for (const [t, v] of e.str) w.attrStr(t, v)
  for (const [t, v] of e.pairs) w.attrBytes(t, v)
}
