// The netlink wire format: message headers, attributes and typed readers/writers.
// Pure functions and a growable writer; no I/O. Host byte order is little-endian (x86, arm64 LE).
import { align4, NLA_F_NESTED, NLA_HDRLEN, NLA_TYPE_MASK, NLMSG_ERROR, NLMSG_HDRLEN } from './constants.js'
import { NsnetError } from './errors.js'

export function decodeError(summary: string): NsnetError {
  return new NsnetError(summary, { code: 'EDECODE' })
}

/** One netlink message inside a received buffer; the bytes are not copied. */
export interface RawMessage {
  readonly type: number
  readonly flags: number
  readonly seq: number
  readonly port: number
  readonly buf: Buffer
  /** Offset of the payload (just after the 16-byte header). */
  readonly start: number
  /** Offset one past the last byte of this message. */
  readonly end: number
}

/**
 * Splits a datagram into messages. Throws EDECODE on a length that is too small
 * or runs past the buffer; never reads outside `buf`.
 */
export function parseMessages(buf: Buffer): RawMessage[] {
  const out: RawMessage[] = []
  let off = 0
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = buf.readUInt32LE(off)
    if (len < NLMSG_HDRLEN || off + len > buf.length) {
      throw decodeError(`bad netlink message length ${len} at offset ${off} of ${buf.length}`)
    }
    out.push({
      type: buf.readUInt16LE(off + 4),
      flags: buf.readUInt16LE(off + 6),
      seq: buf.readUInt32LE(off + 8),
      port: buf.readUInt32LE(off + 12),
      buf,
      start: off + NLMSG_HDRLEN,
      end: off + len,
    })
    off += align4(len)
  }
  if (off < buf.length && buf.length - off >= NLMSG_HDRLEN) throw decodeError('trailing bytes after last message')
  return out
}

/** The content of an NLMSG_ERROR message: errno 0 is an ACK. */
export interface ErrorPayload {
  /** Positive errno, or 0 for an acknowledgement. */
  readonly errno: number
  /** Header of the request it answers. */
  readonly requestType: number
  readonly requestSeq: number
}

export function parseErrorMessage(m: RawMessage): ErrorPayload {
  if (m.type !== NLMSG_ERROR) throw decodeError(`not an NLMSG_ERROR (type ${m.type})`)
  if (m.end - m.start < 4 + NLMSG_HDRLEN) throw decodeError('truncated NLMSG_ERROR')
  const err = m.buf.readInt32LE(m.start)
  return {
    errno: err === 0 ? 0 : -err, // not -0: an ACK must compare and serialise as plain 0
    requestType: m.buf.readUInt16LE(m.start + 8),
    requestSeq: m.buf.readUInt32LE(m.start + 12),
  }
}

/** Calls `fn` for each attribute in [start, end); stops with EDECODE on a malformed length. */
export function forEachAttr(buf: Buffer, start: number, end: number, fn: (type: number, off: number, len: number) => void): void {
  let off = start
  while (off + NLA_HDRLEN <= end) {
    const alen = buf.readUInt16LE(off)
    if (alen < NLA_HDRLEN || off + alen > end) {
      throw decodeError(`bad attribute length ${alen} at offset ${off - start}`)
    }
    fn(buf.readUInt16LE(off + 2) & NLA_TYPE_MASK, off + NLA_HDRLEN, alen - NLA_HDRLEN)
    off += align4(alen)
  }
}

/** An attribute we did not decode, kept so that nothing is dropped silently. */
export interface RawAttribute {
  readonly type: number
  /** Payload as lowercase hex. */
  readonly hex: string
}

/**
 * Indexed view of the attributes in one range. Lookups by type are O(1);
 * a repeated type keeps its last occurrence (use `all()` for lists).
 */
export class Attrs {
  private readonly offs: Int32Array
  private readonly lens: Int32Array
  /** Attributes above maxType as (type, offset, length) triples; turned into hex only when asked. */
  private extra: number[] | undefined

