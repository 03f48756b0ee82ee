// The nf_tables virtual machine's expressions, one codec each: what travels inside
// NFTA_RULE_EXPRESSIONS as {NFTA_EXPR_NAME, NFTA_EXPR_DATA}. Attributes go in the order
// nft 1.0.6 (libnftnl) writes them, so our bytes equal nft's. An expression we cannot
// represent exactly (an unknown name, or attributes we do not model) is kept raw.
import { Attrs, decodeError, Writer } from '../netlink/codec.js'
import { NFTA_EXPR_DATA, NFTA_EXPR_NAME, NFTA_LIST_ELEM } from './constants.js'

/** Registers: 0 is the verdict, 1..4 the 16-byte ones, 8..23 the 4-byte ones. */
export type Register = number

export type Expr =
  | { readonly name: 'meta'; readonly key: number; readonly dreg: Register }
  | { readonly name: 'cmp'; readonly sreg: Register; readonly op: number; readonly data: Buffer }
  | { readonly name: 'payload'; readonly dreg: Register; readonly base: number; readonly offset: number; readonly len: number }
  | { readonly name: 'bitwise'; readonly sreg: Register; readonly dreg: Register; readonly len: number; readonly mask: Buffer; readonly xor: Buffer }
  | { readonly name: 'immediate'; readonly dreg: Register; readonly data?: Buffer; readonly verdict?: Verdict }
  | { readonly name: 'ct'; readonly key: number; readonly dreg: Register }
  | { readonly name: 'counter'; readonly bytes?: bigint; readonly packets?: bigint }
  | { readonly name: 'limit'; readonly rate: bigint; readonly unit: bigint; readonly burst: number; readonly type: number; readonly flags: number }
  | { readonly name: 'numgen'; readonly dreg: Register; readonly mod: number; readonly type: number; readonly offset: number }
  | { readonly name: 'byteorder'; readonly sreg: Register; readonly dreg: Register; readonly op: number; readonly len: number; readonly size: number }
  | { readonly name: 'masq'; readonly flags?: number; readonly protoMin?: Register; readonly protoMax?: Register }
  | {
      readonly name: 'nat'
      readonly type: number
      readonly family: number
      readonly addrMin?: Register
      readonly addrMax?: Register
      readonly protoMin?: Register
      readonly protoMax?: Register
      readonly flags?: number
    }
  | RawExpr

/** An expression kept as the kernel sent it: its name and NFTA_EXPR_DATA payload. */
export interface RawExpr {
  readonly name: string
  readonly raw: Buffer
}

export interface Verdict {
  readonly code: number
  readonly chain?: string
}

// Attribute numbers (<linux/netfilter/nf_tables.h>).
const META = { DREG: 1, KEY: 2, SREG: 3, MAX: 3 }
const CMP = { SREG: 1, OP: 2, DATA: 3, MAX: 3 }
const PAYLOAD = { DREG: 1, BASE: 2, OFFSET: 3, LEN: 4, MAX: 8 }
const BITWISE = { SREG: 1, DREG: 2, LEN: 3, MASK: 4, XOR: 5, OP: 6, DATA: 7, MAX: 7 }
const IMMEDIATE = { DREG: 1, DATA: 2, MAX: 2 }
const DATA = { VALUE: 1, VERDICT: 2, MAX: 2 }
const VERDICT = { CODE: 1, CHAIN: 2, MAX: 3 }
const CT = { DREG: 1, KEY: 2, DIRECTION: 3, SREG: 4, MAX: 4 }
const COUNTER = { BYTES: 1, PACKETS: 2, PAD: 3, MAX: 3 }
const LIMIT = { RATE: 1, UNIT: 2, BURST: 3, TYPE: 4, FLAGS: 5, PAD: 6, MAX: 6 }
const NG = { DREG: 1, MODULUS: 2, TYPE: 3, OFFSET: 4, MAX: 6 }
const BYTEORDER = { SREG: 1, DREG: 2, OP: 3, LEN: 4, SIZE: 5, MAX: 5 }
const MASQ = { FLAGS: 1, PROTO_MIN: 2, PROTO_MAX: 3, MAX: 3 }
const NAT = { TYPE: 1, FAMILY: 2, ADDR_MIN: 3, ADDR_MAX: 4, PROTO_MIN: 5, PROTO_MAX: 6, FLAGS: 7, MAX: 7 }

