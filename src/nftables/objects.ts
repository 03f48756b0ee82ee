// Tables, chains and rules: their nft -j shapes and their nf_tables messages, both ways.
// Attribute order follows nft 1.0.6 so that our bytes equal nft's (checked by the vectors).
import { Attrs, type RawMessage, type Writer } from '../netlink/codec.js'
import { NsnetError } from '../netlink/errors.js'
import {
  CHAIN_TYPES,
  type ChainType,
  HOOKS,
  type Hook,
  NF_ACCEPT,
  NF_DROP,
  NFGENMSG_LEN,
  NFNETLINK_V0,
  NFPROTO_ARP,
  NFPROTO_BRIDGE,
  NFPROTO_INET,
  NFPROTO_IPV4,
  NFPROTO_IPV6,
  NFPROTO_NETDEV,
  NFTA_CHAIN_HANDLE,
  NFTA_CHAIN_HOOK,
  NFTA_CHAIN_MAX,
  NFTA_CHAIN_NAME,
  NFTA_CHAIN_POLICY,
  NFTA_CHAIN_TABLE,
  NFTA_CHAIN_TYPE,
  NFTA_HOOK_HOOKNUM,
  NFTA_HOOK_MAX,
  NFTA_HOOK_PRIORITY,
  NFTA_RULE_CHAIN,
  NFTA_RULE_EXPRESSIONS,
  NFTA_RULE_HANDLE,
  NFTA_RULE_MAX,
  NFTA_RULE_POSITION,
  NFTA_RULE_TABLE,
  NFTA_RULE_USERDATA,
  NFTA_TABLE_FLAGS,
  NFTA_TABLE_HANDLE,
  NFTA_TABLE_MAX,
  NFTA_TABLE_NAME,
} from './constants.js'
import { decodeExprs, encodeExpr } from './expressions.js'
import { checkName, delinearize, linearize, type Statement, type TableFamily } from './statements.js'

export interface Table {
  readonly family: TableFamily
  readonly name: string
  /** Set by the kernel; ignored when adding. */
  readonly handle?: number
}

export interface Chain {
  readonly family: TableFamily
  readonly table: string
  readonly name: string
  readonly handle?: number
  /** Base chains only: all four of type, hook, prio and policy. */
  readonly type?: ChainType
  readonly hook?: Hook
  /** A number, or on input one of nft's names (filter, srcnat, dstnat, mangle, raw, security). */
  readonly prio?: number | ChainPriorityName
  readonly policy?: 'accept' | 'drop'
}

export type ChainPriorityName = keyof typeof PRIORITIES

export interface Rule {
  readonly family: TableFamily
  readonly table: string
  readonly chain: string
  readonly handle?: number
  readonly expr: readonly Statement[]
  readonly comment?: string
}

const FAMILIES: Record<TableFamily, number> = {
  ip: NFPROTO_IPV4,
  ip6: NFPROTO_IPV6,
  inet: NFPROTO_INET,
  arp: NFPROTO_ARP,
  bridge: NFPROTO_BRIDGE,
  netdev: NFPROTO_NETDEV,
}
const PRIORITIES = { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100 } as const
const UDATA_RULE_COMMENT = 0
const COMMENT_MAX_BYTES = 128

export interface Where {
  readonly operation: string
  readonly namespace?: string
}

function fail(summary: string, where: Where, object?: string): NsnetError {
  return new NsnetError(summary, { code: 'EINVAL_ARGUMENT', operation: where.operation, object, namespace: where.namespace })
}

export function familyNumber(family: unknown, where: Where, object?: string): number {
  const n = typeof family === 'string' ? FAMILIES[family as TableFamily] : undefined
  if (n === undefined) throw fail(`unknown family ${JSON.stringify(family)} (one of ${Object.keys(FAMILIES).join(', ')})`, where, object)
  return n
}

export function familyName(n: number): TableFamily | undefined {
  return (Object.keys(FAMILIES) as TableFamily[]).find((f) => FAMILIES[f] === n)
}

/** The nfgenmsg every nf_tables message starts with. */
export function nfgen(w: Writer, family: number, resId = 0): void {
  w.u8(family).u8(NFNETLINK_V0).u16be(resId)
}

export const tableObject = (t: { family: string; name: string }) => `table ${t.family} ${t.name}`
export const chainObject = (c: { family: string; table: string; name: string }) => `chain ${c.family} ${c.table} ${c.name}`
export const ruleObject = (r: { family: string; table: string; chain: string; handle?: number }) =>
  `rule ${r.family} ${r.table} ${r.chain}${r.handle === undefined ? '' : ` handle ${r.handle}`}`

/** Checks a table reference and returns its family number and a body writer for its name. */
export function tableBody(t: Pick<Table, 'family' | 'name'>, where: Where, withFlags: boolean): (w: Writer) => void {
  if (!t || typeof t !== 'object') throw fail(`expected a table { family, name }, got ${JSON.stringify(t)}`, where)
  const family = familyNumber(t.family, where, `table ${t.family} ${t.name}`)
  const name = checkName(t.name, 'table name', { ...where, object: `table ${t.family}` })
  return (w) => {
    nfgen(w, family)
    w.attrStr(NFTA_TABLE_NAME, name)
    if (withFlags) w.attrU32be(NFTA_TABLE_FLAGS, 0)
  }
}

