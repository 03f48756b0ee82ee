// Rule statements shaped like `nft -j list ruleset`'s "expr" array, and their translation
// to and from the VM expressions of expressions.ts, the way nft 1.0.6 does it: one load into
// register 1 and a compare per match; byte-aligned prefixes as a shorter load, others with a
// bitwise mask; the implicit `meta nfproto` (inet) and `meta l4proto` (tcp/udp) checks
// added before a payload match and hidden again when listing. What we cannot read back as a
// statement stays a `{ raw: {...} }` statement that encodes to the same bytes.
import { formatIPv4, formatIPv6, parseCidr, parseIP } from '../netlink/codec.js'
import { NsnetError } from '../netlink/errors.js'
import { NF_ACCEPT, NF_DROP, NFPROTO_IPV4, NFPROTO_IPV6, NFT_BREAK, NFT_CONTINUE, NFT_GOTO, NFT_JUMP, NFT_NAME_MAX_BYTES, NFT_RETURN } from './constants.js'
import { type Expr, exprData, type RawExpr } from './expressions.js'

export type TableFamily = 'ip' | 'ip6' | 'inet' | 'arp' | 'bridge' | 'netdev'
export type MatchOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in'
export type MetaKey = 'iifname' | 'oifname' | 'nfproto' | 'l4proto' | 'mark'
export type PayloadField =
  | { readonly protocol: 'ip' | 'ip6'; readonly field: 'saddr' | 'daddr' }
  | { readonly protocol: 'tcp' | 'udp'; readonly field: 'sport' | 'dport' }
export type Left =
  | { readonly meta: { readonly key: MetaKey } }
  | { readonly payload: PayloadField }
  | { readonly ct: { readonly key: 'state' } }
  | { readonly numgen: { readonly mode: 'random' | 'inc'; readonly mod: number; readonly offset: number } }
export type Right =
  | string
  | number
  | readonly string[]
  | { readonly prefix: { readonly addr: string; readonly len: number } }
  | { readonly range: readonly [number, number] }
export type PortSpec = number | { readonly range: readonly [number, number] }
export interface NatSpec {
  /** Address family of `addr` ('ip' or 'ip6'); nft lists it in inet tables only. */
  readonly family?: 'ip' | 'ip6'
  readonly addr: string | { readonly range: readonly [string, string] }
  readonly port?: PortSpec
}
export type LimitPer = 'second' | 'minute' | 'hour' | 'day' | 'week'

export type Statement =
  | { readonly match: { readonly op: MatchOp; readonly left: Left; readonly right: Right } }
  | { readonly accept: null }
  | { readonly drop: null }
  | { readonly return: null }
  | { readonly continue: null }
  | { readonly jump: { readonly target: string } }
  | { readonly goto: { readonly target: string } }
  | { readonly counter: { readonly packets: number; readonly bytes: number } | null }
  | { readonly limit: { readonly rate: number; readonly per: LimitPer; readonly burst?: number; readonly inv?: boolean } }
  | { readonly masquerade: { readonly port?: PortSpec } | null }
  | { readonly snat: NatSpec }
  | { readonly dnat: NatSpec }
  /** An expression nsnet does not read as a statement: its name and NFTA_EXPR_DATA as hex. */
  | { readonly raw: { readonly name: string; readonly data: string } }

// Registers and expression numbers (<linux/netfilter/nf_tables.h>).
const REG_VERDICT = 0
const REG_1 = 1
const CMP_OPS: Record<Exclude<MatchOp, 'in'>, number> = { '==': 0, '!=': 1, '<': 2, '<=': 3, '>': 4, '>=': 5 }
const CMP_NAMES = ['==', '!=', '<', '<=', '>', '>='] as const
const META_KEYS: Record<MetaKey, number> = { mark: 3, iifname: 6, oifname: 7, nfproto: 15, l4proto: 16 }
const PAYLOAD_NETWORK = 1
const PAYLOAD_TRANSPORT = 2
const CT_STATE = 0
const NUMGEN_TYPES = { inc: 0, random: 1 } as const
const BYTEORDER_HTON = 1
const NAT_TYPES = { snat: 0, dnat: 1 } as const
const NF_NAT_RANGE_MAP_IPS = 1
const NF_NAT_RANGE_PROTO_SPECIFIED = 2
const IFNAMSIZ = 16
const LIMIT_UNITS: Record<LimitPer, number> = { second: 1, minute: 60, hour: 3600, day: 86400, week: 604800 }
const LIMIT_F_INV = 1
const CT_STATES: ReadonlyArray<readonly [string, number]> = [
  ['invalid', 1],
  ['established', 2],
  ['related', 4],
  ['new', 8],
  ['untracked', 64],
]
// /etc/protocols names nft prints for `meta l4proto`.
const L4PROTOS: Record<string, number> = {
  icmp: 1,
  igmp: 2,
  tcp: 6,
  udp: 17,
  gre: 47,
  esp: 50,
  ah: 51,
  'ipv6-icmp': 58,
  sctp: 132,
  udplite: 136,
}
const L4PROTO_ALIASES: Record<string, number> = { icmpv6: 58 }
const NFPROTOS: Record<string, number> = { ipv4: NFPROTO_IPV4, ipv6: NFPROTO_IPV6 }
const META_BY_NUMBER = new Map((Object.keys(META_KEYS) as MetaKey[]).map((k) => [META_KEYS[k], k]))
const FIELDS = {
  ip: { saddr: [12, 4], daddr: [16, 4] },
  ip6: { saddr: [8, 16], daddr: [24, 16] },
  tcp: { sport: [0, 2], dport: [2, 2] },
  udp: { sport: [0, 2], dport: [2, 2] },
} as const

