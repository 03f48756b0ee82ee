// Numbers from <linux/if_link.h>, <linux/if.h> and <linux/if_arp.h> that link encoding and
// decoding share, and the writer for the per-device attributes a create message carries
// (used for the device itself and for a veth peer).
import type { Writer } from '../../netlink/codec.js'
import type { OpenNamespace } from '../netns-ref.js'

export const IFLA_ADDRESS = 1
export const IFLA_BROADCAST = 2
export const IFLA_IFNAME = 3
export const IFLA_MTU = 4
export const IFLA_LINK = 5
export const IFLA_QDISC = 6
export const IFLA_MASTER = 10
export const IFLA_TXQLEN = 13
export const IFLA_OPERSTATE = 16
export const IFLA_LINKMODE = 17
export const IFLA_LINKINFO = 18
export const IFLA_IFALIAS = 20
export const IFLA_GROUP = 27
export const IFLA_PROMISCUITY = 30
export const IFLA_NUM_TX_QUEUES = 31
export const IFLA_NUM_RX_QUEUES = 32
export const IFLA_CARRIER = 33
export const IFLA_CARRIER_CHANGES = 35
export const IFLA_LINK_NETNSID = 37
export const IFLA_PROTO_DOWN = 39
export const IFLA_GSO_MAX_SEGS = 40
export const IFLA_GSO_MAX_SIZE = 41
export const IFLA_MIN_MTU = 50
export const IFLA_MAX_MTU = 51
export const IFLA_PROP_LIST = 52
export const IFLA_ALT_IFNAME = 53
export const IFLA_PERM_ADDRESS = 54
export const IFLA_PARENT_DEV_NAME = 56
export const IFLA_PARENT_DEV_BUS_NAME = 57
export const IFLA_GRO_MAX_SIZE = 58
export const IFLA_TSO_MAX_SIZE = 59
export const IFLA_TSO_MAX_SEGS = 60
export const IFLA_ALLMULTI = 61
// Newer than the 6.1 headers, sent by this 6.18 kernel: named so they are not reported as unknown.
export const IFLA_DEVLINK_PORT = 62
export const IFLA_GSO_IPV4_MAX_SIZE = 63
export const IFLA_GRO_IPV4_MAX_SIZE = 64
export const IFLA_DPLL_PIN = 65
export const IFLA_MAX_PACING_OFFLOAD_HORIZON = 66
export const IFLA_NETNS_IMMUTABLE = 67
export const IFLA_HEADROOM = 68
export const IFLA_TAILROOM = 69
/** Highest IFLA_* we know by name; higher numbers are kept raw in `unknown`. */
export const IFLA_KNOWN_MAX = 69

export const IFLA_INFO_KIND = 1
export const IFLA_INFO_DATA = 2
export const IFLA_INFO_SLAVE_KIND = 4
export const IFLA_INFO_SLAVE_DATA = 5
export const IFLA_INFO_MAX = 5

/** struct ifinfomsg: family u8, pad u8, type u16, index s32, flags u32, change u32. */
export function writeIfinfomsg(w: Writer, index = 0, flags = 0, change = 0): void {
  w.u8(0).u8(0).u16(0).s32(index).u32(flags).u32(change)
}

// ifi_flags (<linux/if.h>), in the order `ip link` prints them.
export const IFF_UP = 0x1
export const IFF_RUNNING = 0x40
export const IFF_NOARP = 0x80
export const IFF_PROMISC = 0x100
export const IFF_ALLMULTI = 0x200
export const IFF_MULTICAST = 0x1000
export const LINK_FLAG_NAMES: ReadonlyArray<readonly [number, string]> = [
  [0x8, 'LOOPBACK'],
  [0x2, 'BROADCAST'],
  [0x10, 'POINTOPOINT'],
  [IFF_MULTICAST, 'MULTICAST'],
  [IFF_NOARP, 'NOARP'],
  [IFF_ALLMULTI, 'ALLMULTI'],
  [IFF_PROMISC, 'PROMISC'],
  [0x400, 'MASTER'],
  [0x800, 'SLAVE'],
  [0x4, 'DEBUG'],
  [0x8000, 'DYNAMIC'],
  [0x4000, 'AUTOMEDIA'],
  [0x2000, 'PORTSEL'],
  [0x20, 'NOTRAILERS'],
  [IFF_UP, 'UP'],
  [0x10000, 'LOWER_UP'],
  [0x20000, 'DORMANT'],
  [0x40000, 'ECHO'],
]

/** The device attributes of a create (or peer) message, already validated and resolved. */
export interface DeviceAttrs {
  readonly name: string
  readonly mtu?: number
  readonly address?: Uint8Array
  readonly txqlen?: number
  readonly alias?: string
  readonly masterIndex?: number
  readonly namespace?: OpenNamespace
  readonly linkIndex?: number
}

/**
 * Writes the device attributes in the order `ip link add` sends them for options given
 * in this order (mtu, address, txqueuelen, alias, master, netns, link, name), so the
 * bytes can be compared with iproute2's.
 */
export function writeDeviceAttrs(w: Writer, d: DeviceAttrs): void {
  if (d.mtu !== undefined) w.attrU32(IFLA_MTU, d.mtu)
  if (d.address) w.attrBytes(IFLA_ADDRESS, d.address)
  if (d.txqlen !== undefined) w.attrU32(IFLA_TXQLEN, d.txqlen)
  if (d.alias !== undefined) writeAlias(w, d.alias)
  if (d.masterIndex !== undefined) w.attrU32(IFLA_MASTER, d.masterIndex)
  d.namespace?.write(w)
  if (d.linkIndex !== undefined) w.attrU32(IFLA_LINK, d.linkIndex)
  w.attrStr(IFLA_IFNAME, d.name)
}

/** IFLA_IFALIAS without a NUL, as iproute2 sends it; an empty alias clears it. */
export function writeAlias(w: Writer, alias: string): void {
  w.attrBytes(IFLA_IFALIAS, Buffer.from(alias, 'utf8'))
}