/** NEWCHAIN/DELCHAIN body; `full` adds the base-chain attributes. */
export function chainBody(c: Chain, where: Where, full: boolean): (w: Writer) => void {
  if (!c || typeof c !== 'object') throw fail(`expected a chain { family, table, name }, got ${JSON.stringify(c)}`, where)
  const object = chainObject(c)
  const family = familyNumber(c.family, where, object)
  const table = checkName(c.table, 'table name', { ...where, object })
  const name = checkName(c.name, 'chain name', { ...where, object })
  const base = c.type !== undefined || c.hook !== undefined || c.prio !== undefined || c.policy !== undefined
  let hooknum = 0,
    prio = 0,
    policy = NF_ACCEPT
  if (full && base) {
    if (!CHAIN_TYPES.includes(c.type as ChainType))
      throw fail(`unknown chain type ${JSON.stringify(c.type)} (one of ${CHAIN_TYPES.join(', ')}); a base chain needs type, hook and prio`, where, object)
    hooknum = HOOKS.indexOf(c.hook as Hook)
    if (hooknum < 0) throw fail(`unknown hook ${JSON.stringify(c.hook)} (one of ${HOOKS.join(', ')})`, where, object)
    const p = typeof c.prio === 'string' ? PRIORITIES[c.prio as ChainPriorityName] : c.prio
    if (typeof p !== 'number' || !Number.isInteger(p) || p < -0x80000000 || p > 0x7fffffff) {
      throw fail(`chain prio must be a 32-bit integer or one of ${Object.keys(PRIORITIES).join(', ')}, got ${JSON.stringify(c.prio)}`, where, object)
    }
    prio = p
    if (c.policy !== undefined && c.policy !== 'accept' && c.policy !== 'drop')
      throw fail(`chain policy is "accept" or "drop", got ${JSON.stringify(c.policy)}`, where, object)
    policy = c.policy === 'drop' ? NF_DROP : NF_ACCEPT
    if (c.type === 'nat' && !['prerouting', 'input', 'output', 'postrouting'].includes(c.hook!)) throw fail(`a nat chain cannot hook ${c.hook}`, where, object)
  }
  return (w) => {
    nfgen(w, family)
    w.attrStr(NFTA_CHAIN_TABLE, table)
    w.attrStr(NFTA_CHAIN_NAME, name)
    if (!full || !base) return
    w.attrStr(NFTA_CHAIN_TYPE, c.type!)
    // Without a policy an existing chain keeps its own (a new one gets accept).
    if (c.policy !== undefined) w.attrU32be(NFTA_CHAIN_POLICY, policy)
    const hook = w.beginNested(NFTA_CHAIN_HOOK)
    w.attrU32be(NFTA_HOOK_HOOKNUM, hooknum)
    w.attrU32be(NFTA_HOOK_PRIORITY, prio >>> 0)
    w.endNested(hook)
  }
}

export interface RulePlacement {
  /** NFTA_RULE_HANDLE: the rule replaced or deleted. */
  readonly handle?: number
  /** NFTA_RULE_POSITION: add after / insert before this handle. */
  readonly position?: number
}

function handleValue(h: unknown, what: string, where: Where, object: string): number {
  if (typeof h !== 'number' || !Number.isSafeInteger(h) || h < 1) throw fail(`${what} must be a positive integer, got ${JSON.stringify(h)}`, where, object)
  return h
}

/** NEWRULE body: checks and translates everything before returning, so a bad rule fails before the batch. */
export function ruleBody(r: Rule, where: Where, place: RulePlacement = {}): (w: Writer) => void {
  if (!r || typeof r !== 'object') throw fail(`expected a rule { family, table, chain, expr }, got ${JSON.stringify(r)}`, where)
  const object = ruleObject(r)
  const family = familyNumber(r.family, where, object)
  const table = checkName(r.table, 'table name', { ...where, object })
  const chain = checkName(r.chain, 'chain name', { ...where, object })
  const exprs = linearize(r.family, r.expr, { operation: where.operation, object, namespace: where.namespace })
  if (exprs.length === 0) throw fail('a rule needs at least one statement', where, object)
  const handle = place.handle === undefined ? undefined : handleValue(place.handle, 'rule handle', where, object)
  const position = place.position === undefined ? undefined : handleValue(place.position, 'rule position', where, object)
  let udata: Buffer | undefined
  if (r.comment !== undefined) {
    if (typeof r.comment !== 'string' || Buffer.byteLength(r.comment) + 1 > COMMENT_MAX_BYTES)
      throw fail(`comment must be a string of at most ${COMMENT_MAX_BYTES - 1} bytes`, where, object)
    const text = Buffer.from(`${r.comment}\0`)
    udata = Buffer.concat([Buffer.from([UDATA_RULE_COMMENT, text.length]), text])
  }
  return (w) => {
    nfgen(w, family)
    w.attrStr(NFTA_RULE_TABLE, table)
    w.attrStr(NFTA_RULE_CHAIN, chain)
    if (handle !== undefined) attrU64be(w, NFTA_RULE_HANDLE, handle)
    if (position !== undefined) attrU64be(w, NFTA_RULE_POSITION, position)
    if (udata) w.attrBytes(NFTA_RULE_USERDATA, udata)
    const list = w.beginNested(NFTA_RULE_EXPRESSIONS)
    for (const e of exprs) encodeExpr(w, e)
    w.endNested(list)
  }
}

