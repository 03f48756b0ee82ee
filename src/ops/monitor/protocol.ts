// What the monitor's parent and its child process agree on: the event types, the
// multicast groups of each kind, the child's configuration and its exit codes.

import type { Address } from '../addresses/types.js'
import type { Link } from '../links/types.js'
import type { Neighbor } from '../neighbors/operations.js'
import type { Route } from '../routes/types.js'
import {
  RTNLGRP_IPV4_IFADDR,
  RTNLGRP_IPV4_ROUTE,
  RTNLGRP_IPV4_RULE,
  RTNLGRP_IPV6_IFADDR,
  RTNLGRP_IPV6_ROUTE,
  RTNLGRP_IPV6_RULE,
  RTNLGRP_LINK,
  RTNLGRP_NEIGH,
} from '../rtnl.js'
import type { Rule } from '../rules/operations.js'

export type MonitorKind = 'link' | 'address' | 'route' | 'neighbor' | 'rule'
export const MONITOR_KINDS: readonly MonitorKind[] = ['link', 'address', 'route', 'neighbor', 'rule']

export type MonitorAction = 'new' | 'del'

interface ObjectEvent<K extends MonitorKind, T> {
  readonly kind: K
  readonly action: MonitorAction
  readonly object: T
  /** Set on the state dump that follows an overrun: the object existed when the dump was taken. */
  readonly resync?: true
}

export type MonitorEvent =
  | ObjectEvent<'link', Link>
  | ObjectEvent<'address', Address>
  | ObjectEvent<'route', Route>
  | ObjectEvent<'neighbor', Neighbor>
  | ObjectEvent<'rule', Rule>
  /** Notifications were lost (the kernel's queue for us overflowed); a resync follows. */
  | { readonly kind: 'overrun' }
  /** The resync dump is complete: what came with `resync: true` is the whole current state. */
  | { readonly kind: 'synced' }
  /** A notification nsnet could not decode; kept so nothing is dropped silently. */
  | { readonly kind: 'undecodable'; readonly type: number; readonly error: string }

/** Internal lines of the child protocol, never yielded to the caller. */
export type ChildControl =
  | { readonly kind: 'ready'; readonly receiveBufferBytes: number }
  | { readonly kind: 'fatal'; readonly error: string; readonly code?: string }

export interface ChildConfig {
  readonly kinds: readonly MonitorKind[]
  /** Requested SO_RCVBUF of the multicast socket. */
  readonly receiveBufferBytes?: number
  /** Dump the current state as `resync: true` events, then `synced`. */
  readonly resync: boolean
  /** Unwritten output (bytes) at which the child gives up and reports an overrun; default 16 MiB. */
  readonly maxBacklogBytes?: number
}

/** The child exits with this after it reported an overrun. */
export const EXIT_OVERRUN = 75

/** Multicast groups per kind (both families). */
export const KIND_GROUPS: Readonly<Record<MonitorKind, readonly number[]>> = {
  link: [RTNLGRP_LINK],
  address: [RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR],
  route: [RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE],
  neighbor: [RTNLGRP_NEIGH],
  rule: [RTNLGRP_IPV4_RULE, RTNLGRP_IPV6_RULE],
}