/** Where a statement is, for errors: `rule inet nsnet forward` plus the statement number. */
export interface StatementContext {
  readonly operation: string
  readonly object: string
  readonly namespace?: string
}

function bad(ctx: StatementContext, i: number, summary: string): NsnetError {
  return new NsnetError(`statement ${i + 1}: ${summary}`, { code: 'EINVAL_ARGUMENT', operation: ctx.operation, object: ctx.object, namespace: ctx.namespace })
}

/** Checks a table, chain or jump-target name against the kernel's limit. */
export function checkName(name: unknown, what: string, ctx: Omit<StatementContext, 'object'> & { object?: string }): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new NsnetError(`${what} must be a non-empty string, got ${JSON.stringify(name)}`, { code: 'EINVAL_ARGUMENT', ...ctx })
  }
  const bytes = Buffer.byteLength(name)
  if (bytes > NFT_NAME_MAX_BYTES || name.includes('\0')) {
    throw new NsnetError(
      `${what} "${name.slice(0, 40)}${name.length > 40 ? '…' : ''}" is ${bytes} bytes${name.includes('\0') ? ' with a NUL' : ''}; the kernel allows at most ${NFT_NAME_MAX_BYTES}`,
      { code: 'EINVAL_ARGUMENT', ...ctx },
    )
  }
  return name
}

// ---------------------------------------------------------------- statements -> expressions

/** Translates statements into VM expressions; throws EINVAL_ARGUMENT naming the statement. */
export function linearize(family: TableFamily, stmts: readonly Statement[], ctx: StatementContext): Expr[] {
  if (!Array.isArray(stmts)) throw new NsnetError(`expr must be an array of statements, got ${JSON.stringify(stmts)}`, { code: 'EINVAL_ARGUMENT', ...ctx })
  const out: Expr[] = []
  stmts.forEach((s, i) => {
    if (s === null || typeof s !== 'object') throw bad(ctx, i, `expected a statement object, got ${JSON.stringify(s)}`)
    const keys = Object.keys(s)
    if (keys.length !== 1) throw bad(ctx, i, `a statement has exactly one key (match, accept, masquerade, ...), got ${JSON.stringify(keys)}`)
    const key = keys[0]!
    const body = (s as Record<string, unknown>)[key]
    const prev = i > 0 ? stmts[i - 1] : undefined
    switch (key) {
      case 'match':
        return linearizeMatch(family, body as MatchBody, prev, out, (m) => bad(ctx, i, m))
      case 'accept':
        return verdict(out, NF_ACCEPT)
      case 'drop':
        return verdict(out, NF_DROP)
      case 'return':
        return verdict(out, NFT_RETURN)
      case 'continue':
        return verdict(out, NFT_CONTINUE)
      case 'jump':
      case 'goto': {
        const target = (body as { target?: unknown } | null)?.target
        checkName(target, `${key} target`, { operation: ctx.operation, object: ctx.object, namespace: ctx.namespace })
        return verdict(out, key === 'jump' ? NFT_JUMP : NFT_GOTO, target as string)
      }
      case 'counter':
        out.push({ name: 'counter' })
        return
      case 'limit':
        return linearizeLimit(body, out, (m) => bad(ctx, i, m))
      case 'masquerade': {
        const port = (body as { port?: PortSpec } | null)?.port
        if (port === undefined) {
          out.push({ name: 'masq' })
          return
        }
        const [lo, hi] = portRange(port, (m) => bad(ctx, i, m))
        out.push(imm(1, be16(lo)), imm(2, be16(hi)))
        out.push({ name: 'masq', flags: NF_NAT_RANGE_PROTO_SPECIFIED, protoMin: 1, protoMax: 2 })
        return
      }
      case 'snat':
      case 'dnat':
        return linearizeNat(family, key, body as NatSpec, out, (m) => bad(ctx, i, m))
      case 'raw': {
        const r = body as { name?: unknown; data?: unknown }
        if (typeof r?.name !== 'string' || typeof r.data !== 'string' || !/^([0-9a-f]{2})*$/i.test(r.data)) {
          throw bad(ctx, i, 'raw needs { name, data } with data as hex')
        }
        out.push({ name: r.name, raw: Buffer.from(r.data, 'hex') })
        return
      }
      default:
        throw bad(ctx, i, `unknown statement "${key}"`)
    }
  })
  return out
}

interface MatchBody {
  op?: unknown
  left?: unknown
  right?: unknown
}

