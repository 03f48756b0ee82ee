// Table-driven IFLA_INFO_DATA attributes: one row per attribute gives its spec/info key,
// wire type and value names, and drives checking, writing and reading alike.
import { type Attrs, formatMac, parseMac, type Writer } from '../../../netlink/codec.js'
import type { SpecCheck } from '../../spec-check.js'

export type FieldType =
  | 'u8'
  | 'u16'
  | 'u32'
  | 'u64'
  | 'u16be'
  | 'u32be'
  | 'bool8' // u8 0/1 as a boolean
  | 'flag' // present (zero length) = true
  | 'mac'
  | 'hex' // bytes shown as hex (opaque kernel state)

export interface Field {
  readonly key: string
  readonly attr: number
  readonly type: FieldType
  /** Kernel state: decoded, accepted back by add() and ignored, never sent. */
  readonly state?: boolean
  /** Names for the values, both ways (`'802.3ad'` ↔ 4). */
  readonly names?: Readonly<Record<string, number>>
  /** Bounds tighter than the wire type's. */
  readonly min?: number
  readonly max?: number
  /** What the kernel uses when the option is not given (see KindCodec.defaults). */
  readonly default?: number | boolean | string
}

const typeMax: Record<FieldType, number> = {
  u8: 0xff,
  u16: 0xffff,
  u32: 0xffffffff,
  u64: Number.MAX_SAFE_INTEGER,
  u16be: 0xffff,
  u32be: 0xffffffff,
  bool8: 1,
  flag: 1,
  mac: 0,
  hex: 0,
}

/** Checks every key of `spec` that a writable field names; returns nothing, throws on the first bad one. */
export function checkFields(spec: Record<string, unknown>, fields: readonly Field[], c: SpecCheck, prefix: string): void {
  for (const f of fields) {
    const v = spec[f.key]
    if (v === undefined || f.state) continue
    checkValue(f, v, c, `${prefix}${f.key}`)
  }
}

function checkValue(f: Field, v: unknown, c: SpecCheck, what: string): void {
  if (f.type === 'bool8' || f.type === 'flag') {
    c.bool(v, what)
    return
  }
  if (f.type === 'mac') {
    c.mac(v, what)
    return
  }
  if (f.type === 'hex') {
    if (typeof v !== 'string' || !/^([0-9a-f]{2})*$/i.test(v)) c.fail(`${what} must be hex bytes`)
    return
  }
  if (f.names) {
    c.oneOf(v, what, f.names, true)
    return
  }
  c.int(v, what, f.min ?? 0, f.max ?? typeMax[f.type])
}

/** Writes the fields `spec` sets, in table order (which is the order iproute2 is fed in the golden vectors). */
export function writeFields(w: Writer, spec: Record<string, unknown>, fields: readonly Field[]): void {
  for (const f of fields) {
    const v = spec[f.key]
    if (v === undefined || f.state) continue
    writeField(w, f, v)
  }
}

export function writeField(w: Writer, f: Field, v: unknown): void {
  const n = typeof v === 'string' && f.names ? f.names[v]! : typeof v === 'boolean' ? (v ? 1 : 0) : (v as number)
  switch (f.type) {
    case 'u8':
    case 'bool8':
      w.attrU8(f.attr, n)
      break
    case 'u16':
      w.attrU16(f.attr, n)
      break
    case 'u16be':
      w.attrU16be(f.attr, n)
      break
    case 'u32':
      w.attrU32(f.attr, n)
      break
    case 'u32be':
      w.attrU32be(f.attr, n)
      break
    case 'u64':
      w.attrU64(f.attr, n)
      break
    case 'flag':
      if (v) w.attrFlag(f.attr)
      break
    case 'mac':
      w.attrBytes(f.attr, parseMac(v as string)!)
      break
    case 'hex':
      w.attrBytes(f.attr, Buffer.from(v as string, 'hex'))
      break
  }
}

/** Reads every field present in `a` into `out`; numbers with names become their name. */
export function readFields(a: Attrs, fields: readonly Field[], out: Record<string, unknown>): void {
  for (const f of fields) {
    if (!a.has(f.attr)) continue
    let v: unknown
    switch (f.type) {
      case 'u8':
        v = a.u8(f.attr)
        break
      // Some booleans are dumped as u8 but set as NLA_FLAG (vxlan ttl_inherit): accept both.
      case 'bool8':
        v = a.length(f.attr) === 0 || a.u8(f.attr) !== 0
        break
      case 'u16':
        v = a.u16(f.attr)
        break
      case 'u16be':
        v = a.u16be(f.attr)
        break
      case 'u32':
        v = a.u32(f.attr)
        break
      case 'u32be':
        v = a.u32be(f.attr)
        break
      case 'u64':
        v = a.u64(f.attr)
        break
      case 'flag':
        v = true
        break
      case 'mac':
        v = formatMac(a.buf, a.offset(f.attr), a.length(f.attr))
        break
      case 'hex':
        v = a.buf.toString('hex', a.offset(f.attr), a.offset(f.attr) + a.length(f.attr))
        break
    }
    if (f.names && typeof v === 'number') v = nameOf(f.names, v) ?? v
    out[f.key] = v
  }
}

/** The name of `value` in `names`, or undefined. */
export function nameOf(names: Readonly<Record<string, number>>, value: number): string | undefined {
  for (const k in names) if (names[k] === value) return k
  return undefined
}

/** Keys of the writable fields, for the "unknown field" check. */
export function writableKeys(fields: readonly Field[]): string[] {
  return fields.filter((f) => !f.state).map((f) => f.key)
}

/** key → default for the fields that declare one. */
export function defaultsOf(fields: readonly Field[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const f of fields) if (f.default !== undefined) out[f.key] = f.default
  return out
}

/** Keys of the state fields, which add() accepts back and ignores. */
export function stateKeys(fields: readonly Field[]): string[] {
  return fields.filter((f) => f.state).map((f) => f.key)
}

/** Attributes a kind did not decode, kept raw so nothing is dropped silently. */
export function attachUnknown(a: Attrs, out: Record<string, unknown>): void {
  const u = a.unknown()
  if (u) out.unknown = u
}
