// RTM_NEWADDR ↔ Address: attribute numbers from <linux/if_addr.h>, the flag words `ip` uses,
// and the message bodies for add and delete.
import { Attrs, decodeError, type RawMessage, type Writer } from '../../netlink/codec.js'
import { scopes } from '../routes/tables.js'
import type { InetFamily } from '../rtnl.js'
import { AF_INET6, IFADDRMSG_LEN } from '../rtnl.js'
import type { Address } from './types.js'

export const IFA_ADDRESS = 1
export const IFA_LOCAL = 2
export const IFA_LABEL = 3
export const IFA_BROADCAST = 4
export const IFA_ANYCAST = 5
export const IFA_CACHEINFO = 6
export const IFA_FLAGS = 8
export const IFA_RT_PRIORITY = 9
export const IFA_PROTO = 11
const IFA_MAX = 11

export const IFA_F_SECONDARY = 0x01
export const IFA_F_NODAD = 0x02
export const IFA_F_OPTIMISTIC = 0x04
export const IFA_F_DADFAILED = 0x08
export const IFA_F_HOMEADDRESS = 0x10
export const IFA_F_DEPRECATED = 0x20
export const IFA_F_TENTATIVE = 0x40
export const IFA_F_PERMANENT = 0x80
export const IFA_F_MANAGETEMPADDR = 0x100
export const IFA_F_NOPREFIXROUTE = 0x200
export const IFA_F_MCAUTOJOIN = 0x400
export const IFA_F_STABLE_PRIVACY = 0x800

/** Lifetime meaning "forever" (INFINITY_LIFE_TIME). */
export const FOREVER = 0xffffffff

/** Flag bits in the order `ip` prints them. IFA_F_PERMANENT is printed inverted, as `dynamic`. */
const FLAG_WORDS: ReadonlyArray<readonly [number, string]> = [
  [IFA_F_SECONDARY, 'secondary'],
  [IFA_F_NODAD, 'nodad'],
  [IFA_F_OPTIMISTIC, 'optimistic'],
  [IFA_F_DADFAILED, 'dadfailed'],
  [IFA_F_HOMEADDRESS, 'home'],
  [IFA_F_DEPRECATED, 'deprecated'],
  [IFA_F_TENTATIVE, 'tentative'],
  [IFA_F_PERMANENT, 'dynamic'],
  [IFA_F_MANAGETEMPADDR, 'mngtmpaddr'],
  [IFA_F_NOPREFIXROUTE, 'noprefixroute'],
  [IFA_F_MCAUTOJOIN, 'autojoin'],
  [IFA_F_STABLE_PRIVACY, 'stable-privacy'],
]

/** The flags a caller may ask for, by the word `ip addr add` takes. */
export const SETTABLE_FLAGS: ReadonlyMap<string, number> = new Map([
  ['nodad', IFA_F_NODAD],
  ['optimistic', IFA_F_OPTIMISTIC],
  ['home', IFA_F_HOMEADDRESS],
  ['mngtmpaddr', IFA_F_MANAGETEMPADDR],
  ['noprefixroute', IFA_F_NOPREFIXROUTE],
  ['autojoin', IFA_F_MCAUTOJOIN],
])

const PROTOCOL_NAMES: readonly string[] = ['unspec', 'kernel_lo', 'kernel_ra', 'kernel_ll']

export const addressFamilyName = (af: number): InetFamily => (af === AF_INET6 ? 'inet6' : 'inet')

/**
 * Decodes one RTM_NEWADDR (or RTM_DELADDR) message. `names` maps ifindex → link name;
 * without it the link shows as `if<N>`. The result is frozen.
 */
