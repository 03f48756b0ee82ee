// The u32 classifier (`tc filter ... u32 match ip src P match ip dport N 0xffff ... [classid X]
// [action ...]`): matches become tc_u32_keys packed as iproute2's pack_key does (keys at the same
// word offset merge), written as iproute2 6.1 writes them: CLASSID, ACT, then SEL.
import { Attrs, parseCidr, type Writer } from '../../netlink/codec.js'
import { type Action, type ActionWire, decodeActions, writeActions } from './actions.js'
import {
  TC_U32_TERMINAL,
  TCA_OPTIONS,
  TCA_U32_ACT,
  TCA_U32_CLASSID,
  TCA_U32_DIVISOR,
  TCA_U32_HASH,
  TCA_U32_MAX,
  TCA_U32_SEL,
  U32_KEY_LEN,
  U32_SEL_LEN,
} from './constants.js'
import { formatClassid } from './handles.js'
import { beginOptions, structHeader } from './kinds/kind.js'
import { TcSpecError } from './units.js'

/** What `match ip ...` takes: IPv4 prefixes, an IP protocol, TCP/UDP ports. */
export interface U32IpMatch {
  readonly src?: string
  readonly dst?: string
  /** A number or 'tcp' / 'udp' / 'icmp'. */
  readonly protocol?: number | 'tcp' | 'udp' | 'icmp'
  readonly sport?: number
  readonly dport?: number
}

/** One raw key as tc -j prints it: value and mask in hex, byte offset. */
export interface U32Key {
  readonly value: string
  readonly mask: string
  readonly off: number
  readonly offmask?: string
}

interface Key {
  mask: number
  val: number
  off: number
}

const PROTOCOLS: Readonly<Record<string, number>> = { icmp: 1, tcp: 6, udp: 17 }

/** iproute2's pack_key: a key on an offset already used merges into that key. */
function pack(keys: Key[], val: number, mask: number, off: number): void {
  val = (val & mask) >>> 0
  const k = keys.find((x) => x.off === off)
  if (k) {
    if (((val ^ k.val) & mask & k.mask) !== 0) throw new TcSpecError(`u32 matches at offset ${off} contradict each other`)
    k.val = (k.val | val) >>> 0
    k.mask = (k.mask | mask) >>> 0
    return
  }
  if (keys.length >= 128) throw new TcSpecError('u32 takes at most 128 keys')
  keys.push({ val, mask, off })
}

function port(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff) throw new TcSpecError(`${what} must be a port 0..65535, got ${JSON.stringify(v)}`)
  return v
}

function prefix(v: unknown, what: string): { val: number; mask: number } {
  const c = typeof v === 'string' ? parseCidr(v.includes('/') ? v : `${v}/32`) : undefined
  if (c?.family !== 4) throw new TcSpecError(`${what} must be an IPv4 address or prefix, got ${JSON.stringify(v)}`)
  const b = c.bytes
  const val = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0
  const mask = c.prefixLength === 0 ? 0 : (0xffffffff << (32 - c.prefixLength)) >>> 0
  return { val, mask }
}

/** The keys of `match ip ...` in tc's order (src, dst, protocol, sport, dport), values in host order of the big-endian word. */
export function ipKeys(m: U32IpMatch): Key[] {
  for (const k of Object.keys(m))
    if (!['src', 'dst', 'protocol', 'sport', 'dport'].includes(k)) throw new TcSpecError(`u32 ip match has no field "${k}" (src, dst, protocol, sport, dport)`)
  const keys: Key[] = []
  if (m.src !== undefined) {
    const p = prefix(m.src, 'src')
    pack(keys, p.val, p.mask, 12)
  }
  if (m.dst !== undefined) {
    const p = prefix(m.dst, 'dst')
    pack(keys, p.val, p.mask, 16)
  }
  if (m.protocol !== undefined) {
    const n = typeof m.protocol === 'string' ? PROTOCOLS[m.protocol] : m.protocol
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 255)
      throw new TcSpecError(`protocol must be 0..255 or tcp/udp/icmp, got ${JSON.stringify(m.protocol)}`)
    pack(keys, n << 16, 0x00ff0000, 8)
  }
  // Ports assume a 20-byte IP header, as `match ip sport/dport` does.
  if (m.sport !== undefined) pack(keys, (port(m.sport, 'sport') << 16) >>> 0, 0xffff0000, 20)
  if (m.dport !== undefined) pack(keys, port(m.dport, 'dport'), 0x0000ffff, 20)
  return keys
}

