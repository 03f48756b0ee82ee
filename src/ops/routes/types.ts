// Public types of the route operations. A decoded Route has the fields and names of
// `ip -d -j route show table all` (every header field spelled out), plus `family`.
import type { CallOptions } from '../../netlink/engine.js'
import type { LinkRef } from '../context.js'
import type { FamilyName, InetFamily } from '../rtnl.js'

/** @deprecated the one family type is InetFamily; this name stays for existing callers. */
export type RouteFamily = InetFamily

export type RouteTypeName =
  | 'unicast'
  | 'local'
  | 'broadcast'
  | 'anycast'
  | 'multicast'
  | 'blackhole'
  | 'unreachable'
  | 'prohibit'
  | 'throw'
  | 'nat'
  | 'xresolve'

/** RTA_METRICS, named and scaled as `ip route` shows them (rtt and rttvar in ms, the rest as the kernel keeps them). */
export interface RouteMetrics {
  readonly mtu?: number
  readonly window?: number
  readonly rtt?: number
  readonly rttvar?: number
  readonly ssthresh?: number
  readonly cwnd?: number
  readonly advmss?: number
  readonly reordering?: number
  readonly hoplimit?: number
  readonly initcwnd?: number
  readonly features?: number
  readonly rto_min?: number
  readonly initrwnd?: number
  readonly quickack?: number
  readonly fastopen_no_cookie?: number
  /** Congestion control algorithm (RTAX_CC_ALGO). */
  readonly congctl?: string
  /** Metrics the kernel must not change (RTAX_LOCK), by name. */
  readonly lock?: readonly string[]
}

/** RTA_VIA: a gateway of another family (an IPv4 route via an IPv6 next hop). */
export interface RouteVia {
  readonly family: InetFamily
  readonly host: string
}

/** One path of a multipath route (struct rtnexthop). */
export interface Nexthop {
  readonly gateway?: string
  readonly via?: RouteVia
  readonly dev?: string
  /** 1..256; `ip` calls it weight, the kernel stores weight - 1 as rtnh_hops. */
  readonly weight: number
  readonly flags: readonly string[]
}

/** A route as the kernel reports it. Every object list() returns is accepted by delete()/replace(). */
export interface Route {
  readonly family: InetFamily
  readonly type: RouteTypeName | string
  /** `default`, `a.b.c.d/len`, or a bare address for a host route (/32, /128), as `ip` prints. */
  readonly dst: string
  /** Source prefix (RTA_SRC, `ip route ... from`). */
  readonly from?: string
  readonly gateway?: string
  readonly via?: RouteVia
  readonly dev?: string
  /** Table name (`main`, `local`, `default`) or its number as text (`1000`). */
  readonly table: string
  /** Protocol name (`kernel`, `boot`, `static`, ...) or its number as text. */
  readonly protocol: string
  /** `global`, `site`, `link`, `host`, `nowhere` or a number as text. */
  readonly scope: string
  readonly prefsrc?: string
  /** RTA_PRIORITY; absent on IPv4 routes whose metric is 0. */
  readonly metric?: number
  /** rtm_tos, when not 0. */
  readonly tos?: number
  /** `onlink`, `linkdown`, `dead`, ... (rtm_flags and, for one path, its rtnh flags). */
  readonly flags: readonly string[]
  readonly metrics?: RouteMetrics
  /** IPv6 router preference. */
  readonly pref?: 'low' | 'medium' | 'high' | string
  /** Seconds until the route expires (IPv6 routes with a lifetime). */
  readonly expires?: number
  readonly nhid?: number
  readonly nexthops?: readonly Nexthop[]
  /** Only in routes.get() answers. */
  readonly iif?: string
  readonly uid?: number
  readonly mark?: number
}

export interface NexthopSpec {
  readonly gateway?: string
  readonly via?: RouteVia
  readonly dev?: LinkRef
  /** 1..256, default 1. */
  readonly weight?: number
  /** Only `onlink` is set by the caller; kernel state flags (linkdown, dead...) are ignored. */
  readonly flags?: readonly string[]
  readonly onlink?: boolean
}

/** What add/replace/append/delete take: a Route, with everything but `dst` optional. */
export interface RouteSpec {
  /** `default`, a prefix `10.0.2.0/24`, or a host address. */
  readonly dst: string
  /** Needed only for `default` without a gateway (default 'inet'); else taken from the addresses. */
  readonly family?: FamilyName
  /** Default `unicast`. */
  readonly type?: RouteTypeName | string
  readonly from?: string
  readonly gateway?: string
  readonly via?: RouteVia
  readonly dev?: LinkRef
  /** Name (`main`, `local`, `default`) or id 1..2^32-1; default `main`. */
  readonly table?: string | number
  /** Name or number; default `boot` for add, any for delete. */
  readonly protocol?: string | number
  /** Name or number; default as `ip route add` picks it (host for local, link for a route without gateway...). */
  readonly scope?: string | number
  readonly prefsrc?: string
  readonly metric?: number
  readonly tos?: number
  /** `onlink` is the one flag a caller sets; kernel state flags are ignored. */
  readonly flags?: readonly string[]
  readonly onlink?: boolean
  readonly metrics?: RouteMetrics
  readonly pref?: 'low' | 'medium' | 'high' | string
  /** IPv6 only: lifetime in seconds. */
  readonly expires?: number
  readonly nexthops?: readonly NexthopSpec[]
  /** Use nexthop object N (`ip route ... nhid N`); gateway, dev and nexthops are then the object's and not sent. */
  readonly nhid?: number
  // Decoded-only fields, accepted (and ignored) so that get() answers can be passed back.
  readonly iif?: string
  readonly uid?: number
  readonly mark?: number
}

export interface RouteFilter {
  /** `all`, a name or an id; default `main` (as `ip route show`). */
  readonly table?: string | number
  readonly family?: FamilyName
  /** Routes through this device (also as one of several nexthops). */
  readonly dev?: LinkRef
  /** Exactly this prefix (`ip route show exact PREFIX`, the default of `ip route show PREFIX`). */
  readonly dst?: string
  /** Routes inside this prefix (`ip route show root PREFIX`). */
  readonly root?: string
  /** Routes that contain this prefix or address (`ip route show match PREFIX`). */
  readonly match?: string
  readonly protocol?: string | number
  readonly type?: RouteTypeName | string
  readonly scope?: string | number
  readonly gateway?: string
}

export interface RouteGetOptions extends CallOptions {
  /** Source address (`ip route get ... from`). */
  readonly from?: string
  /** Incoming interface (`iif`); needs `from`. */
  readonly iif?: LinkRef
  /** Outgoing interface (`oif`). */
  readonly oif?: LinkRef
  readonly mark?: number
  readonly tos?: number
  /** Return the FIB entry that matched instead of the resolved result (`ip route get ... fibmatch`). */
  readonly fibmatch?: boolean
}

export interface RouteBatchOptions extends CallOptions {
  /** Largest datagram to send (default 64 KiB). */
  readonly datagramBytes?: number
}

export interface RouteBatchResult {
  /** How many requests were sent. */
  readonly sent: number
}