function verdict(out: Expr[], code: number, chain?: string): void {
  out.push({ name: 'immediate', dreg: REG_VERDICT, verdict: chain === undefined ? { code } : { code, chain } })
}

function imm(dreg: number, data: Buffer): Expr {
  return { name: 'immediate', dreg, data }
}

function be16(n: number): Buffer {
  const b = Buffer.alloc(2)
  b.writeUInt16BE(n)
  return b
}
function be32(n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n >>> 0)
  return b
}
function le32(n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32LE(n >>> 0)
  return b
}

function port(v: unknown, fail: (m: string) => NsnetError): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) throw fail(`port must be an integer in 1..65535, got ${JSON.stringify(v)}`)
  return v
}

function portRange(p: PortSpec, fail: (m: string) => NsnetError): [number, number] {
  if (typeof p === 'object' && p !== null && Array.isArray(p.range)) {
    const lo = port(p.range[0], fail),
      hi = port(p.range[1], fail)
    if (lo > hi) throw fail(`port range ${lo}-${hi} is backwards`)
    return [lo, hi]
  }
  const n = port(p, fail)
  return [n, n]
}

function isPayloadLeft(l: Left | undefined, protocol: string): boolean {
  return !!l && 'payload' in l && l.payload.protocol === protocol
}

function explicitMatch(s: Statement | undefined, key: MetaKey, value: number): boolean {
  if (!s || !('match' in s) || s.match.op !== '==' || !('meta' in s.match.left) || s.match.left.meta.key !== key) return false
  const r = s.match.right
  const table = key === 'nfproto' ? NFPROTOS : L4PROTOS
  return r === value || (typeof r === 'string' && (table[r] ?? L4PROTO_ALIASES[r]) === value)
}

function load(out: Expr[], left: Left): void {
  if ('meta' in left) out.push({ name: 'meta', key: META_KEYS[left.meta.key], dreg: REG_1 })
  else if ('ct' in left) out.push({ name: 'ct', key: CT_STATE, dreg: REG_1 })
  else if ('numgen' in left) {
    out.push({ name: 'numgen', dreg: REG_1, mod: left.numgen.mod, type: NUMGEN_TYPES[left.numgen.mode], offset: left.numgen.offset })
    out.push({ name: 'byteorder', sreg: REG_1, dreg: REG_1, op: BYTEORDER_HTON, len: 4, size: 4 })
  }
}

function cmp(out: Expr[], op: Exclude<MatchOp, 'in'>, data: Buffer): void {
  out.push({ name: 'cmp', sreg: REG_1, op: CMP_OPS[op], data })
}

