// tc numbers from <linux/rtnetlink.h>, <linux/pkt_sched.h>, <linux/pkt_cls.h>,
// <linux/gen_stats.h>, <linux/tc_act/tc_mirred.h>. Only what nsnet encodes or decodes.
import { registerMessageType } from '../../netlink/trace.js'

export const RTM_NEWQDISC = 36
export const RTM_DELQDISC = 37
export const RTM_GETQDISC = 38
export const RTM_NEWTCLASS = 40
export const RTM_DELTCLASS = 41
export const RTM_GETTCLASS = 42
export const RTM_NEWTFILTER = 44
export const RTM_DELTFILTER = 45
export const RTM_GETTFILTER = 46

/** struct tcmsg: family, pad, pad, ifindex, handle, parent, info. */
export const TCMSG_LEN = 20

for (const [type, name] of [
  [RTM_NEWQDISC, 'RTM_NEWQDISC'],
  [RTM_DELQDISC, 'RTM_DELQDISC'],
  [RTM_GETQDISC, 'RTM_GETQDISC'],
  [RTM_NEWTCLASS, 'RTM_NEWTCLASS'],
  [RTM_DELTCLASS, 'RTM_DELTCLASS'],
  [RTM_GETTCLASS, 'RTM_GETTCLASS'],
  [RTM_NEWTFILTER, 'RTM_NEWTFILTER'],
  [RTM_DELTFILTER, 'RTM_DELTFILTER'],
  [RTM_GETTFILTER, 'RTM_GETTFILTER'],
] as const)
  registerMessageType(type, name, TCMSG_LEN)

// enum TCA_*
export const TCA_KIND = 1
export const TCA_OPTIONS = 2
export const TCA_STATS = 3
export const TCA_XSTATS = 4
export const TCA_STATS2 = 7
export const TCA_CHAIN = 11
export const TCA_MAX = 16

// enum TCA_STATS_* (gen_stats.h)
export const TCA_STATS_BASIC = 1
export const TCA_STATS_QUEUE = 3
export const TCA_STATS_PKT64 = 8
export const TCA_STATS_MAX = 9

// Handles (pkt_sched.h)
export const TC_H_ROOT = 0xffffffff
export const TC_H_INGRESS = 0xfffffff1
export const TC_H_CLSACT = TC_H_INGRESS
export const TC_H_MIN_INGRESS = 0xfff2
export const TC_H_MIN_EGRESS = 0xfff3

// TBF
export const TCA_TBF_PARMS = 1
export const TCA_TBF_RTAB = 2
export const TCA_TBF_PTAB = 3
export const TCA_TBF_RATE64 = 4
export const TCA_TBF_PRATE64 = 5
export const TCA_TBF_BURST = 6
export const TCA_TBF_PBURST = 7
export const TCA_TBF_MAX = 8

// HTB
export const TCA_HTB_PARMS = 1
export const TCA_HTB_INIT = 2
export const TCA_HTB_CTAB = 3
export const TCA_HTB_RTAB = 4
export const TCA_HTB_DIRECT_QLEN = 5
export const TCA_HTB_RATE64 = 6
export const TCA_HTB_CEIL64 = 7
export const TCA_HTB_MAX = 10
export const TC_HTB_PROTOVER = 3

// NETEM (TCA_OPTIONS holds struct tc_netem_qopt, then these attributes)
export const TCA_NETEM_CORR = 1
export const TCA_NETEM_DELAY_DIST = 2
export const TCA_NETEM_REORDER = 3
export const TCA_NETEM_CORRUPT = 4
export const TCA_NETEM_LOSS = 5
export const TCA_NETEM_RATE = 6
export const TCA_NETEM_ECN = 7
export const TCA_NETEM_RATE64 = 8
export const TCA_NETEM_LATENCY64 = 10
export const TCA_NETEM_JITTER64 = 11
export const TCA_NETEM_MAX = 13
/** struct tc_netem_qopt: latency, limit, loss, gap, duplicate, jitter (u32 each). */
export const NETEM_QOPT_LEN = 24

// FQ_CODEL
export const TCA_FQ_CODEL_TARGET = 1
export const TCA_FQ_CODEL_LIMIT = 2
export const TCA_FQ_CODEL_INTERVAL = 3
export const TCA_FQ_CODEL_ECN = 4
export const TCA_FQ_CODEL_FLOWS = 5
export const TCA_FQ_CODEL_QUANTUM = 6
export const TCA_FQ_CODEL_CE_THRESHOLD = 7
export const TCA_FQ_CODEL_DROP_BATCH_SIZE = 8
export const TCA_FQ_CODEL_MEMORY_LIMIT = 9
export const TCA_FQ_CODEL_MAX = 11

// U32 (pkt_cls.h)
export const TCA_U32_CLASSID = 1
export const TCA_U32_HASH = 2
export const TCA_U32_LINK = 3
export const TCA_U32_DIVISOR = 4
export const TCA_U32_SEL = 5
export const TCA_U32_ACT = 7
export const TCA_U32_FLAGS = 11
export const TCA_U32_MAX = 12
export const TC_U32_TERMINAL = 1
/** struct tc_u32_sel without keys: flags, offshift, nkeys, pad, offmask(be16), off, offoff, hoff, hmask(be32). */
export const U32_SEL_LEN = 16
/** struct tc_u32_key: mask, val (be32), off, offmask (s32). */
export const U32_KEY_LEN = 16

// Actions (pkt_cls.h, tc_act/tc_mirred.h)
export const TCA_ACT_KIND = 1
export const TCA_ACT_OPTIONS = 2
export const TCA_ACT_INDEX = 3
export const TCA_ACT_STATS = 4
export const TCA_ACT_MAX = 10
export const TCA_MIRRED_PARMS = 2
export const TCA_MIRRED_MAX = 4
export const TC_ACT_OK = 0
export const TC_ACT_SHOT = 2
export const TC_ACT_STOLEN = 4
export const TC_ACT_PIPE = 3
export const TCA_EGRESS_REDIR = 1
export const TCA_EGRESS_MIRROR = 2
export const TCA_INGRESS_REDIR = 3
export const TCA_INGRESS_MIRROR = 4
/** struct tc_mirred: tc_gen (index, capab, action, refcnt, bindcnt) + eaction, ifindex. */
export const MIRRED_PARMS_LEN = 28

/** Ethernet protocols filters match on (if_ether.h), by the names tc prints. */
export const ETH_P: Readonly<Record<string, number>> = { all: 0x0003, ip: 0x0800, ipv6: 0x86dd, arp: 0x0806, '802.1Q': 0x8100 }