  constructor(
    readonly buf: Buffer,
    readonly start: number,
    readonly end: number,
    readonly maxType: number,
  ) {
    this.offs = new Int32Array(maxType + 1).fill(-1)
    this.lens = new Int32Array(maxType + 1)
    let off = start
    while (off + NLA_HDRLEN <= end) {
      const alen = buf.readUInt16LE(off)
      if (alen < NLA_HDRLEN || off + alen > end) {
        throw decodeError(`bad attribute length ${alen} at offset ${off - start}`)
      }
      const type = buf.readUInt16LE(off + 2) & NLA_TYPE_MASK
      if (type <= maxType) {
        this.offs[type] = off + NLA_HDRLEN
        this.lens[type] = alen - NLA_HDRLEN
      } else {
        ;(this.extra ??= []).push(type, off + NLA_HDRLEN, alen - NLA_HDRLEN)
      }
      off += align4(alen)
    }
  }

  has(type: number): boolean {
    return this.offs[type] !== undefined && this.offs[type]! >= 0
  }
  offset(type: number): number {
    return this.offs[type] ?? -1
  }
  length(type: number): number {
    return this.has(type) ? this.lens[type]! : -1
  }

  /** Attributes with a type above `maxType`, raw. */
  unknown(): RawAttribute[] | undefined {
    const x = this.extra
    if (!x) return undefined
    const out: RawAttribute[] = []
    for (let i = 0; i < x.length; i += 3) out.push({ type: x[i]!, hex: this.buf.toString('hex', x[i + 1], x[i + 1]! + x[i + 2]!) })
    return out
  }

  /** A known type's payload as raw hex, for attributes a decoder keeps but does not interpret. */
  raw(type: number): RawAttribute | undefined {
    if (!this.has(type)) return undefined
    const o = this.offs[type]!
    return { type, hex: this.buf.toString('hex', o, o + this.lens[type]!) }
  }

  private need(type: number, size: number, what: string): number {
    const o = this.offs[type]!
    if (this.lens[type]! < size) throw decodeError(`attribute ${type} too short for ${what} (${this.lens[type]} bytes)`)
    return o
  }

  /** Offset of a fixed-size payload (a struct), -1 when absent; EDECODE when shorter than `size`. */
  fixed(type: number, size: number, what: string): number {
    return this.has(type) ? this.need(type, size, what) : -1
  }

  u8(type: number): number | undefined {
    return this.has(type) ? this.buf[this.need(type, 1, 'u8')] : undefined
  }
  u16(type: number): number | undefined {
    return this.has(type) ? this.buf.readUInt16LE(this.need(type, 2, 'u16')) : undefined
  }
  u16be(type: number): number | undefined {
    return this.has(type) ? this.buf.readUInt16BE(this.need(type, 2, 'u16')) : undefined
  }
  u32(type: number): number | undefined {
    return this.has(type) ? this.buf.readUInt32LE(this.need(type, 4, 'u32')) : undefined
  }
  u32be(type: number): number | undefined {
    return this.has(type) ? this.buf.readUInt32BE(this.need(type, 4, 'u32')) : undefined
  }
  s32(type: number): number | undefined {
    return this.has(type) ? this.buf.readInt32LE(this.need(type, 4, 's32')) : undefined
  }
  /** u64 as a number; exact up to 2^53, which every counter we read stays below in practice. */
  u64(type: number): number | undefined {
    if (!this.has(type)) return undefined
    const o = this.need(type, 8, 'u64')
    return this.buf.readUInt32LE(o) + this.buf.readUInt32LE(o + 4) * 0x1_0000_0000
  }
  u64big(type: number): bigint | undefined {
    return this.has(type) ? this.buf.readBigUInt64LE(this.need(type, 8, 'u64')) : undefined
  }
  flag(type: number): boolean {
    return this.has(type)
  }
  str(type: number): string | undefined {
    if (!this.has(type)) return undefined
    const o = this.offs[type]!
    return readCString(this.buf, o, o + this.lens[type]!)
  }
  bytes(type: number): Buffer | undefined {
    if (!this.has(type)) return undefined
    const o = this.offs[type]!
    return this.buf.subarray(o, o + this.lens[type]!)
  }
  /** An IPv4 or IPv6 address, chosen by the payload length. */
  ip(type: number): string | undefined {
    if (!this.has(type)) return undefined
    return formatIP(this.buf, this.offs[type]!, this.lens[type]!)
  }
  mac(type: number): string | undefined {
    if (!this.has(type)) return undefined
    return formatMac(this.buf, this.offs[type]!, this.lens[type]!)
  }
  nested(type: number, maxType: number): Attrs | undefined {
    if (!this.has(type)) return undefined
    const o = this.offs[type]!
    return new Attrs(this.buf, o, o + this.lens[type]!, maxType)
  }
  /** Every occurrence of `type` (for attributes that repeat), as [offset, length] pairs. */
  all(type: number): Array<[number, number]> {
    const out: Array<[number, number]> = []
    forEachAttr(this.buf, this.start, this.end, (t, o, l) => {
      if (t === type) out.push([o, l])
    })
    return out
  }
}