function linearizeMatch(family: TableFamily, m: MatchBody, prev: Statement | undefined, out: Expr[], fail: (m: string) => NsnetError): void {
  if (!m || typeof m !== 'object') throw fail('match needs { op, left, right }')
  const op = m.op as MatchOp
  if (!(op in CMP_OPS) && op !== 'in') throw fail(`unknown match op ${JSON.stringify(m.op)}`)
  const left = m.left as Left
  const right = m.right as Right
  if (!left || typeof left !== 'object') throw fail('match needs a left side ({ meta }, { payload }, { ct } or { numgen })')
  if ('meta' in left) {
    const key = left.meta?.key
    if (!(key in META_KEYS)) throw fail(`unknown meta key ${JSON.stringify(key)} (known: ${Object.keys(META_KEYS).join(', ')})`)
    if (op === 'in') throw fail(`op "in" is for ct state; use "==" with meta ${key}`)
    load(out, left)
    cmp(out, op, metaValue(key, right, fail))
    return
  }
  if ('ct' in left) {
    if (left.ct?.key !== 'state') throw fail(`unknown ct key ${JSON.stringify(left.ct?.key)} (known: state)`)
    const bits = ctStateBits(right, fail)
    load(out, left)
    if (op === 'in') {
      out.push({ name: 'bitwise', sreg: REG_1, dreg: REG_1, len: 4, mask: le32(bits), xor: le32(0) })
      cmp(out, '!=', le32(0))
    } else {
      if (op !== '==' && op !== '!=') throw fail('ct state compares with "in", "==" or "!="')
      cmp(out, op, le32(bits))
    }
    return
  }
  if ('numgen' in left) {
    const n = left.numgen
    if (!n || !(n.mode in NUMGEN_TYPES)) throw fail('numgen needs mode "random" or "inc"')
    if (!Number.isInteger(n.mod) || n.mod < 1 || n.mod > 0xffffffff) throw fail(`numgen mod must be a positive integer, got ${JSON.stringify(n.mod)}`)
    if (!Number.isInteger(n.offset ?? 0) || (n.offset ?? 0) < 0) throw fail('numgen offset must be a non-negative integer')
    if (op === 'in' || typeof right !== 'number' || !Number.isInteger(right) || right < 0) throw fail('numgen compares with a non-negative integer')
    load(out, { numgen: { mode: n.mode, mod: n.mod, offset: n.offset ?? 0 } })
    cmp(out, op, be32(right))
    return
  }
  if (!('payload' in left)) throw fail('match left side must be { meta }, { payload }, { ct } or { numgen }')
  const { protocol, field } = left.payload ?? ({} as PayloadField)
  const spec = (FIELDS as Record<string, Record<string, readonly [number, number]>>)[protocol]?.[field]
  if (!spec) throw fail(`unknown payload ${JSON.stringify(protocol)} ${JSON.stringify(field)} (known: ip/ip6 saddr/daddr, tcp/udp sport/dport)`)
  if (op === 'in') throw fail('op "in" is for ct state')
  const [offset, len] = spec
  if (protocol === 'ip' || protocol === 'ip6') {
    const nfproto = protocol === 'ip' ? NFPROTO_IPV4 : NFPROTO_IPV6
    if ((family === 'ip' && protocol === 'ip6') || (family === 'ip6' && protocol === 'ip'))
      throw fail(`${protocol} ${field} cannot match in a table of family ${family}`)
    if (family !== 'ip' && family !== 'ip6' && family !== 'inet') throw fail(`payload matches are supported in ip, ip6 and inet tables, not ${family}`)
    if (family === 'inet' && !explicitMatch(prev, 'nfproto', nfproto)) {
      out.push({ name: 'meta', key: META_KEYS.nfproto, dreg: REG_1 })
      cmp(out, '==', Buffer.from([nfproto]))
    }
    const max = len * 8
    let text: string
    let plen = max
    if (typeof right === 'string') text = right
    else if (right && typeof right === 'object' && 'prefix' in right) {
      text = right.prefix.addr
      plen = right.prefix.len
    } else throw fail(`${protocol} ${field} compares with an address or { prefix: { addr, len } }, got ${JSON.stringify(right)}`)
    const c = parseCidr(`${text}/${plen}`)
    if (!c || c.family !== (protocol === 'ip' ? 4 : 6)) throw fail(`"${text}/${plen}" is not an ${protocol === 'ip' ? 'IPv4' : 'IPv6'} address or prefix`)
    if (plen === 0) throw fail(`${protocol} ${field} ${text}/0 matches every address; leave the match out`)
    const bytes = Buffer.from(c.bytes)
    for (let b = 0; b < bytes.length; b++) {
      const keep = Math.max(0, Math.min(8, plen - 8 * b))
      if ((bytes[b]! & ~((0xff << (8 - keep)) & 0xff)) !== 0)
        throw fail(`prefix ${text}/${plen} has host bits set (the network is ${networkText(c.bytes, plen)})`)
    }
    if (plen % 8 === 0) {
      // nft >= 0.9.8 compares only the prefix's bytes.
      out.push({ name: 'payload', dreg: REG_1, base: PAYLOAD_NETWORK, offset, len: plen / 8 })
      cmp(out, op, bytes.subarray(0, plen / 8))
    } else {
      if (op !== '==' && op !== '!=') throw fail('a prefix compares with "==" or "!="')

      const mask = Buffer.alloc(len)
      for (let b = 0; b < len; b++) mask[b] = (0xff << (8 - Math.max(0, Math.min(8, plen - 8 * b)))) & 0xff
      out.push({ name: 'payload', dreg: REG_1, base: PAYLOAD_NETWORK, offset, len })
      out.push({ name: 'bitwise', sreg: REG_1, dreg: REG_1, len, mask, xor: Buffer.alloc(len) })
      cmp(out, op, bytes)
    }
    return
  }
  const l4 = L4PROTOS[protocol]!
  if (!explicitMatch(prev, 'l4proto', l4)) {
    out.push({ name: 'meta', key: META_KEYS.l4proto, dreg: REG_1 })
    cmp(out, '==', Buffer.from([l4]))
  }
  out.push({ name: 'payload', dreg: REG_1, base: PAYLOAD_TRANSPORT, offset, len })
  if (right && typeof right === 'object' && 'range' in right) {
    if (op !== '==') throw fail('a port range compares with "=="')
    const [lo, hi] = portRange(right as PortSpec, fail)
    cmp(out, '>=', be16(lo))
    cmp(out, '<=', be16(hi))
    return
  }
  cmp(out, op, be16(port(right, fail)))
}

function networkText(bytes: Uint8Array, plen: number): string {
  const b = Buffer.from(bytes)
  for (let i = 0; i < b.length; i++) b[i]! &= (0xff << (8 - Math.max(0, Math.min(8, plen - 8 * i)))) & 0xff
  return `${b.length === 4 ? formatIPv4(b, 0) : formatIPv6(b, 0)}/${plen}`
}