/** Writes one expression as a NFTA_LIST_ELEM. */
export function encodeExpr(w: Writer, e: Expr): void {
  const elem = w.beginNested(NFTA_LIST_ELEM)
  w.attrStr(NFTA_EXPR_NAME, e.name)
  const d = w.beginNested(NFTA_EXPR_DATA)
  encodeData(w, e)
  w.endNested(d)
  w.endNested(elem)
}

/** The NFTA_EXPR_DATA payload of one expression (what a raw statement carries). */
export function exprData(e: Expr): Buffer {
  const w = new Writer(64)
  encodeData(w, e)
  return w.toBuffer()
}

function encodeData(w: Writer, e: Expr): void {
  if ('raw' in e) {
    w.bytes(e.raw)
    return
  }
  switch (e.name) {
    case 'meta':
      w.attrU32be(META.KEY, e.key).attrU32be(META.DREG, e.dreg)
      break
    case 'cmp':
      w.attrU32be(CMP.SREG, e.sreg).attrU32be(CMP.OP, e.op)
      value(w, CMP.DATA, e.data)
      break
    case 'payload':
      w.attrU32be(PAYLOAD.DREG, e.dreg).attrU32be(PAYLOAD.BASE, e.base).attrU32be(PAYLOAD.OFFSET, e.offset).attrU32be(PAYLOAD.LEN, e.len)
      break
    case 'bitwise':
      w.attrU32be(BITWISE.SREG, e.sreg).attrU32be(BITWISE.DREG, e.dreg).attrU32be(BITWISE.LEN, e.len)
      value(w, BITWISE.MASK, e.mask)
      value(w, BITWISE.XOR, e.xor)
      break
    case 'immediate': {
      w.attrU32be(IMMEDIATE.DREG, e.dreg)
      if (e.verdict) {
        const outer = w.beginNested(IMMEDIATE.DATA)
        const v = w.beginNested(DATA.VERDICT)
        w.attrU32be(VERDICT.CODE, e.verdict.code >>> 0)
        if (e.verdict.chain !== undefined) w.attrStr(VERDICT.CHAIN, e.verdict.chain)
        w.endNested(v)
        w.endNested(outer)
      } else {
        value(w, IMMEDIATE.DATA, e.data ?? Buffer.alloc(0))
      }
      break
    }
    case 'ct':
      w.attrU32be(CT.KEY, e.key).attrU32be(CT.DREG, e.dreg)
      break
    case 'counter':
      if (e.bytes !== undefined) u64be(w, COUNTER.BYTES, e.bytes)
      if (e.packets !== undefined) u64be(w, COUNTER.PACKETS, e.packets)
      break
    case 'limit':
      u64be(w, LIMIT.RATE, e.rate)
      u64be(w, LIMIT.UNIT, e.unit)
      w.attrU32be(LIMIT.BURST, e.burst).attrU32be(LIMIT.TYPE, e.type).attrU32be(LIMIT.FLAGS, e.flags)
      break
    case 'numgen':
      w.attrU32be(NG.DREG, e.dreg).attrU32be(NG.MODULUS, e.mod).attrU32be(NG.TYPE, e.type).attrU32be(NG.OFFSET, e.offset)
      break
    case 'byteorder':
      w.attrU32be(BYTEORDER.SREG, e.sreg)
        .attrU32be(BYTEORDER.DREG, e.dreg)
        .attrU32be(BYTEORDER.OP, e.op)
        .attrU32be(BYTEORDER.LEN, e.len)
        .attrU32be(BYTEORDER.SIZE, e.size)
      break
    case 'masq':
      if (e.protoMin !== undefined) w.attrU32be(MASQ.PROTO_MIN, e.protoMin)
      if (e.protoMax !== undefined) w.attrU32be(MASQ.PROTO_MAX, e.protoMax)
      if (e.flags !== undefined) w.attrU32be(MASQ.FLAGS, e.flags)
      break
    case 'nat':
      w.attrU32be(NAT.TYPE, e.type).attrU32be(NAT.FAMILY, e.family)
      if (e.addrMin !== undefined) w.attrU32be(NAT.ADDR_MIN, e.addrMin)
      if (e.addrMax !== undefined) w.attrU32be(NAT.ADDR_MAX, e.addrMax)
      if (e.protoMin !== undefined) w.attrU32be(NAT.PROTO_MIN, e.protoMin)
      if (e.protoMax !== undefined) w.attrU32be(NAT.PROTO_MAX, e.protoMax)
      if (e.flags !== undefined) w.attrU32be(NAT.FLAGS, e.flags)
      break
  }
}