/** `o` back when a fixed-size payload of `len` bytes holds `size`; EDECODE when it is shorter. */
export function fixedAt(o: number, len: number, size: number, what: string): number {
  if (len < size) throw decodeError(`${what} of ${len} bytes is shorter than ${size}`)
  return o
}

/** A NUL-terminated (or not) string inside [start, end). */
export function readCString(buf: Buffer, start: number, end: number): string {
  let stop = buf.indexOf(0, start)
  if (stop < 0 || stop > end) stop = end
  return buf.toString('utf8', start, stop)
}

// ---------- addresses ----------

// Digits go into a scratch buffer decoded once: about twice as fast as a template string,
// which matters when a dump formats 100k addresses.
const ipText = Buffer.alloc(20)

function putDecimal(v: number, p: number): number {
  if (v >= 100) {
    ipText[p++] = 48 + ((v / 100) | 0)
    ipText[p++] = 48 + (((v / 10) | 0) % 10)
  } else if (v >= 10) ipText[p++] = 48 + ((v / 10) | 0)
  ipText[p++] = 48 + (v % 10)
  return p
}

/** `a.b.c.d`, or `a.b.c.d/len` when `prefixLength` is given. */
export function formatIPv4(buf: Uint8Array, o: number, prefixLength?: number): string {
  let p = putDecimal(buf[o]!, 0)
  ipText[p++] = 46
  p = putDecimal(buf[o + 1]!, p)
  ipText[p++] = 46
  p = putDecimal(buf[o + 2]!, p)
  ipText[p++] = 46
  p = putDecimal(buf[o + 3]!, p)
  if (prefixLength !== undefined) {
    ipText[p++] = 47
    p = putDecimal(prefixLength, p)
  }
  return latin1(ipText, p)
}

// Buffer#latin1Slice is what toString('latin1') calls after checking its arguments; calling it
// directly halves the cost of a short string. Fall back to toString where it is missing.
type Latin1 = Buffer & { latin1Slice(start: number, end: number): string }
const latin1 =
  typeof (ipText as Partial<Latin1>).latin1Slice === 'function'
    ? (b: Buffer, end: number): string => (b as Latin1).latin1Slice(0, end)
    : (b: Buffer, end: number): string => b.toString('latin1', 0, end)

/** RFC 5952 text: lowercase, longest run of zero groups (two or more) as `::`, IPv4-mapped tail. */
export function formatIPv6(buf: Uint8Array, o: number): string {
  const g = new Array<number>(8)
  for (let i = 0; i < 8; i++) g[i] = (buf[o + 2 * i]! << 8) | buf[o + 2 * i + 1]!
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${formatIPv4(buf, o + 12)}`
  }
  let bestStart = -1,
    bestLen = 0
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && g[j] === 0) j++
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i
      bestLen = j - i
    }
    i = j
  }
  const hex = (a: number, b: number) =>
    g
      .slice(a, b)
      .map((x) => x.toString(16))
      .join(':')
  if (bestStart < 0) return hex(0, 8)
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`
}

