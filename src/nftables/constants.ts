// nf_tables numbers, from <linux/netfilter/nfnetlink.h>, <linux/netfilter/nf_tables.h>,
// <linux/netfilter.h> and <linux/netfilter/nf_nat.h>. Attribute numbers of one expression
// live beside its codec in expressions.ts.
import { registerMessageType } from '../netlink/trace.js'

export const NETLINK_NETFILTER = 12
export const NFNETLINK_V0 = 0
export const NFNL_SUBSYS_NFTABLES = 10
export const NFNL_MSG_BATCH_BEGIN = 0x10
export const NFNL_MSG_BATCH_END = 0x11
export const NFNL_BATCH_GENID = 1
/** Bytes of struct nfgenmsg after the netlink header. */
export const NFGENMSG_LEN = 4

export const NFT_MSG_NEWTABLE = 0
export const NFT_MSG_GETTABLE = 1
export const NFT_MSG_DELTABLE = 2
export const NFT_MSG_NEWCHAIN = 3
export const NFT_MSG_GETCHAIN = 4
export const NFT_MSG_DELCHAIN = 5
export const NFT_MSG_NEWRULE = 6
export const NFT_MSG_GETRULE = 7
export const NFT_MSG_DELRULE = 8
export const NFT_MSG_NEWGEN = 15
export const NFT_MSG_GETGEN = 16

/** The netlink message type of an NFT_MSG_* inside the nftables subsystem. */
export const nftType = (msg: number): number => (NFNL_SUBSYS_NFTABLES << 8) | msg

// Families (nfgen_family), NFPROTO_*.
export const NFPROTO_INET = 1
export const NFPROTO_IPV4 = 2
export const NFPROTO_ARP = 3
export const NFPROTO_NETDEV = 5
export const NFPROTO_BRIDGE = 7
export const NFPROTO_IPV6 = 10

export const NFTA_TABLE_NAME = 1
export const NFTA_TABLE_FLAGS = 2
export const NFTA_TABLE_USE = 3
export const NFTA_TABLE_HANDLE = 4
export const NFTA_TABLE_MAX = 7

export const NFTA_CHAIN_TABLE = 1
export const NFTA_CHAIN_HANDLE = 2
export const NFTA_CHAIN_NAME = 3
export const NFTA_CHAIN_HOOK = 4
export const NFTA_CHAIN_POLICY = 5
export const NFTA_CHAIN_USE = 6
export const NFTA_CHAIN_TYPE = 7
export const NFTA_CHAIN_FLAGS = 10
export const NFTA_CHAIN_MAX = 12
export const NFTA_HOOK_HOOKNUM = 1
export const NFTA_HOOK_PRIORITY = 2
export const NFTA_HOOK_DEV = 3
export const NFTA_HOOK_MAX = 4

export const NFTA_RULE_TABLE = 1
export const NFTA_RULE_CHAIN = 2
export const NFTA_RULE_HANDLE = 3
export const NFTA_RULE_EXPRESSIONS = 4
export const NFTA_RULE_POSITION = 6
export const NFTA_RULE_USERDATA = 7
export const NFTA_RULE_MAX = 11
export const NFTA_LIST_ELEM = 1
export const NFTA_EXPR_NAME = 1
export const NFTA_EXPR_DATA = 2

export const NFTA_GEN_ID = 1

/** Longest table, chain or rule-target name: NFT_NAME_MAXLEN (256) less the NUL. */
export const NFT_NAME_MAX_BYTES = 255

// Hooks (NF_INET_*).
export const HOOKS = ['prerouting', 'input', 'forward', 'output', 'postrouting'] as const
export type Hook = (typeof HOOKS)[number]
export const CHAIN_TYPES = ['filter', 'nat', 'route'] as const
export type ChainType = (typeof CHAIN_TYPES)[number]

// Verdicts (NF_DROP, NF_ACCEPT and enum nft_verdicts).
export const NF_DROP = 0
export const NF_ACCEPT = 1
export const NFT_CONTINUE = -1
export const NFT_BREAK = -2
export const NFT_JUMP = -3
export const NFT_GOTO = -4
export const NFT_RETURN = -5

for (const [msg, name] of [
  [NFT_MSG_NEWTABLE, 'NFT_MSG_NEWTABLE'],
  [NFT_MSG_GETTABLE, 'NFT_MSG_GETTABLE'],
  [NFT_MSG_DELTABLE, 'NFT_MSG_DELTABLE'],
  [NFT_MSG_NEWCHAIN, 'NFT_MSG_NEWCHAIN'],
  [NFT_MSG_GETCHAIN, 'NFT_MSG_GETCHAIN'],
  [NFT_MSG_DELCHAIN, 'NFT_MSG_DELCHAIN'],
  [NFT_MSG_NEWRULE, 'NFT_MSG_NEWRULE'],
  [NFT_MSG_GETRULE, 'NFT_MSG_GETRULE'],
  [NFT_MSG_DELRULE, 'NFT_MSG_DELRULE'],
  [NFT_MSG_NEWGEN, 'NFT_MSG_NEWGEN'],
  [NFT_MSG_GETGEN, 'NFT_MSG_GETGEN'],
] as const)
  registerMessageType(nftType(msg), name, NFGENMSG_LEN)
// BATCH_BEGIN/END (0x10/0x11) are not registered: the trace keys by type alone, and those are RTM_NEWLINK/DELLINK.