function metaValue(key: MetaKey, right: Right, fail: (m: string) => NsnetError): Buffer {
  switch (key) {
    case 'iifname':
    case 'oifname': {
      if (typeof right !== 'string' || right.length === 0) throw fail(`${key} compares with an interface name, got ${JSON.stringify(right)}`)
      const wildcard = right.endsWith('*') && !right.endsWith('\\*')
      const name = wildcard ? right.slice(0, -1) : right
      const n = Buffer.byteLength(name)
      if (n >= IFNAMSIZ || /[\s/:]/.test(name)) throw fail(`"${right}" is not an interface name (at most ${IFNAMSIZ - 1} bytes, no whitespace, / or :)`)
      const b = Buffer.alloc(wildcard ? n : IFNAMSIZ)
      b.write(name)
      return b
    }
    case 'nfproto': {
      const v = typeof right === 'string' ? NFPROTOS[right] : right
      if (v !== NFPROTO_IPV4 && v !== NFPROTO_IPV6) throw fail(`meta nfproto is "ipv4" or "ipv6", got ${JSON.stringify(right)}`)
      return Buffer.from([v])
    }
    case 'l4proto': {
      const v = typeof right === 'string' ? (L4PROTOS[right] ?? L4PROTO_ALIASES[right]) : right
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 255)
        throw fail(`meta l4proto is a protocol name (tcp, udp, icmp, ...) or 0..255, got ${JSON.stringify(right)}`)
      return Buffer.from([v])
    }
    case 'mark': {
      if (typeof right !== 'number' || !Number.isInteger(right) || right < 0 || right > 0xffffffff)
        throw fail(`meta mark is a 32-bit integer, got ${JSON.stringify(right)}`)
      return le32(right)
    }
  }
}

function ctStateBits(right: Right, fail: (m: string) => NsnetError): number {
  const names = typeof right === 'string' ? [right] : Array.isArray(right) ? right : undefined
  if (!names?.length) throw fail(`ct state compares with a state name or a list of them (${CT_STATES.map(([n]) => n).join(', ')})`)
  let bits = 0
  for (const n of names) {
    const e = CT_STATES.find(([name]) => name === n)
    if (!e) throw fail(`unknown ct state ${JSON.stringify(n)} (known: ${CT_STATES.map(([x]) => x).join(', ')})`)
    bits |= e[1]
  }
  return bits
}

function linearizeLimit(body: unknown, out: Expr[], fail: (m: string) => NsnetError): void {
  const l = body as { rate?: unknown; per?: unknown; burst?: unknown; inv?: unknown } | null
  if (!l || typeof l.rate !== 'number' || !Number.isInteger(l.rate) || l.rate < 1) throw fail('limit needs a positive integer rate')
  const per = (l.per ?? 'second') as LimitPer
  if (!(per in LIMIT_UNITS)) throw fail(`limit per must be one of ${Object.keys(LIMIT_UNITS).join(', ')}, got ${JSON.stringify(l.per)}`)
  const burst = l.burst ?? 5 // nft's default for packet limits
  if (typeof burst !== 'number' || !Number.isInteger(burst) || burst < 0) throw fail('limit burst must be a non-negative integer')
  out.push({ name: 'limit', rate: BigInt(l.rate), unit: BigInt(LIMIT_UNITS[per]), burst, type: 0, flags: l.inv ? LIMIT_F_INV : 0 })
}

function linearizeNat(family: TableFamily, kind: 'snat' | 'dnat', spec: NatSpec, out: Expr[], fail: (m: string) => NsnetError): void {
  if (!spec || typeof spec !== 'object') throw fail(`${kind} needs { addr, port? }`)
  const [loText, hiText] =
    typeof spec.addr === 'string'
      ? [spec.addr, undefined]
      : spec.addr && Array.isArray(spec.addr.range)
        ? [spec.addr.range[0], spec.addr.range[1]]
        : [undefined, undefined]
  const lo = typeof loText === 'string' ? parseIP(loText) : undefined
  if (!lo) throw fail(`${kind} addr must be an address or { range: [from, to] }, got ${JSON.stringify(spec.addr)}`)
  const hi = hiText === undefined ? undefined : parseIP(hiText)
  if (hiText !== undefined && (!hi || hi.family !== lo.family))
    throw fail(`${kind} address range end ${JSON.stringify(hiText)} is not an address of the same family`)
  if (hi && Buffer.compare(Buffer.from(lo.bytes), Buffer.from(hi.bytes)) > 0) throw fail(`${kind} address range ${loText}-${hiText} is backwards`)
  const fam = lo.family === 4 ? 'ip' : 'ip6'
  if (spec.family !== undefined && spec.family !== fam) throw fail(`${kind} family ${spec.family} does not match address ${loText}`)
  if ((family === 'ip' && fam !== 'ip') || (family === 'ip6' && fam !== 'ip6')) throw fail(`${kind} to ${loText} in a table of family ${family}`)
  let reg = 1
  out.push(imm(reg, Buffer.from(lo.bytes)))
  const addrMin = reg++
  let addrMax: number | undefined
  if (hi) {
    out.push(imm(reg, Buffer.from(hi.bytes)))
    addrMax = reg++
  }
  let protoMin: number | undefined
  let protoMax: number | undefined
  if (spec.port !== undefined) {
    const [plo, phi] = portRange(spec.port, fail)
    out.push(imm(reg, be16(plo)))
    protoMin = reg++
    if (phi !== plo) {
      out.push(imm(reg, be16(phi)))
      protoMax = reg++
    }
  }
  out.push({
    name: 'nat',
    type: NAT_TYPES[kind],
    family: fam === 'ip' ? NFPROTO_IPV4 : NFPROTO_IPV6,
    addrMin,
    addrMax,
    protoMin,
    protoMax,
    flags: protoMin !== undefined ? NF_NAT_RANGE_PROTO_SPECIFIED : undefined,
  })
}

