// Route attribute numbers, flags and metric names, from <linux/rtnetlink.h> and <linux/icmpv6.h>.

export const RTA_DST = 1
export const RTA_SRC = 2
export const RTA_IIF = 3
export const RTA_OIF = 4
export const RTA_GATEWAY = 5
export const RTA_PRIORITY = 6
export const RTA_PREFSRC = 7
export const RTA_METRICS = 8
export const RTA_MULTIPATH = 9
export const RTA_FLOW = 11
export const RTA_CACHEINFO = 12
export const RTA_TABLE = 15
export const RTA_MARK = 16
export const RTA_VIA = 18
export const RTA_PREF = 20
export const RTA_ENCAP_TYPE = 21
export const RTA_ENCAP = 22
export const RTA_EXPIRES = 23
export const RTA_UID = 25
export const RTA_NH_ID = 30
export const RTA_MAX = 30

// rtnh_flags; for a single-path route the kernel puts them in rtm_flags too.
export const RTNH_F_DEAD = 1
export const RTNH_F_PERVASIVE = 2
export const RTNH_F_ONLINK = 4
export const RTNH_F_OFFLOAD = 8
export const RTNH_F_LINKDOWN = 16
export const RTNH_F_UNRESOLVED = 32
export const RTNH_F_TRAP = 64

export const RTM_F_NOTIFY = 0x100
export const RTM_F_CLONED = 0x200
export const RTM_F_LOOKUP_TABLE = 0x1000
export const RTM_F_FIB_MATCH = 0x2000
export const RTM_F_OFFLOAD = 0x4000
export const RTM_F_TRAP = 0x8000
export const RTM_F_OFFLOAD_FAILED = 0x20000000

/** Flag bits in the order `ip` prints them, with its words. */
export const ROUTE_FLAG_NAMES: ReadonlyArray<readonly [number, string]> = [
  [RTNH_F_DEAD, 'dead'],
  [RTNH_F_ONLINK, 'onlink'],
  [RTNH_F_PERVASIVE, 'pervasive'],
  [RTNH_F_OFFLOAD, 'offload'],
  [RTNH_F_TRAP, 'trap'],
  [RTM_F_NOTIFY, 'notify'],
  [RTNH_F_LINKDOWN, 'linkdown'],
  [RTNH_F_UNRESOLVED, 'unresolved'],
  [RTM_F_OFFLOAD, 'rt_offload'],
  [RTM_F_TRAP, 'rt_trap'],
  [RTM_F_OFFLOAD_FAILED, 'rt_offload_failed'],
]

// RTAX_*: index = attribute number inside RTA_METRICS.
export const RTAX_LOCK = 1
// The kernel keeps rtt in 1/8 ms and rttvar in 1/4 ms; `ip` shows and takes milliseconds.
export const RTAX_RTT = 4
export const RTAX_RTTVAR = 5
export const METRIC_SCALE: Readonly<Record<number, number>> = { [RTAX_RTT]: 8, [RTAX_RTTVAR]: 4 }
export const RTAX_HOPLIMIT = 10
export const RTAX_CC_ALGO = 16
export const METRIC_NAMES: readonly (string | undefined)[] = [
  undefined,
  'lock',
  'mtu',
  'window',
  'rtt',
  'rttvar',
  'ssthresh',
  'cwnd',
  'advmss',
  'reordering',
  'hoplimit',
  'initcwnd',
  'features',
  'rto_min',
  'initrwnd',
  'quickack',
  'congctl',
  'fastopen_no_cookie',
]
export const RTAX_MAX = METRIC_NAMES.length - 1

// RTA_PREF (ICMPV6_ROUTER_PREF_*).
export const PREF_NAMES: Readonly<Record<number, string>> = { 0: 'medium', 1: 'high', 3: 'low' }
export const PREF_VALUES: Readonly<Record<string, number>> = { medium: 0, high: 1, low: 3 }

// struct rtnexthop: len u16, flags u8, hops u8, ifindex s32.
export const RTNEXTHOP_LEN = 8
// struct rta_cacheinfo: rta_expires is the third u32, in USER_HZ ticks.
export const CACHEINFO_EXPIRES_OFFSET = 8
/** sizeof(struct rta_cacheinfo): eight u32s. */
export const RTA_CACHEINFO_LEN = 32
export const USER_HZ = 100
