// Public types of the address operations. A decoded Address is one `addr_info` entry of
// `ip -j addr show` (same keys, flags as `true` keys), plus the link's ifindex and ifname.
import type { CallOptions } from '../../netlink/engine.js'
import type { LinkRef } from '../context.js'
import type { FamilyName, InetFamily } from '../rtnl.js'

/** @deprecated the one family type is InetFamily; this name stays for existing callers. */
export type AddressFamily = InetFamily

/** Flags `ip` prints as keys set to true. */
export type AddressFlag =
  | 'secondary'
  | 'temporary'
  | 'nodad'
  | 'optimistic'
  | 'dadfailed'
  | 'home'
  | 'deprecated'
  | 'tentative'
  | 'dynamic'
  | 'mngtmpaddr'
  | 'noprefixroute'
  | 'autojoin'
  | 'stable-privacy'

export interface Address {
  readonly ifindex: number
  readonly ifname: string
  readonly family: InetFamily
  /** The interface's own address (IFA_LOCAL, else IFA_ADDRESS). */
  readonly local: string
  /** The peer of a point-to-point address (IFA_ADDRESS when it differs from local). */
  readonly address?: string
  readonly prefixlen: number
  /** Metric of the prefix route (IFA_RT_PRIORITY). */
  readonly metric?: number
  readonly broadcast?: string
  readonly anycast?: string
  /** `global`, `site`, `link`, `host`, `nowhere` or a number as text. */
  readonly scope: string
  /** IPv4 only: the label (`eth0:1`). */
  readonly label?: string
  readonly secondary?: true
  readonly temporary?: true
  readonly nodad?: true
  readonly optimistic?: true
  readonly dadfailed?: true
  readonly home?: true
  readonly deprecated?: true
  /** IPv6 duplicate address detection still running: the address cannot be used yet. */
  readonly tentative?: true
  /** Has a finite lifetime (not IFA_F_PERMANENT). */
  readonly dynamic?: true
  readonly mngtmpaddr?: true
  readonly noprefixroute?: true
  readonly autojoin?: true
  readonly 'stable-privacy'?: true
  /** Seconds; 4294967295 means forever, as ip prints it. */
  readonly valid_life_time?: number
  readonly preferred_life_time?: number
  /** Who made it (IFA_PROTO): kernel_lo, kernel_ra, kernel_ll or a number as text. */
  readonly protocol?: string
}

/** Flags a caller may set when adding (the others are kernel state). */
export type SettableAddressFlag = 'nodad' | 'optimistic' | 'home' | 'mngtmpaddr' | 'noprefixroute' | 'autojoin'

export interface AddressOptions extends CallOptions {
  /** Peer of a point-to-point address (`ip addr add A peer P`); its prefix length is the one given. */
  readonly peer?: string
  /** Broadcast address, or `+` (host bits set) / `-` (host bits clear) as `ip addr add ... brd +`. */
  readonly broadcast?: string
  readonly anycast?: string
  /** IPv4 only, 1..15 bytes (`eth0:1` by convention; iproute2 >= 5.17 takes any label). */
  readonly label?: string
  /** Name or number; default global (host for 127.0.0.0/8, as ip does). */
  readonly scope?: string | number
  readonly flags?: readonly SettableAddressFlag[]
  /** Seconds, or 'forever'. */
  readonly validLifetime?: number | 'forever'
  readonly preferredLifetime?: number | 'forever'
  /** Metric of the prefix route (`ip addr add ... metric N`). */
  readonly metric?: number
}

export interface AddressFilter {
  readonly link?: LinkRef
  readonly family?: FamilyName
  /**
   * Exact label, or a pattern with `*` / `?` (`eth0:*`), as `ip addr show label PATTERN`;
   * an address without a label (IPv6) matches by its link's name, as in ip.
   */
  readonly label?: string
  readonly scope?: string | number
}

export interface FlushSelector {
  readonly link: LinkRef
  readonly label?: string
  readonly family?: FamilyName
  readonly scope?: string | number
}

export interface WaitReadyOptions extends CallOptions {
  /** Give up after this long (default 5000 ms). */
  readonly timeoutMs?: number
}
