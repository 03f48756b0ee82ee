// rtnetlink message types, families and multicast groups, from <linux/rtnetlink.h>.
// Attribute numbers live beside the module that uses them (links.ts, routes.ts, ...).
import { registerMessageType } from '../netlink/trace.js'

export const RTM_NEWLINK = 16
export const RTM_DELLINK = 17
export const RTM_GETLINK = 18
export const RTM_SETLINK = 19
export const RTM_NEWADDR = 20
export const RTM_DELADDR = 21
export const RTM_GETADDR = 22
export const RTM_NEWROUTE = 24
export const RTM_DELROUTE = 25
export const RTM_GETROUTE = 26
export const RTM_NEWNEIGH = 28
export const RTM_DELNEIGH = 29
export const RTM_GETNEIGH = 30
export const RTM_NEWRULE = 32
export const RTM_DELRULE = 33
export const RTM_GETRULE = 34
export const RTM_NEWNSID = 88
export const RTM_DELNSID = 89
export const RTM_GETNSID = 90

// Address families (<linux/socket.h>).
export const AF_UNSPEC = 0
export const AF_INET = 2
export const AF_BRIDGE = 7
export const AF_INET6 = 10
export const AF_PACKET = 17
export const AF_MPLS = 28

// Multicast groups (enum rtnetlink_groups): the number to pass to addMembership.
export const RTNLGRP_LINK = 1
export const RTNLGRP_NEIGH = 3
export const RTNLGRP_IPV4_IFADDR = 5
export const RTNLGRP_IPV4_ROUTE = 7
export const RTNLGRP_IPV4_RULE = 8
export const RTNLGRP_IPV6_IFADDR = 9
export const RTNLGRP_IPV6_ROUTE = 11
export const RTNLGRP_IPV6_RULE = 19
export const RTNLGRP_NSID = 28

// Fixed family headers: ifinfomsg 16, ifaddrmsg 8, rtmsg 12, ndmsg 12, fib_rule_hdr 12, rtgenmsg 4.
export const IFINFOMSG_LEN = 16
export const IFADDRMSG_LEN = 8
export const RTMSG_LEN = 12
export const NDMSG_LEN = 12
export const FIB_RULE_HDR_LEN = 12
export const RTGENMSG_LEN = 4

const names: Array<[number, string, number]> = [
  [RTM_NEWLINK, 'RTM_NEWLINK', IFINFOMSG_LEN],
  [RTM_DELLINK, 'RTM_DELLINK', IFINFOMSG_LEN],
  [RTM_GETLINK, 'RTM_GETLINK', IFINFOMSG_LEN],
  [RTM_SETLINK, 'RTM_SETLINK', IFINFOMSG_LEN],
  [RTM_NEWADDR, 'RTM_NEWADDR', IFADDRMSG_LEN],
  [RTM_DELADDR, 'RTM_DELADDR', IFADDRMSG_LEN],
  [RTM_GETADDR, 'RTM_GETADDR', IFADDRMSG_LEN],
  [RTM_NEWROUTE, 'RTM_NEWROUTE', RTMSG_LEN],
  [RTM_DELROUTE, 'RTM_DELROUTE', RTMSG_LEN],
  [RTM_GETROUTE, 'RTM_GETROUTE', RTMSG_LEN],
  [RTM_NEWNEIGH, 'RTM_NEWNEIGH', NDMSG_LEN],
  [RTM_DELNEIGH, 'RTM_DELNEIGH', NDMSG_LEN],
  [RTM_GETNEIGH, 'RTM_GETNEIGH', NDMSG_LEN],
  [RTM_NEWRULE, 'RTM_NEWRULE', FIB_RULE_HDR_LEN],
  [RTM_DELRULE, 'RTM_DELRULE', FIB_RULE_HDR_LEN],
  [RTM_GETRULE, 'RTM_GETRULE', FIB_RULE_HDR_LEN],
  [RTM_NEWNSID, 'RTM_NEWNSID', RTGENMSG_LEN],
  [RTM_DELNSID, 'RTM_DELNSID', RTGENMSG_LEN],
  [RTM_GETNSID, 'RTM_GETNSID', RTGENMSG_LEN],
]
for (const [type, name, len] of names) registerMessageType(type, name, len)

/** Our family numbers (4/6) to the kernel's AF_* and back. */
export function afOf(family: 4 | 6): number {
  return family === 4 ? AF_INET : AF_INET6
}
export function familyOfAf(af: number): 4 | 6 | undefined {
  return af === AF_INET ? 4 : af === AF_INET6 ? 6 : undefined
}

/**
 * The family of every object nsnet returns (links aside), as `ip -j` names it: the one family
 * type of the API (AddressFamily and RouteFamily are older names for it).
 */
export type InetFamily = 'inet' | 'inet6'

/** A family as callers may write it in filters and specs: InetFamily, or 4 / 6 for short. */
export type FamilyName = InetFamily | 4 | 6
export const inetFamily = (f: 4 | 6): InetFamily => (f === 4 ? 'inet' : 'inet6')

/** 4 or 6 for a FamilyName, undefined for undefined; anything else goes to `fail` with the message. */
export function familyNumber(v: unknown, fail: (summary: string) => never): 4 | 6 | undefined {
  if (v === undefined) return undefined
  if (v === 4 || v === 'inet') return 4
  if (v === 6 || v === 'inet6') return 6
  return fail(`family must be 'inet' or 'inet6' (or 4 / 6), got ${JSON.stringify(v)}`)
}
