// Policy routing rules: `ip rule`. Encodes RTM_NEWRULE/DELRULE and decodes RTM_NEWRULE
// into objects shaped like `ip -j rule show`.
import { Attrs, decodeError, parseCidr, type RawAttribute, type RawMessage, type Writer } from '../../netlink/codec.js'
import { NLM_F_CREATE, NLM_F_EXCL } from '../../netlink/constants.js'
import type { CallOptions } from '../../netlink/engine.js'
import { freeze, type OpsContext } from '../context.js'
import { protocols, RT_TABLE_MAIN, tables } from '../routes/tables.js'
import {
  AF_UNSPEC,
  afOf,
  type FamilyName,
  FIB_RULE_HDR_LEN,
  familyNumber,
  familyOfAf,
  type InetFamily,
  inetFamily,
  RTM_DELRULE,
  RTM_GETRULE,
  RTM_NEWRULE,
} from '../rtnl.js'
import { SpecCheck, show } from '../spec-check.js'

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

export interface PortRange {
  readonly start: number
  readonly end: number
}

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

/** struct fib_rule_port_range { u16 start, end }; EDECODE when shorter. */
function portRange(a: Attrs, type: number, what: string): PortRange | undefined {
  const o = a.fixed(type, 4, what)
  return o < 0 ? undefined : { start: a.buf.readUInt16LE(o), end: a.buf.readUInt16LE(o + 2) }
}