/** DELRULE body: table, chain and handle. */
export function ruleDeleteBody(r: Pick<Rule, 'family' | 'table' | 'chain' | 'handle'>, where: Where): (w: Writer) => void {
  if (!r || typeof r !== 'object') throw fail(`expected a rule { family, table, chain, handle }, got ${JSON.stringify(r)}`, where)
  const object = ruleObject(r)
  const family = familyNumber(r.family, where, object)
  const table = checkName(r.table, 'table name', { ...where, object })
  const chain = checkName(r.chain, 'chain name', { ...where, object })
  const handle = handleValue(r.handle, 'rule handle (from rules.list())', where, object)
  return (w) => {
    nfgen(w, family)
    w.attrStr(NFTA_RULE_TABLE, table)
    w.attrStr(NFTA_RULE_CHAIN, chain)
    attrU64be(w, NFTA_RULE_HANDLE, handle)
  }
}

function attrU64be(w: Writer, type: number, v: number): void {
  const b = Buffer.allocUnsafe(8)
  b.writeBigUInt64BE(BigInt(v))
  w.attrBytes(type, b)
}

// ---------------------------------------------------------------- decoding

function header(m: RawMessage): { family: TableFamily | undefined; attrsAt: number } {
  return { family: familyName(m.buf[m.start]!), attrsAt: m.start + NFGENMSG_LEN }
}

function u64be(a: Attrs, t: number): number | undefined {
  const b = a.bytes(t)
  return b && b.length === 8 ? Number(b.readBigUInt64BE(0)) : undefined
}

export function decodeTable(m: RawMessage): Table | undefined {
  const { family, attrsAt } = header(m)
  const a = new Attrs(m.buf, attrsAt, m.end, NFTA_TABLE_MAX)
  const name = a.str(NFTA_TABLE_NAME)
  if (!family || name === undefined) return undefined
  return { family, name, handle: u64be(a, NFTA_TABLE_HANDLE) }
}

export function decodeChain(m: RawMessage): Chain | undefined {
  const { family, attrsAt } = header(m)
  const a = new Attrs(m.buf, attrsAt, m.end, NFTA_CHAIN_MAX)
  const table = a.str(NFTA_CHAIN_TABLE),
    name = a.str(NFTA_CHAIN_NAME)
  if (!family || table === undefined || name === undefined) return undefined
  const c: Chain = { family, table, name, handle: u64be(a, NFTA_CHAIN_HANDLE) }
  const hook = a.nested(NFTA_CHAIN_HOOK, NFTA_HOOK_MAX)
  if (!hook) return c
  const num = hook.u32be(NFTA_HOOK_HOOKNUM)
  const prio = hook.u32be(NFTA_HOOK_PRIORITY)
  const policy = a.u32be(NFTA_CHAIN_POLICY)
  return {
    ...c,
    type: a.str(NFTA_CHAIN_TYPE) as ChainType | undefined,
    hook: num === undefined ? undefined : HOOKS[num],
    prio: prio === undefined ? undefined : prio | 0,
    policy: policy === undefined ? undefined : policy === NF_DROP ? 'drop' : 'accept',
  }
}

export function decodeRule(m: RawMessage): Rule | undefined {
  const { family, attrsAt } = header(m)
  const a = new Attrs(m.buf, attrsAt, m.end, NFTA_RULE_MAX)
  const table = a.str(NFTA_RULE_TABLE),
    chain = a.str(NFTA_RULE_CHAIN)
  if (!family || table === undefined || chain === undefined) return undefined
  const off = a.offset(NFTA_RULE_EXPRESSIONS)
  const exprs = off < 0 ? [] : decodeExprs(m.buf, off, off + a.length(NFTA_RULE_EXPRESSIONS))
  const r: Rule = { family, table, chain, handle: u64be(a, NFTA_RULE_HANDLE), expr: delinearize(family, exprs) }
  const comment = commentOf(a.bytes(NFTA_RULE_USERDATA))
  return comment === undefined ? r : { ...r, comment }
}

function commentOf(u: Buffer | undefined): string | undefined {
  if (!u) return undefined
  for (let o = 0; o + 2 <= u.length; o += 2 + u[o + 1]!) {
    if (u[o] === UDATA_RULE_COMMENT) {
      const s = u.subarray(o + 2, o + 2 + u[o + 1]!)
      const nul = s.indexOf(0)
      return s.toString('utf8', 0, nul < 0 ? s.length : nul)
    }
  }
  return undefined
}
