// What every qdisc/class kind module provides: the option keys it takes, how to write its
// TCA_OPTIONS and how to read the kernel's back into tc -j style options.
import type { Writer } from '../../../netlink/codec.js'
import { TcSpecError } from '../units.js'

export type Options = Readonly<Record<string, unknown>>

export interface KindCodec {
  /** Option keys accepted on input; list() output keys are among them, so objects go back in. */
  readonly keys: readonly string[]
  /** Writes TCA_OPTIONS (nothing for kinds without options). Throws TcSpecError on bad values. */
  encode(w: Writer, o: Options): void
  /** The options from TCA_OPTIONS' payload [start, end). */
  decode(buf: Buffer, start: number, end: number): Record<string, unknown>
}

/** Opens TCA_OPTIONS without NLA_F_NESTED, as iproute2 writes it (the kernel accepts both). */
export function beginOptions(w: Writer, type: number): number {
  const at = w.beginNested(type)
  w.buf.writeUInt16LE(type, at + 2)
  return at
}

/** Refuses keys the kind does not know, naming them. */
export function checkKeys(kind: string, o: Options, keys: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (o[k] !== undefined && !keys.includes(k)) throw new TcSpecError(`${kind} has no option "${k}" (it takes ${keys.join(', ')})`)
  }
}

export function optionalU32(o: Options, key: string): number | undefined {
  const v = o[key]
  if (v === undefined) return undefined
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new TcSpecError(`${key} must be an integer 0..4294967295, got ${JSON.stringify(v)}`)
  }
  return v
}

/** struct tc_ratespec (12 bytes) for an Ethernet link layer, as tc_calc_rtable fills it. */
export function writeRatespec(w: Writer, cellLog: number, mpu: number, rate32: number): void {
  w.u8(cellLog).u8(1).u16(0).u16(0xffff).u16(mpu).u32(rate32)
}

export const rate32 = (bytes: number): number => (bytes >= 2 ** 32 ? 0xffffffff : bytes)

/** Writes an attribute header for a `len`-byte struct the caller writes next (len a multiple of 4). */
export function structHeader(w: Writer, type: number, len: number): void {
  w.u16(4 + len).u16(type)
}