// ---------------------------------------------------------------- expressions -> statements

/** FIELDS flattened for the decoder: [protocol, field, base, offset, len]. */
const FIELD_LIST: ReadonlyArray<readonly [string, string, number, number, number]> = Object.entries(FIELDS).flatMap(([protocol, fields]) =>
  Object.entries(fields).map(
    ([field, [offset, len]]) => [protocol, field, protocol === 'ip' || protocol === 'ip6' ? PAYLOAD_NETWORK : PAYLOAD_TRANSPORT, offset, len] as const,
  ),
)

/** Reads VM expressions back as statements, as `nft -j list ruleset` shows them. */
export function delinearize(family: TableFamily, exprs: readonly Expr[]): Statement[] {
  const out: Statement[] = []
  let i = 0
  while (i < exprs.length) {
    const n = readOne(family, exprs, i, out)
    if (n > 0) {
      i += n
      continue
    }
    const e = exprs[i]!
    out.push({ raw: { name: e.name, data: rawHex(e) } })
    i++
  }
  return hideDependencies(family, out)
}

/** NFTA_EXPR_DATA of an expression as hex (for a raw statement). */
function rawHex(e: Expr): string {
  // A modelled expression that fits no statement here is re-encoded to get its bytes.
  return ('raw' in e ? e.raw : exprData(e)).toString('hex')
}

/** Consumes the expressions of one statement starting at i; returns how many, 0 if none fits. */
function readOne(family: TableFamily, x: readonly Expr[], i: number, out: Statement[]): number {
  const e = x[i]!
  if ('raw' in e) return 0
  switch (e.name) {
    case 'immediate':
      if ('verdict' in e && e.verdict && e.dreg === REG_VERDICT) {
        const v = verdictStatement(e.verdict.code, e.verdict.chain)
        if (!v) return 0
        out.push(v)
        return 1
      }
      return readNat(family, x, i, out)
    case 'counter':
      out.push({ counter: { packets: Number(e.packets ?? 0n), bytes: Number(e.bytes ?? 0n) } })
      return 1
    case 'limit': {
      const per = (Object.keys(LIMIT_UNITS) as LimitPer[]).find((p) => BigInt(LIMIT_UNITS[p]) === e.unit)
      if (!per || e.type !== 0 || (e.flags & ~LIMIT_F_INV) !== 0 || e.rate > BigInt(Number.MAX_SAFE_INTEGER)) return 0
      out.push({ limit: { rate: Number(e.rate), burst: e.burst, per, ...(e.flags & LIMIT_F_INV ? { inv: true } : {}) } })
      return 1
    }
    case 'masq':
      if (e.protoMin === undefined && e.protoMax === undefined && !e.flags) {
        out.push({ masquerade: null })
        return 1
      }
      return 0
    case 'meta':
    case 'ct':
    case 'payload':
    case 'numgen':
      return readMatch(family, x, i, out)
    default:
      return 0
  }
}

function verdictStatement(code: number, chain: string | undefined): Statement | undefined {
  switch (code) {
    case NF_ACCEPT:
      return { accept: null }
    case NF_DROP:
      return { drop: null }
    case NFT_RETURN:
      return { return: null }
    case NFT_CONTINUE:
      return { continue: null }
    case NFT_JUMP:
      return chain === undefined ? undefined : { jump: { target: chain } }
    case NFT_GOTO:
      return chain === undefined ? undefined : { goto: { target: chain } }
    case NFT_BREAK:
      return undefined
    default:
      return undefined
  }
}

type Known = Exclude<Expr, RawExpr>
/** The expression if it is a modelled one called `name`. */
function as<N extends Known['name']>(e: Expr | undefined, name: N): Extract<Known, { name: N }> | undefined {
  return e && !('raw' in e) && e.name === name ? (e as Extract<Known, { name: N }>) : undefined
}
const isCmp1 = (e: Expr | undefined): e is Extract<Known, { name: 'cmp' }> => as(e, 'cmp')?.sreg === REG_1