export function formatIP(buf: Uint8Array, o: number, len: number): string {
  if (len === 4) return formatIPv4(buf, o)
  if (len === 16) return formatIPv6(buf, o)
  throw decodeError(`address of ${len} bytes is neither IPv4 nor IPv6`)
}

export function formatMac(buf: Uint8Array, o: number, len: number): string {
  let s = ''
  for (let i = 0; i < len; i++) {
    const b = buf[o + i]!
    s += (i ? ':' : '') + (b < 16 ? '0' : '') + b.toString(16)
  }
  return s
}

/**
 * Parses dotted-quad IPv4 into a host-order u32 (the first octet in the top byte); undefined
 * when it is not one (no leading zeros, each part 0..255). A char loop: hot in bulk route adds.
 */
export function parseIPv4Number(s: string, start = 0, end = s.length): number | undefined {
  let value = 0
  let part = 0
  let digits = 0
  let dots = 0
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i)
    if (c === 46) {
      // '.'
      if (digits === 0 || dots === 3) return undefined
      value = value * 256 + part
      part = 0
      digits = 0
      dots++
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return undefined // leading zero
      part = part * 10 + (c - 48)
      if (++digits > 3 || part > 255) return undefined
    } else {
      return undefined
    }
  }
  if (dots !== 3 || digits === 0) return undefined
  return value * 256 + part
}

/** Parses dotted-quad IPv4; undefined when it is not one. */
export function parseIPv4(s: string): Uint8Array | undefined {
  const v = parseIPv4Number(s)
  if (v === undefined) return undefined
  return new Uint8Array([v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff])
}

/** Parses IPv6 text (with `::` and an IPv4 tail); undefined when it is not one. Zone ids are refused. */
export function parseIPv6(s: string): Uint8Array | undefined {
  if (s.length < 2 || s.length > 45 || s.includes('%')) return undefined
  let tail: Uint8Array | undefined
  let text = s
  const lastColon = s.lastIndexOf(':')
  if (s.indexOf('.', lastColon) > 0) {
    tail = parseIPv4(s.slice(lastColon + 1))
    if (!tail) return undefined
    text = s.slice(0, lastColon + 1) + '0:0'
  }
  const halves = text.split('::')
  if (halves.length > 2) return undefined
  const groups = (h: string): number[] | undefined => {
    if (h === '') return []
    const out: number[] = []
    for (const p of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined
      out.push(parseInt(p, 16))
    }
    return out
  }
  const head = groups(halves[0]!)
  const rest = halves.length === 2 ? groups(halves[1]!) : []
  if (!head || !rest) return undefined
  const total = head.length + rest.length
  if (halves.length === 1 ? total !== 8 : total > 7) return undefined
  const all = [...head, ...new Array<number>(8 - total).fill(0), ...rest]
  const out = new Uint8Array(16)
  all.forEach((v, i) => {
    out[2 * i] = v >> 8
    out[2 * i + 1] = v & 0xff
  })
  if (tail) out.set(tail, 12)
  return out
}

export type Family = 4 | 6

/** Parses either family; undefined when it is neither. */
export function parseIP(s: string): { family: Family; bytes: Uint8Array } | undefined {
  const v4 = parseIPv4(s)
  if (v4) return { family: 4, bytes: v4 }
  const v6 = parseIPv6(s)
  if (v6) return { family: 6, bytes: v6 }
  return undefined
}

export interface Cidr {
  readonly family: Family
  readonly bytes: Uint8Array
  readonly prefixLength: number
  /** Canonical text of the address part, as the kernel would print it. */
  readonly address: string
}