function value(w: Writer, type: number, data: Buffer): void {
  const n = w.beginNested(type)
  w.attrBytes(DATA.VALUE, data)
  w.endNested(n)
}

function u64be(w: Writer, type: number, v: bigint): void {
  const b = Buffer.allocUnsafe(8)
  b.writeBigUInt64BE(v)
  w.attrBytes(type, b)
}

/** Decodes the NFTA_RULE_EXPRESSIONS list at [start, end). */
export function decodeExprs(buf: Buffer, start: number, end: number): Expr[] {
  const out: Expr[] = []
  let off = start
  while (off + 4 <= end) {
    const len = buf.readUInt16LE(off)
    if (len < 4 || off + len > end) throw decodeError(`bad expression list entry length ${len}`)
    const a = new Attrs(buf, off + 4, off + len, NFTA_EXPR_DATA)
    const name = a.str(NFTA_EXPR_NAME)
    if (name === undefined) throw decodeError('expression without a name')
    const at = a.offset(NFTA_EXPR_DATA)
    const [from, to] = at < 0 ? [off + len, off + len] : [at, at + a.length(NFTA_EXPR_DATA)]
    out.push(decodeOne(name, buf, from, to) ?? { name, raw: Buffer.from(buf.subarray(from, to)) })
    off += (len + 3) & ~3
  }
  return out
}

/** The attribute types present in `a`, for checking that a decoder models all of them. */
function only(a: Attrs, allowed: readonly number[]): boolean {
  for (let t = 1; t <= a.maxType; t++) if (a.has(t) && !allowed.includes(t)) return false
  return a.unknown() === undefined
}

const be32 = (a: Attrs, t: number): number | undefined => a.u32be(t)

function dataValue(a: Attrs, type: number): Buffer | undefined {
  const n = a.nested(type, DATA.MAX)
  if (!n || !only(n, [DATA.VALUE])) return undefined
  const v = n.bytes(DATA.VALUE)
  return v && Buffer.from(v)
}

function bigBE(a: Attrs, t: number): bigint | undefined {
  const b = a.bytes(t)
  return b && b.length === 8 ? b.readBigUInt64BE(0) : undefined
}