function readMatch(family: TableFamily, x: readonly Expr[], i: number, out: Statement[]): number {
  const e = x[i]!
  if ('raw' in e || !('dreg' in e) || e.dreg !== REG_1) return 0
  if (e.name === 'meta') {
    const key = META_BY_NUMBER.get(e.key)
    const c = x[i + 1]
    if (!key || !isCmp1(c)) return 0
    const right = metaRight(key, c.data)
    if (right === undefined) return 0
    out.push({ match: { op: CMP_NAMES[c.op]!, left: { meta: { key } }, right } })
    return 2
  }
  if (e.name === 'ct') {
    if (e.key !== CT_STATE) return 0
    const b = as(x[i + 1], 'bitwise') ?? x[i + 1],
      c = x[i + 2]
    if (
      b &&
      !('raw' in b) &&
      b.name === 'bitwise' &&
      b.sreg === REG_1 &&
      b.dreg === REG_1 &&
      b.len === 4 &&
      isZero(b.xor) &&
      isCmp1(c) &&
      c.op === CMP_OPS['!='] &&
      isZero(c.data)
    ) {
      const names = ctStateNames(b.mask.readUInt32LE(0))
      if (!names) return 0
      out.push({ match: { op: 'in', left: { ct: { key: 'state' } }, right: names.length === 1 ? names[0]! : names } })
      return 3
    }
    if (isCmp1(b) && (b.op === 0 || b.op === 1) && b.data.length === 4) {
      const names = ctStateNames(b.data.readUInt32LE(0))
      if (!names) return 0
      out.push({ match: { op: CMP_NAMES[b.op]!, left: { ct: { key: 'state' } }, right: names.length === 1 ? names[0]! : names } })
      return 2
    }
    return 0
  }
  if (e.name === 'numgen') {
    const b = x[i + 1],
      c = x[i + 2]
    const mode = e.type === NUMGEN_TYPES.random ? 'random' : e.type === NUMGEN_TYPES.inc ? 'inc' : undefined
    if (
      !mode ||
      !b ||
      'raw' in b ||
      b.name !== 'byteorder' ||
      b.op !== BYTEORDER_HTON ||
      b.len !== 4 ||
      b.size !== 4 ||
      b.sreg !== REG_1 ||
      b.dreg !== REG_1 ||
      !isCmp1(c) ||
      c.data.length !== 4
    )
      return 0
    out.push({ match: { op: CMP_NAMES[c.op]!, left: { numgen: { mode, mod: e.mod, offset: e.offset } }, right: c.data.readUInt32BE(0) } })
    return 3
  }
  if (e.name !== 'payload') return 0
  for (const [protocol, field, base, offset, len] of FIELD_LIST) {
    {
      if (e.base !== base || e.offset !== offset) continue
      const left = { payload: { protocol, field } as PayloadField }
      // Addresses: a full load (maybe masked) or a byte-aligned prefix load.
      if (base === PAYLOAD_NETWORK) {
        // The field offsets differ (ip +12/+16, ip6 +8/+24); the table family rules out the other header.
        if ((family === 'ip' && protocol === 'ip6') || (family === 'ip6' && protocol === 'ip')) continue
        const c = x[i + 1]
        const b = as(c, 'bitwise')
        const cm = b ? x[i + 2] : c
        if (!isCmp1(cm) || (cm.op !== 0 && cm.op !== 1)) return 0
        let plen: number
        if (b) {
          if (e.len !== len || b.len !== len || !isZero(b.xor) || b.sreg !== REG_1 || b.dreg !== REG_1) return 0
          const p = maskPrefix(b.mask)
          if (p === undefined) return 0
          plen = p
        } else {
          plen = e.len * 8
          if (e.len > len) return 0
        }
        if (cm.data.length !== (b ? len : e.len)) return 0
        const full = Buffer.alloc(len)
        cm.data.copy(full)
        const addr = len === 4 ? formatIPv4(full, 0) : formatIPv6(full, 0)
        const right: Right = plen === len * 8 ? addr : { prefix: { addr, len: plen } }
        out.push({ match: { op: CMP_NAMES[cm.op]!, left, right } })
        return b ? 3 : 2
      }
      if (e.len !== len) continue
      // tcp and udp share their offsets: the `meta l4proto` before it says which (nft prints
      // `th dport` without one; we keep that raw).
      const dep = out[out.length - 1]
      if (!dep || !explicitMatch(dep, 'l4proto', L4PROTOS[protocol]!)) continue
      const c = x[i + 1],
        d = x[i + 2]
      if (!isCmp1(c) || c.data.length !== 2) return 0
      if (c.op === CMP_OPS['>='] && isCmp1(d) && d.op === CMP_OPS['<='] && d.data.length === 2) {
        out.push({ match: { op: '==', left, right: { range: [c.data.readUInt16BE(0), d.data.readUInt16BE(0)] } } })
        return 3
      }
      out.push({ match: { op: CMP_NAMES[c.op]!, left, right: c.data.readUInt16BE(0) } })
      return 2
    }
  }
  return 0
}

function isZero(b: Buffer): boolean {
  for (const v of b) if (v !== 0) return false
  return true
}

function maskPrefix(m: Buffer): number | undefined {
  let n = 0
  let ended = false
  for (const byte of m) {
    for (let bit = 7; bit >= 0; bit--) {
      const on = (byte >> bit) & 1
      if (on && ended) return undefined
      if (on) n++
      else ended = true
    }
  }
  return n
}

function ctStateNames(bits: number): string[] | undefined {
  const names: string[] = []
  for (const [name, bit] of CT_STATES)
    if (bits & bit) {
      names.push(name)
      bits &= ~bit
    }
  return bits === 0 && names.length ? names : undefined
}

