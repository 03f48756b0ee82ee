// The objects tc operations return and take. Shaped like `tc -j -s qdisc/class/filter show`
// (handles as tc text, statistics flat beside the options), with two differences that keep
// list() output valid input: rates are bits/s (tc -j prints bytes/s), and every object names its dev.
import type { LinkRef } from '../context.js'
import type { TcHandle } from './handles.js'

/** The counters of TCA_STATS2 (`tc -s`): basic and queue statistics. */
export interface TcStats {
  readonly bytes: number
  readonly packets: number
  readonly drops: number
  readonly overlimits: number
  readonly requeues: number
  /** Bytes queued now. */
  readonly backlog: number
  /** Packets queued now. */
  readonly qlen: number
}

export interface Qdisc extends TcStats {
  readonly kind: string
  /** '5:' (tc prints the major only). */
  readonly handle: string
  readonly dev: string
  readonly ifindex: number
  /** Set for the device's root qdisc. */
  readonly root?: true
  /** The parent class when not root: '5:1', or 'ffff:fff1' for ingress/clsact. */
  readonly parent?: string
  readonly refcnt?: number
  /** The kind's options in tc -j's names; rates bits/s, sizes bytes, times µs. */
  readonly options: Readonly<Record<string, unknown>>
}

/** What qdiscs.add/replace/change/delete take; a Qdisc from list() is accepted as is. */
export interface QdiscSpec {
  /** The link, by name or ifindex. */
  readonly dev: LinkRef
  /** tbf, htb, ingress, clsact, pfifo, bfifo, netem, fq_codel (required except for delete). */
  readonly kind?: string
  /** '5:' / '5:0' or a number; unset lets the kernel pick (8001:, ...). */
  readonly handle?: TcHandle
  /** 'root' (default), a class '5:1', or 'ingress'; ingress and clsact need none. */
  readonly parent?: TcHandle
  readonly root?: boolean
  readonly options?: Readonly<Record<string, unknown>>
}

export interface TcClass extends TcStats {
  readonly kind: string
  /** The class id, '5:1'. */
  readonly handle: string
  readonly dev: string
  readonly ifindex: number
  readonly root?: true
  readonly parent?: string
  /** The qdisc attached below this class, '10:'. */
  readonly leaf?: string
  readonly options: Readonly<Record<string, unknown>>
  /** htb's own counters (TCA_XSTATS). */
  readonly lended?: number
  readonly borrowed?: number
  readonly giants?: number
  readonly tokens?: number
  readonly ctokens?: number
}

export interface ClassSpec {
  readonly dev: LinkRef
  /** The class id, '5:1' (`classid` in tc). */
  readonly handle?: TcHandle
  readonly classid?: TcHandle
  /** The parent qdisc or class, '5:' or '5:1'. */
  readonly parent?: TcHandle
  readonly root?: boolean
  /** htb (required except for delete). */
  readonly kind?: string
  readonly options?: Readonly<Record<string, unknown>>
}

export interface Filter {
  readonly dev: string
  readonly ifindex: number
  /** The qdisc or class the filter hangs on: '5:', 'ffff:'. */
  readonly parent: string
  /** 'all', 'ip', 'ipv6', 'arp' or the hex ethertype. */
  readonly protocol: string
  /** The priority (tc's `pref`/`prio`). */
  readonly pref: number
  readonly kind: string
  readonly chain?: number
  /** u32: fh, order, key_ht, bkt, flowid, match (keys), actions. */
  readonly options: Readonly<Record<string, unknown>>
}

export interface FilterSpec {
  readonly dev: LinkRef
  readonly parent: TcHandle
  /** Default 'all'. A name or an ethertype number. */
  readonly protocol?: string | number
  /** Priority 1..65535; unset lets the kernel choose (add) or means every priority (delete). */
  readonly pref?: number
  readonly prio?: number
  /** u32 (required except for delete). */
  readonly kind?: string
  /** The filter's own handle, '800::800' for u32 (list() puts it in options.fh). */
  readonly handle?: string | number
  readonly chain?: number
  /**
   * u32: `ip` ({ src, dst, protocol, sport, dport }) or `match` (raw keys as list() gives them),
   * `classid`/`flowid`, `actions` ([{ kind: 'mirred', to_dev: 'ifb0', direction?, mirred_action? }]).
   */
  readonly options?: Readonly<Record<string, unknown>>
}
