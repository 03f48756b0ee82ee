// Generic netlink constants, from <linux/netlink.h>. Nothing rtnetlink-specific lives here.

export const NETLINK_ROUTE = 0

export const NLMSG_HDRLEN = 16
export const NLA_HDRLEN = 4

// Message types below NLMSG_MIN_TYPE are control messages.
export const NLMSG_NOOP = 1
export const NLMSG_ERROR = 2
export const NLMSG_DONE = 3
export const NLMSG_OVERRUN = 4
export const NLMSG_MIN_TYPE = 0x10

// nlmsg_flags
export const NLM_F_REQUEST = 0x01
export const NLM_F_MULTI = 0x02
export const NLM_F_ACK = 0x04
export const NLM_F_ECHO = 0x08
export const NLM_F_DUMP_INTR = 0x10
export const NLM_F_DUMP_FILTERED = 0x20
// GET modifiers
export const NLM_F_ROOT = 0x100
export const NLM_F_MATCH = 0x200
export const NLM_F_ATOMIC = 0x400
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH
// NEW modifiers
export const NLM_F_REPLACE = 0x100
export const NLM_F_EXCL = 0x200
export const NLM_F_CREATE = 0x400
export const NLM_F_APPEND = 0x800
// ACK flags
export const NLM_F_CAPPED = 0x100
export const NLM_F_ACK_TLVS = 0x200

// nla_type high bits
export const NLA_F_NESTED = 1 << 15
export const NLA_F_NET_BYTEORDER = 1 << 14
export const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff

export const align4 = (n: number): number => (n + 3) & ~3