/** `10.0.0.1/24`, `fe80::1/64`, or a bare address (full-length prefix). */
export function parseCidr(s: string): Cidr | undefined {
  const slash = s.indexOf('/')
  const ipText = slash < 0 ? s : s.slice(0, slash)
  const ip = parseIP(ipText)
  if (!ip) return undefined
  const max = ip.family === 4 ? 32 : 128
  let prefixLength = max
  if (slash >= 0) {
    const p = s.slice(slash + 1)
    // No leading zeros: iproute2 reads `/024` as octal (20), so refuse the ambiguity.
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return undefined
    prefixLength = Number(p)
    if (prefixLength > max) return undefined
  }
  const address = ip.family === 4 ? formatIPv4(ip.bytes, 0) : formatIPv6(ip.bytes, 0)
  return { family: ip.family, bytes: ip.bytes, prefixLength, address }
}

/** Zeroes the host bits: 10.0.2.7/24 → 10.0.2.0/24. */
export function networkOf(c: Cidr): Cidr {
  const bytes = new Uint8Array(c.bytes)
  for (let i = 0; i < bytes.length; i++) {
    const bitsHere = Math.max(0, Math.min(8, c.prefixLength - 8 * i))
    bytes[i]! &= (0xff << (8 - bitsHere)) & 0xff
  }
  const address = c.family === 4 ? formatIPv4(bytes, 0) : formatIPv6(bytes, 0)
  return { family: c.family, bytes, prefixLength: c.prefixLength, address }
}

/** `aa:bb:cc:dd:ee:ff` (also `-` separators); undefined when it is not one. */
export function parseMac(s: string): Uint8Array | undefined {
  const parts = s.split(/[:-]/)
  if (parts.length !== 6) return undefined
  const out = new Uint8Array(6)
  for (let i = 0; i < 6; i++) {
    if (!/^[0-9a-fA-F]{1,2}$/.test(parts[i]!)) return undefined
    out[i] = parseInt(parts[i]!, 16)
  }
  return out
}

// ---------- writing ----------

/**
 * A growable buffer for building netlink messages. Values are written in host
 * (little-endian) order unless the method says `be`.
 */
export class Writer {
  buf: Buffer
  pos = 0