/** Raw keys from list() output back into keys. */
export function rawKeys(list: unknown): Key[] {
  if (!Array.isArray(list)) throw new TcSpecError('u32 match must be a list of { value, mask, off } keys')
  const keys: Key[] = []
  for (const k of list as Array<Record<string, unknown>>) {
    const val = typeof k?.value === 'string' && /^[0-9a-f]{1,8}$/i.test(k.value) ? parseInt(k.value, 16) : NaN
    const mask = typeof k?.mask === 'string' && /^[0-9a-f]{1,8}$/i.test(k.mask) ? parseInt(k.mask, 16) : NaN
    if (!Number.isFinite(val) || !Number.isFinite(mask) || !Number.isInteger(k.off) || (k.off as number) % 4 !== 0) {
      throw new TcSpecError(`u32 key ${JSON.stringify(k)} needs hex value and mask and a 4-aligned off`)
    }
    if (k.offmask !== undefined && k.offmask !== '') throw new TcSpecError('u32 keys with an offmask are not supported')
    pack(keys, val, mask, k.off as number)
  }
  return keys
}

/** What the u32 encoder needs, everything checked and resolved. */
export interface U32Wire {
  readonly keys: readonly Key[]
  readonly classid?: number
  readonly actions: readonly ActionWire[]
}

export function writeU32(w: Writer, u: U32Wire): void {
  const at = beginOptions(w, TCA_OPTIONS)
  if (u.classid !== undefined) w.attrU32(TCA_U32_CLASSID, u.classid)
  if (u.actions.length) writeActions(w, TCA_U32_ACT, u.actions)
  // An empty selector would match nothing; tc sends one all-zero key (`match u32 0 0`) when asked to match all.
  const keys = u.keys.length ? u.keys : [{ val: 0, mask: 0, off: 0 }]
  structHeader(w, TCA_U32_SEL, U32_SEL_LEN + keys.length * U32_KEY_LEN)
  w.u8(TC_U32_TERMINAL).u8(0).u8(keys.length).u8(0).u16(0).u16(0).u16(0).u16(0).u32(0)
  for (const k of keys) w.u32be(k.mask).u32be(k.val).s32(k.off).s32(0)
  w.endNested(at)
}

/** A u32 handle as tc prints it: htid:hash:node in hex ('800::800', '800:'). */
export function formatU32Handle(h: number): string {
  if (!h) return 'none'
  const htid = h >>> 20
  const hash = (h >>> 12) & 0xff
  const node = h & 0xfff
  let s = htid ? `${htid.toString(16)}:` : ''
  if (hash || node) {
    if (hash) s += hash.toString(16)
    if (node) s += `:${node.toString(16)}`
  }
  return s
}

/** Parses tc's u32 handle text back ('800::800'). */
export function parseU32Handle(s: string): number | undefined {
  const m = /^([0-9a-f]{0,3}):([0-9a-f]{0,2})(?::([0-9a-f]{0,3}))?$/i.exec(s.trim())
  if (!m) return undefined
  const n = (x: string | undefined) => (x ? parseInt(x, 16) : 0)
  return ((n(m[1]) << 20) | (n(m[2]) << 12) | n(m[3])) >>> 0
}

/** The options of a u32 filter message, shaped as tc -j prints them. */
export function decodeU32(buf: Buffer, start: number, end: number, handle: number, name: (i: number) => string | undefined): Record<string, unknown> {
  const a = new Attrs(buf, start, end, TCA_U32_MAX)
  const out: Record<string, unknown> = { fh: formatU32Handle(handle) }
  const node = handle & 0xfff
  if (node) out.order = node
  const divisor = a.u32(TCA_U32_DIVISOR)
  if (divisor !== undefined) out.ht_divisor = divisor
  const ht = a.u32(TCA_U32_HASH)
  if (ht !== undefined) {
    out.key_ht = (ht >>> 20).toString(16)
    out.bkt = ((ht >>> 12) & 0xff).toString(16)
  }
  const classid = a.u32(TCA_U32_CLASSID)
  if (classid !== undefined) out.flowid = formatClassid(classid)
  const s = a.offset(TCA_U32_SEL)
  if (s >= 0 && a.length(TCA_U32_SEL) >= U32_SEL_LEN) {
    const nkeys = buf[s + 2]!
    const match: U32Key[] = []
    for (let i = 0; i < nkeys && U32_SEL_LEN + (i + 1) * U32_KEY_LEN <= a.length(TCA_U32_SEL); i++) {
      const k = s + U32_SEL_LEN + i * U32_KEY_LEN
      match.push({
        value: buf.readUInt32BE(k + 4).toString(16),
        mask: buf.readUInt32BE(k).toString(16),
        offmask: buf.readInt32LE(k + 12) ? buf.readInt32LE(k + 12).toString(16) : '',
        off: buf.readInt32LE(k + 8),
      })
    }
    out.match = match
  }
  const act = a.offset(TCA_U32_ACT)
  if (act >= 0) {
    const actions: Action[] = decodeActions(buf, act, act + a.length(TCA_U32_ACT), name)
    if (actions.length) out.actions = actions
  }
  return out
}