/** Decodes one RTM_NEWRULE/DELRULE message; undefined for families other than IPv4/IPv6 (ipmr rules). */
export function decodeRule(m: RawMessage): Rule | undefined {
  const b = m.buf
  const s = m.start
  if (m.end - s < FIB_RULE_HDR_LEN) throw decodeError(`rule message of ${m.end - s} bytes is shorter than fib_rule_hdr`)
  const family = familyOfAf(b[s]!)
  if (family === undefined) return undefined
  const dstLen = b[s + 1]!,
    srcLen = b[s + 2]!,
    tos = b[s + 3]!,
    hdrTable = b[s + 4]!,
    action = b[s + 7]!
  const flags = b.readUInt32LE(s + 8)
  const a = new Attrs(b, s + FIB_RULE_HDR_LEN, m.end, FRA_MAX)
  const r: { -readonly [K in keyof Rule]: Rule[K] } = {
    family: inetFamily(family),
    priority: a.u32(FRA_PRIORITY) ?? 0,
    action: ACTIONS[action] ?? String(action),
  }
  if (flags & FIB_RULE_INVERT) r.not = true
  if (a.has(FRA_SRC)) {
    r.src = a.ip(FRA_SRC)
    r.srclen = srcLen
  }
  if (a.has(FRA_DST)) {
    r.dst = a.ip(FRA_DST)
    r.dstlen = dstLen
  }
  if (tos) r.tos = tos
  const mark = a.u32(FRA_FWMARK),
    mask = a.u32(FRA_FWMASK)
  if (mark || mask) {
    r.fwmark = mark ?? 0
    if (mask !== undefined) r.fwmask = mask
  }
  const iif = a.str(FRA_IIFNAME)
  if (iif) {
    r.iif = iif
    if (flags & FIB_RULE_IIF_DETACHED) r.iif_detached = true
  }
  const oif = a.str(FRA_OIFNAME)
  if (oif) {
    r.oif = oif
    if (flags & FIB_RULE_OIF_DETACHED) r.oif_detached = true
  }
  if (a.u8(FRA_L3MDEV)) r.l3mdev = true
  const uo = a.fixed(FRA_UID_RANGE, 8, 'FRA_UID_RANGE')
  if (uo >= 0) {
    const o = uo
    r.uidrange = { start: b.readUInt32LE(o), end: b.readUInt32LE(o + 4) }
  }
  const ipproto = a.u8(FRA_IP_PROTO)
  if (ipproto) r.ipproto = ipproto
  const sport = portRange(a, FRA_SPORT_RANGE, 'FRA_SPORT_RANGE'),
    dport = portRange(a, FRA_DPORT_RANGE, 'FRA_DPORT_RANGE')
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

const U32 = 0xffffffff
const FILTER_KEYS = new Set(['family', 'table', 'priority'])
/** RuleSpec's fields; those that describe kernel state (iif_detached, ...) are accepted and ignored. */
const SPEC_KEYS = new Set([
  'family',
  'priority',
  'from',
  'to',
  'src',
  'srclen',
  'dst',
  'dstlen',
  'not',
  'tos',
  'fwmark',
  'fwmask',
  'iif',
  'oif',
  'l3mdev',
  'uidrange',
  'ipproto',
  'sport',
  'dport',
  'table',
  'suppress_prefixlen',
  'suppress_ifgroup',
  'realms',
  'action',
  'goto',
  'protocol',
])
const STATE_KEYS = new Set(['iif_detached', 'oif_detached', 'unknown'])

export class Rules {
  constructor(readonly ctx: OpsContext) {}

  /** `ip rule show` (`ip -4`/`-6 rule show`, `ip rule show table T`); both families unless one is asked for. */
  async list(filter: RuleFilter = {}, opts?: CallOptions): Promise<Rule[]> {
    const c: SpecCheck = new SpecCheck({ operation: 'rules.list', namespace: this.ctx.namespace })
    const f = c.object(filter, 'filter')
    c.only(f, FILTER_KEYS, 'filter')
    c.options(opts)
    const family = familyNumber(f.family, (m) => c.fail(m))
    const table = f.table === undefined ? undefined : tables.name(c.named(tables, f.table, 'table'))
    const priority = f.priority === undefined ? undefined : c.int(f.priority, 'filter.priority', 0, U32)
    const rules = await this.ctx.sock.dump(
      {
        type: RTM_GETRULE,
        operation: 'rules.list',
        object: 'rules',
        body: (w) => {
          w.u8(family ? afOf(family) : AF_UNSPEC).zeros(11)
        },
      },
      (m) => (m.type === RTM_NEWRULE ? decodeRule(m) : undefined),
      opts,
    )
    return rules.filter((r) => (table === undefined || r.table === table) && (priority === undefined || r.priority === priority))
  }

  /** `ip rule add [not] [from P] [to P] [fwmark M/MASK] [iif I] [oif O] [pref N] [lookup T | blackhole | ...]`. */
  async add(rule: RuleSpec, opts?: CallOptions): Promise<void> {
    const e = this.encode(rule, 'rules.add', false, opts)
    await this.ctx.sock.request(
      {
        type: RTM_NEWRULE,
        flags: NLM_F_CREATE | NLM_F_EXCL,
        operation: 'rules.add',
        object: describe(rule),
        body: (w) => writeRule(w, e),
      },
      opts,
    )
  }

  /**
   * `ip rule del ...`: removes the first rule that matches every field given (the kernel treats
   * absent fields as wildcards), so a Rule from list(), which carries its priority, removes that rule.
   * As with ip, an action not given matches any (`{ priority: 300 }` removes an unreachable rule
   * too), and a rule without any field is refused rather than removing the first rule there is.
   */
  async delete(rule: RuleSpec, opts?: CallOptions): Promise<void> {
    const e = this.encode(rule, 'rules.delete', true, opts)
    await this.ctx.sock.request(
      {
        type: RTM_DELRULE,
        operation: 'rules.delete',
        object: describe(rule),
        body: (w) => writeRule(w, e),
      },
      opts,
    )
  }

  /** Validates everything and builds the message parts before anything is sent. */
  private encode(input: RuleSpec, operation: string, forDelete: boolean, opts: CallOptions | undefined): Encoded {
    const ctx: { operation: string; namespace: string | undefined; object?: string } = { operation, namespace: this.ctx.namespace }
    const c: SpecCheck = new SpecCheck(ctx)
    const spec = c.object(input, 'rule') as RuleSpec & Record<string, unknown>
    ctx.object = describe(spec)
    c.only(spec, SPEC_KEYS, 'rule', STATE_KEYS)
    c.options(opts)
    if (forDelete && ![...SPEC_KEYS].some((k) => k !== 'family' && spec[k] !== undefined)) {
      c.fail('a rule to delete needs at least one field to match', '`ip rule del` refuses to run without arguments too; give the priority')
    }
    const e: Encoded = { af: 0, tos: 0, table: 0, action: 0, flags: 0, u32: [], u8: [], str: [], pairs: [] }

    let family = familyNumber(spec.family, (m) => c.fail(m))
    const prefix = (what: 'from' | 'to', text: unknown, addr: unknown, len: unknown) => {
      let t = text
      if (t === undefined && addr !== undefined) t = len === undefined ? addr : `${String(addr)}/${String(len)}`
      if (t === undefined || t === 'all') return undefined
      if (typeof t !== 'string') c.fail(`${what} must be a prefix string like 10.0.0.0/24, got ${show(t)}`)
      const p = parseCidr(t)
      if (!p) c.fail(`${what} "${t}" is not an IPv4 or IPv6 prefix`)
      if (family !== undefined && p.family !== family) c.fail(`${what} ${t} is not IPv${family}`, 'from, to and family must agree')
      family = p.family
      return { bytes: p.bytes, len: p.prefixLength }
    }
    e.src = prefix('from', spec.from, spec.src, spec.srclen)
    e.dst = prefix('to', spec.to, spec.dst, spec.dstlen)
    e.af = afOf(family ?? 4)

    if (spec.priority !== undefined) e.u32.push([FRA_PRIORITY, c.int(spec.priority, 'priority', 0, U32)])
    if (spec.not !== undefined && c.bool(spec.not, 'not')) e.flags |= FIB_RULE_INVERT
    if (spec.tos !== undefined) e.tos = c.int(spec.tos, 'tos', 0, 255)
    if (spec.fwmark !== undefined || spec.fwmask !== undefined) {
      e.u32.push([FRA_FWMARK, c.int(spec.fwmark, 'fwmark', 0, U32)])
      if (spec.fwmask !== undefined) e.u32.push([FRA_FWMASK, c.int(spec.fwmask, 'fwmask', 0, U32)])
    }
    if (spec.iif !== undefined) e.str.push([FRA_IIFNAME, c.linkName(spec.iif, 'iif')])
    if (spec.oif !== undefined) e.str.push([FRA_OIFNAME, c.linkName(spec.oif, 'oif')])
    if (spec.l3mdev !== undefined && c.bool(spec.l3mdev, 'l3mdev')) e.u8.push([FRA_L3MDEV, 1])
    if (spec.uidrange !== undefined) {
      const u = c.object(spec.uidrange, 'uidrange')
      const start = c.int(u.start, 'uidrange.start', 0, U32),
        end = c.int(u.end, 'uidrange.end', start, U32)
      const buf = Buffer.alloc(8)
      buf.writeUInt32LE(start, 0)
      buf.writeUInt32LE(end, 4)
      e.pairs.push([FRA_UID_RANGE, buf])
    }
    if (spec.ipproto !== undefined) e.u8.push([FRA_IP_PROTO, c.int(spec.ipproto, 'ipproto', 1, 255)])
    for (const [name, type] of [
      ['sport', FRA_SPORT_RANGE],
      ['dport', FRA_DPORT_RANGE],
    ] as const) {
      const v = spec[name]
      if (v === undefined) continue
      const r = typeof v === 'number' ? { start: v, end: v } : c.object(v, name)
      const start = c.int(r.start, `${name}.start`, 0, 0xffff),
        end = c.int(r.end, `${name}.end`, start, 0xffff)
      const buf = Buffer.alloc(4)
      buf.writeUInt16LE(start, 0)
      buf.writeUInt16LE(end, 2)
      e.pairs.push([type, buf])
    }

    // As ip: add defaults to lookup; delete leaves the action unspecified, which matches any.
    const actionName = spec.action ?? (forDelete ? undefined : 'lookup')
    if (actionName !== undefined) e.action = c.oneOf(actionName, 'action', ACTION_NUMBER)
    let table: number | undefined
    if (spec.table !== undefined) table = c.named(tables, spec.table, 'table')
    else if (e.action === ACTION_NUMBER.lookup && !forDelete) table = RT_TABLE_MAIN // as `ip rule add` does
    if (table !== undefined && table !== 0) {
      if (table < 256) e.table = table
      else e.u32.push([FRA_TABLE, table]) // fib_rule_hdr.table is one byte
    }
    if (spec.goto !== undefined || (e.action === ACTION_NUMBER.goto && !forDelete)) {
      if (e.action !== ACTION_NUMBER.goto) c.fail('goto is only valid with action "goto"')
      e.u32.push([FRA_GOTO, c.int(spec.goto, 'goto (the priority of the target rule)', 0, U32)])
    }
    for (const [name, type] of [
      ['suppress_prefixlen', FRA_SUPPRESS_PREFIXLEN],
      ['suppress_ifgroup', FRA_SUPPRESS_IFGROUP],
      ['realms', FRA_FLOW],
    ] as const) {
      const v = spec[name]
      if (v !== undefined) e.u32.push([type, c.int(v, name, 0, U32)])
    }
    if (spec.protocol !== undefined) e.u8.push([FRA_PROTOCOL, c.named(protocols, spec.protocol, 'protocol')])
    return e
  }
}

function writeRule(w: Writer, e: Encoded): void {
  w.u8(e.af)
    .u8(e.dst?.len ?? 0)
    .u8(e.src?.len ?? 0)
    .u8(e.tos)
  w.u8(e.table).u8(0).u8(0).u8(e.action)
  w.u32(e.flags)
  if (e.src) w.attrBytes(FRA_SRC, e.src.bytes)
  if (e.dst) w.attrBytes(FRA_DST, e.dst.bytes)
  for (const [t, v] of e.u32) w.attrU32(t, v)
  for (const [t, v] of e.u8) w.attrU8(t, v)
  for (const [t, v] of e.str) w.attrStr(t, v)
  for (const [t, v] of e.pairs) w.attrBytes(t, v)
}