  constructor(size = 4096) {
    this.buf = Buffer.allocUnsafe(size)
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.pos + n) size *= 2
    const next = Buffer.allocUnsafe(size)
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
  }

  /** Starts a message; returns its offset for endMessage(). */
  beginMessage(type: number, flags: number, seq: number, port = 0): number {
    this.ensure(NLMSG_HDRLEN)
    const start = this.pos
    const b = this.buf
    b.writeUInt32LE(0, start)
    b.writeUInt16LE(type, start + 4)
    b.writeUInt16LE(flags, start + 6)
    b.writeUInt32LE(seq >>> 0, start + 8)
    b.writeUInt32LE(port >>> 0, start + 12)
    this.pos += NLMSG_HDRLEN
    return start
  }

  endMessage(start: number): void {
    this.buf.writeUInt32LE(this.pos - start, start)
    this.align()
  }

  align(): void {
    const pad = align4(this.pos) - this.pos
    if (pad) {
      this.ensure(pad)
      this.buf.fill(0, this.pos, this.pos + pad)
      this.pos += pad
    }
  }

  u8(v: number): this {
    this.ensure(1)
    this.buf[this.pos++] = v & 0xff
    return this
  }
  u16(v: number): this {
    this.ensure(2)
    this.buf.writeUInt16LE(v & 0xffff, this.pos)
    this.pos += 2
    return this
  }
  u16be(v: number): this {
    this.ensure(2)
    this.buf.writeUInt16BE(v & 0xffff, this.pos)
    this.pos += 2
    return this
  }
  u32(v: number): this {
    this.ensure(4)
    this.buf.writeUInt32LE(v >>> 0, this.pos)
    this.pos += 4
    return this
  }
  u32be(v: number): this {
    this.ensure(4)
    this.buf.writeUInt32BE(v >>> 0, this.pos)
    this.pos += 4
    return this
  }
  s32(v: number): this {
    this.ensure(4)
    this.buf.writeInt32LE(v | 0, this.pos)
    this.pos += 4
    return this
  }
  u64(v: number | bigint): this {
    this.ensure(8)
    this.buf.writeBigUInt64LE(BigInt(v), this.pos)
    this.pos += 8
    return this
  }
  bytes(b: Uint8Array): this {
    this.ensure(b.length)
    this.buf.set(b, this.pos)
    this.pos += b.length
    return this
  }
  /** Makes room for `n` bytes, advances past them and returns their offset, for callers that store bytes directly. */
  reserve(n: number): number {
    this.ensure(n)
    const at = this.pos
    this.pos += n
    return at
  }
  zeros(n: number): this {
    this.ensure(n)
    this.buf.fill(0, this.pos, this.pos + n)
    this.pos += n
    return this
  }

  private attrHeader(type: number, payloadLen: number): void {
    if (NLA_HDRLEN + payloadLen > 0xffff) throw tooLong(NLA_HDRLEN + payloadLen)
    this.ensure(NLA_HDRLEN + payloadLen + 3)
    this.buf.writeUInt16LE(NLA_HDRLEN + payloadLen, this.pos)
    this.buf.writeUInt16LE(type, this.pos + 2)
    this.pos += NLA_HDRLEN
  }

  attrU8(type: number, v: number): this {
    this.attrHeader(type, 1)
    this.u8(v)
    this.align()
    return this
  }
  attrU16(type: number, v: number): this {
    this.attrHeader(type, 2)
    this.u16(v)
    this.align()
    return this
  }
  attrU16be(type: number, v: number): this {
    this.attrHeader(type, 2)
    this.u16be(v)
    this.align()
    return this
  }
  attrU32(type: number, v: number): this {
    this.attrHeader(type, 4)
    return this.u32(v)
  }
  attrU32be(type: number, v: number): this {
    this.attrHeader(type, 4)
    return this.u32be(v)
  }
  attrS32(type: number, v: number): this {
    this.attrHeader(type, 4)
    return this.s32(v)
  }
  attrU64(type: number, v: number | bigint): this {
    this.attrHeader(type, 8)
    return this.u64(v)
  }
  attrFlag(type: number): this {
    this.attrHeader(type, 0)
    return this
  }
  attrBytes(type: number, b: Uint8Array): this {
    this.attrHeader(type, b.length)
    this.bytes(b)
    this.align()
    return this
  }
  /** NUL-terminated, as the kernel's NLA_STRING / NLA_NUL_STRING policies accept. */
  attrStr(type: number, s: string): this {
    const n = Buffer.byteLength(s)
    this.attrHeader(type, n + 1)
    this.buf.write(s, this.pos, 'utf8')
    this.pos += n
    this.buf[this.pos++] = 0
    this.align()
    return this
  }

  /** Opens a nested attribute; close it with endNested(). */
  beginNested(type: number): number {
    this.ensure(NLA_HDRLEN)
    const start = this.pos
    this.buf.writeUInt16LE(type | NLA_F_NESTED, start + 2)
    this.pos += NLA_HDRLEN
    return start
  }

  endNested(start: number): void {
    const len = this.pos - start
    if (len > 0xffff) throw tooLong(len)
    this.buf.writeUInt16LE(len, start)
    this.align()
  }

  /** The bytes written so far (a view, valid until the next write). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos)
  }

  /** A copy of the bytes written so far. */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos))
  }

  reset(): void {
    this.pos = 0
  }
}

/** An attribute's length field is 16 bits: anything longer cannot be encoded. */
function tooLong(len: number): NsnetError {
  return new NsnetError(`attribute of ${len} bytes exceeds the 65535-byte netlink attribute limit`, { code: 'EINVAL_ARGUMENT' })
}