function decodeOne(name: string, buf: Buffer, start: number, end: number): Expr | undefined {
  const d = { buf, start, end }
  switch (name) {
    case 'meta': {
      const n = new Attrs(d.buf, d.start, d.end, META.MAX)
      const key = be32(n, META.KEY),
        dreg = be32(n, META.DREG)
      return key !== undefined && dreg !== undefined && only(n, [META.KEY, META.DREG]) ? { name, key, dreg } : undefined
    }
    case 'cmp': {
      const n = new Attrs(d.buf, d.start, d.end, CMP.MAX)
      const sreg = be32(n, CMP.SREG),
        op = be32(n, CMP.OP),
        data = dataValue(n, CMP.DATA)
      return sreg !== undefined && op !== undefined && data ? { name, sreg, op, data } : undefined
    }
    case 'payload': {
      const n = new Attrs(d.buf, d.start, d.end, PAYLOAD.MAX)
      const dreg = be32(n, PAYLOAD.DREG),
        base = be32(n, PAYLOAD.BASE),
        offset = be32(n, PAYLOAD.OFFSET),
        len = be32(n, PAYLOAD.LEN)
      if (dreg === undefined || base === undefined || offset === undefined || len === undefined) return undefined
      return only(n, [PAYLOAD.DREG, PAYLOAD.BASE, PAYLOAD.OFFSET, PAYLOAD.LEN]) ? { name, dreg, base, offset, len } : undefined
    }
    case 'bitwise': {
      const n = new Attrs(d.buf, d.start, d.end, BITWISE.MAX)
      const sreg = be32(n, BITWISE.SREG),
        dreg = be32(n, BITWISE.DREG),
        len = be32(n, BITWISE.LEN)
      const mask = dataValue(n, BITWISE.MASK),
        xor = dataValue(n, BITWISE.XOR)
      const op = be32(n, BITWISE.OP)
      if (sreg === undefined || dreg === undefined || len === undefined || !mask || !xor || (op !== undefined && op !== 0)) return undefined
      // The kernel lists OP (0, mask-and-xor) even when nft left it out; it is implied.
      return only(n, [BITWISE.SREG, BITWISE.DREG, BITWISE.LEN, BITWISE.MASK, BITWISE.XOR, BITWISE.OP]) ? { name, sreg, dreg, len, mask, xor } : undefined
    }
    case 'immediate': {
      const n = new Attrs(d.buf, d.start, d.end, IMMEDIATE.MAX)
      const dreg = be32(n, IMMEDIATE.DREG)
      const data = n.nested(IMMEDIATE.DATA, DATA.MAX)
      if (dreg === undefined || !data || !only(n, [IMMEDIATE.DREG, IMMEDIATE.DATA])) return undefined
      if (data.has(DATA.VERDICT)) {
        const v = data.nested(DATA.VERDICT, VERDICT.MAX)!
        const code = v.u32be(VERDICT.CODE)
        if (code === undefined || !only(v, [VERDICT.CODE, VERDICT.CHAIN])) return undefined
        const chain = v.str(VERDICT.CHAIN)
        return { name, dreg, verdict: chain === undefined ? { code: code | 0 } : { code: code | 0, chain } }
      }
      const value = dataValue(n, IMMEDIATE.DATA)
      return value ? { name, dreg, data: value } : undefined
    }
    case 'ct': {
      const n = new Attrs(d.buf, d.start, d.end, CT.MAX)
      const key = be32(n, CT.KEY),
        dreg = be32(n, CT.DREG)
      return key !== undefined && dreg !== undefined && only(n, [CT.KEY, CT.DREG]) ? { name, key, dreg } : undefined
    }
    case 'counter': {
      const n = new Attrs(d.buf, d.start, d.end, COUNTER.MAX)
      if (!only(n, [COUNTER.BYTES, COUNTER.PACKETS, COUNTER.PAD])) return undefined
      return { name, bytes: bigBE(n, COUNTER.BYTES), packets: bigBE(n, COUNTER.PACKETS) }
    }
    case 'limit': {
      const n = new Attrs(d.buf, d.start, d.end, LIMIT.MAX)
      const rate = bigBE(n, LIMIT.RATE),
        unit = bigBE(n, LIMIT.UNIT)
      if (rate === undefined || unit === undefined || !only(n, [LIMIT.RATE, LIMIT.UNIT, LIMIT.BURST, LIMIT.TYPE, LIMIT.FLAGS, LIMIT.PAD])) return undefined
      return { name, rate, unit, burst: be32(n, LIMIT.BURST) ?? 0, type: be32(n, LIMIT.TYPE) ?? 0, flags: be32(n, LIMIT.FLAGS) ?? 0 }
    }
    case 'numgen': {
      const n = new Attrs(d.buf, d.start, d.end, NG.MAX)
      const dreg = be32(n, NG.DREG),
        mod = be32(n, NG.MODULUS),
        type = be32(n, NG.TYPE)
      if (dreg === undefined || mod === undefined || type === undefined || !only(n, [NG.DREG, NG.MODULUS, NG.TYPE, NG.OFFSET])) return undefined
      return { name, dreg, mod, type, offset: be32(n, NG.OFFSET) ?? 0 }
    }
    case 'byteorder': {
      const n = new Attrs(d.buf, d.start, d.end, BYTEORDER.MAX)
      const sreg = be32(n, BYTEORDER.SREG),
        dreg = be32(n, BYTEORDER.DREG),
        op = be32(n, BYTEORDER.OP)
      const len = be32(n, BYTEORDER.LEN),
        size = be32(n, BYTEORDER.SIZE)
      if (sreg === undefined || dreg === undefined || op === undefined || len === undefined || size === undefined) return undefined
      return { name, sreg, dreg, op, len, size }
    }
    case 'masq': {
      const n = new Attrs(d.buf, d.start, d.end, MASQ.MAX)
      if (!only(n, [MASQ.FLAGS, MASQ.PROTO_MIN, MASQ.PROTO_MAX])) return undefined
      return { name, flags: be32(n, MASQ.FLAGS), protoMin: be32(n, MASQ.PROTO_MIN), protoMax: be32(n, MASQ.PROTO_MAX) }
    }
    case 'nat': {
      const n = new Attrs(d.buf, d.start, d.end, NAT.MAX)
      const type = be32(n, NAT.TYPE),
        family = be32(n, NAT.FAMILY)
      if (type === undefined || family === undefined || n.unknown()) return undefined
      return {
        name,
        type,
        family,
        addrMin: be32(n, NAT.ADDR_MIN),
        addrMax: be32(n, NAT.ADDR_MAX),
        protoMin: be32(n, NAT.PROTO_MIN),
        protoMax: be32(n, NAT.PROTO_MAX),
        flags: be32(n, NAT.FLAGS),
      }
    }
    default:
      return undefined
  }
}