function metaRight(key: MetaKey, d: Buffer): Right | undefined {
  switch (key) {
    case 'iifname':
    case 'oifname': {
      if (d.length === IFNAMSIZ) {
        const end = d.indexOf(0)
        return end > 0 ? d.toString('utf8', 0, end) : undefined
      }
      return d.length > 0 && d.length < IFNAMSIZ && !d.includes(0) ? `${d.toString('utf8')}*` : undefined
    }
    case 'nfproto': {
      if (d.length !== 1) return undefined
      return d[0] === NFPROTO_IPV4 ? 'ipv4' : d[0] === NFPROTO_IPV6 ? 'ipv6' : d[0]
    }
    case 'l4proto': {
      if (d.length !== 1) return undefined
      return Object.entries(L4PROTOS).find(([, v]) => v === d[0])?.[0] ?? d[0]
    }
    case 'mark':
      return d.length === 4 ? d.readUInt32LE(0) : undefined
  }
}

function readNat(family: TableFamily, x: readonly Expr[], i: number, out: Statement[]): number {
  // Immediates into registers 1.., then nat or masq reading them.
  const regs = new Map<number, Buffer>()
  let j = i
  while (j < x.length) {
    const e = as(x[j], 'immediate')
    if (!e || !('data' in e) || !e.data || e.dreg === REG_VERDICT) break
    regs.set(e.dreg, e.data)
    j++
  }
  const t = x[j]
  if (!t || 'raw' in t || regs.size === 0) return 0
  const used = new Set<number>()
  const reg = (r: number | undefined): Buffer | undefined => {
    if (r === undefined) return undefined
    used.add(r)
    return regs.get(r)
  }
  const portOf = (min: number | undefined, maxReg: number | undefined): PortSpec | undefined | null => {
    // The kernel lists max = min for a single port.
    const max = maxReg === min ? undefined : maxReg
    const a = reg(min),
      b = reg(max)
    if (min === undefined) return max === undefined ? undefined : null
    if (a?.length !== 2 || (max !== undefined && b?.length !== 2)) return null
    const lo = a.readUInt16BE(0)
    return b ? { range: [lo, b.readUInt16BE(0)] } : lo
  }
  let stmt: Statement | undefined
  if (t.name === 'masq') {
    if (((t.flags ?? 0) & ~NF_NAT_RANGE_MAP_IPS) !== NF_NAT_RANGE_PROTO_SPECIFIED) return 0
    const port = portOf(t.protoMin, t.protoMax)
    if (!port) return 0
    stmt = { masquerade: { port } }
  } else if (t.name === 'nat') {
    const kind = t.type === NAT_TYPES.snat ? 'snat' : t.type === NAT_TYPES.dnat ? 'dnat' : undefined
    const alen = t.family === NFPROTO_IPV4 ? 4 : t.family === NFPROTO_IPV6 ? 16 : 0
    // The kernel lists max = min (and the MAP_IPS flag) for a single address.
    const maxReg = t.addrMax === t.addrMin ? undefined : t.addrMax
    const lo = reg(t.addrMin),
      hi = reg(maxReg)
    if (!kind || !alen || !lo || lo.length !== alen || (maxReg !== undefined && (!hi || hi.length !== alen))) return 0
    const fmt = (b: Buffer) => (alen === 4 ? formatIPv4(b, 0) : formatIPv6(b, 0))
    const port = portOf(t.protoMin, t.protoMax)
    if (port === null) return 0
    const wantFlags = port === undefined ? undefined : NF_NAT_RANGE_PROTO_SPECIFIED
    if (((t.flags ?? 0) & ~NF_NAT_RANGE_MAP_IPS) !== (wantFlags ?? 0)) return 0
    const spec: NatSpec = {
      ...(family === 'inet' ? { family: alen === 4 ? ('ip' as const) : ('ip6' as const) } : {}),
      addr: hi ? { range: [fmt(lo), fmt(hi)] } : fmt(lo),
      ...(port === undefined ? {} : { port }),
    }
    stmt = kind === 'snat' ? { snat: spec } : { dnat: spec }
  } else {
    return 0
  }
  if (used.size !== regs.size || [...regs.keys()].some((r) => !used.has(r))) return 0
  out.push(stmt)
  return j - i + 1
}

function hideDependencies(family: TableFamily, s: Statement[]): Statement[] {
  const out: Statement[] = []
  for (let k = 0; k < s.length; k++) {
    const next = s[k + 1]
    const nextLeft = next && 'match' in next ? next.match.left : undefined
    if (
      family === 'inet' &&
      ((explicitMatch(s[k], 'nfproto', NFPROTO_IPV4) && isPayloadLeft(nextLeft, 'ip')) ||
        (explicitMatch(s[k], 'nfproto', NFPROTO_IPV6) && isPayloadLeft(nextLeft, 'ip6')))
    )
      continue
    if (explicitMatch(s[k], 'l4proto', 6) && isPayloadLeft(nextLeft, 'tcp')) continue
    if (explicitMatch(s[k], 'l4proto', 17) && isPayloadLeft(nextLeft, 'udp')) continue
    out.push(s[k]!)
  }
  return out
}