export function decodeAddress(m: RawMessage, names?: Map<number, string>): Address {
  const b = m.buf
  const s = m.start
  if (m.end - s < IFADDRMSG_LEN) throw decodeError(`address message of ${m.end - s} bytes is shorter than ifaddrmsg`)
  const af = b[s]!
  const ifindex = b.readUInt32LE(s + 4)
  const a = new Attrs(b, s + IFADDRMSG_LEN, m.end, IFA_MAX)
  const local = a.ip(IFA_LOCAL)
  const address = a.ip(IFA_ADDRESS)
  const flags = a.u32(IFA_FLAGS) ?? b[s + 2]!
  const r: Record<string, unknown> = {
    ifindex,
    ifname: names?.get(ifindex) ?? `if${ifindex}`,
    family: addressFamilyName(af),
    local: local ?? address,
  }
  if (local !== undefined && address !== undefined && address !== local) r.address = address
  r.prefixlen = b[s + 1]!
  const metric = a.u32(IFA_RT_PRIORITY)
  if (metric !== undefined) r.metric = metric
  const broadcast = a.ip(IFA_BROADCAST)
  if (broadcast !== undefined) r.broadcast = broadcast
  const anycast = a.ip(IFA_ANYCAST)
  if (anycast !== undefined) r.anycast = anycast
  r.scope = scopes.name(b[s + 3]!)
  for (const [bit, word] of FLAG_WORDS) {
    const set = (flags & bit) !== 0
    if (bit === IFA_F_PERMANENT ? !set : set) r[bit === IFA_F_SECONDARY && af === AF_INET6 ? 'temporary' : word] = true
  }
  const label = a.str(IFA_LABEL)
  if (label !== undefined) r.label = label
  // struct ifa_cacheinfo: prefered, valid, cstamp, tstamp.
  const o = a.fixed(IFA_CACHEINFO, 16, 'IFA_CACHEINFO')
  if (o >= 0) {
    r.valid_life_time = b.readUInt32LE(o + 4)
    r.preferred_life_time = b.readUInt32LE(o)
  }
  const proto = a.u8(IFA_PROTO)
  if (proto !== undefined) r.protocol = PROTOCOL_NAMES[proto] ?? String(proto)
  return Object.freeze(r) as unknown as Address
}

/** A checked address, ready to be written once the link has an index. */
export interface EncodedAddress {
  readonly af: number
  readonly prefixlen: number
  readonly flags: number
  readonly scope: number
  readonly local: Uint8Array
  /** IFA_ADDRESS: the peer, or the local address again. */
  readonly address?: Uint8Array
  readonly broadcast?: Uint8Array
  readonly anycast?: Uint8Array
  readonly label?: string
  readonly lifetimes?: { readonly valid: number; readonly preferred: number }
  readonly metric?: number
}

/** ifaddrmsg and attributes, as `ip addr add|del` sends them. */
export function writeAddress(w: Writer, a: EncodedAddress, ifindex: number): void {
  w.u8(a.af)
    .u8(a.prefixlen)
    .u8(a.flags & 0xff)
    .u8(a.scope)
    .u32(ifindex)
  w.attrBytes(IFA_LOCAL, a.local)
  if (a.address) w.attrBytes(IFA_ADDRESS, a.address)
  if (a.broadcast) w.attrBytes(IFA_BROADCAST, a.broadcast)
  if (a.anycast) w.attrBytes(IFA_ANYCAST, a.anycast)
  if (a.label !== undefined) w.attrStr(IFA_LABEL, a.label)
  if (a.lifetimes) {
    // struct ifa_cacheinfo: ifa_prefered, ifa_valid, cstamp, tstamp.
    const ci = Buffer.alloc(16)
    ci.writeUInt32LE(a.lifetimes.preferred, 0)
    ci.writeUInt32LE(a.lifetimes.valid, 4)
    w.attrBytes(IFA_CACHEINFO, ci)
  }
  if (a.flags > 0xff) w.attrU32(IFA_FLAGS, a.flags)
  if (a.metric !== undefined) w.attrU32(IFA_RT_PRIORITY, a.metric)
}
