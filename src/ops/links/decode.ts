// RTM_NEWLINK / RTM_DELLINK payload → Link, shaped like `ip -d -j link show`.
import { Attrs, formatIPv4, formatIPv6, formatMac, type RawMessage, readCString } from '../../netlink/codec.js'
import { NsnetError } from '../../netlink/errors.js'
import { freeze } from '../context.js'
import { IFINFOMSG_LEN } from '../rtnl.js'
import {
  IFF_RUNNING,
  IFF_UP,
  IFLA_ADDRESS,
  IFLA_ALLMULTI,
  IFLA_ALT_IFNAME,
  IFLA_BROADCAST,
  IFLA_CARRIER,
  IFLA_CARRIER_CHANGES,
  IFLA_GRO_IPV4_MAX_SIZE,
  IFLA_GRO_MAX_SIZE,
  IFLA_GROUP,
  IFLA_GSO_IPV4_MAX_SIZE,
  IFLA_GSO_MAX_SEGS,
  IFLA_GSO_MAX_SIZE,
  IFLA_IFALIAS,
  IFLA_IFNAME,
  IFLA_INFO_DATA,
  IFLA_INFO_KIND,
  IFLA_INFO_MAX,
  IFLA_INFO_SLAVE_DATA,
  IFLA_INFO_SLAVE_KIND,
  IFLA_KNOWN_MAX,
  IFLA_LINK,
  IFLA_LINK_NETNSID,
  IFLA_LINKINFO,
  IFLA_LINKMODE,
  IFLA_MASTER,
  IFLA_MAX_MTU,
  IFLA_MIN_MTU,
  IFLA_MTU,
  IFLA_NUM_RX_QUEUES,
  IFLA_NUM_TX_QUEUES,
  IFLA_OPERSTATE,
  IFLA_PARENT_DEV_BUS_NAME,
  IFLA_PARENT_DEV_NAME,
  IFLA_PERM_ADDRESS,
  IFLA_PROMISCUITY,
  IFLA_PROP_LIST,
  IFLA_PROTO_DOWN,
  IFLA_QDISC,
  IFLA_TSO_MAX_SEGS,
  IFLA_TSO_MAX_SIZE,
  IFLA_TXQLEN,
  LINK_FLAG_NAMES,
} from './attrs.js'
import { kindCodec, type Names, nameOfIndex, portCodec } from './kinds/index.js'
import { decodeStats64, IFLA_STATS64 } from './stats.js'
import type { Link } from './types.js'

const OPERSTATES = ['UNKNOWN', 'NOTPRESENT', 'DOWN', 'LOWERLAYERDOWN', 'TESTING', 'DORMANT', 'UP']
const LINKMODES = ['DEFAULT', 'DORMANT', 'TESTING']

// ARPHRD_* → the names iproute2 prints (lib/ll_types.c).
const ARPHRD_NAMES = new Map<number, string>([
  [0, 'netrom'],
  [1, 'ether'],
  [2, 'eether'],
  [3, 'ax25'],
  [4, 'pronet'],
  [5, 'chaos'],
  [6, 'ieee802'],
  [7, 'arcnet'],
  [8, 'atalk'],
  [15, 'dlci'],
  [19, 'atm'],
  [23, 'metricom'],
  [24, 'ieee1394'],
  [27, 'eui64'],
  [32, 'infiniband'],
  [256, 'slip'],
  [257, 'cslip'],
  [258, 'slip6'],
  [259, 'cslip6'],
  [260, 'rsrvd'],
  [264, 'adapt'],
  [270, 'rose'],
  [271, 'x25'],
  [272, 'hwx25'],
  [280, 'can'],
  [290, 'mctp'],
  [512, 'ppp'],
  [513, 'hdlc'],
  [516, 'lapb'],
  [517, 'ddcmp'],
  [518, 'rawhdlc'],
  [519, 'rawip'],
  [768, 'ipip'],
  [769, 'tunnel6'],
  [770, 'frad'],
  [771, 'skip'],
  [772, 'loopback'],
  [773, 'ltalk'],
  [774, 'fddi'],
  [775, 'bif'],
  [776, 'sit'],
  [777, 'ip/ddp'],
  [778, 'gre'],
  [779, 'pimreg'],
  [780, 'hippi'],
  [781, 'ash'],
  [782, 'econet'],
  [783, 'irda'],
  [784, 'fcpp'],
  [785, 'fcal'],
  [786, 'fcpl'],
  [787, 'fcfb0'],
  [800, 'tr'],
  [801, 'ieee802.11'],
  [802, 'ieee802.11/prism'],
  [803, 'ieee802.11/radiotap'],
  [804, 'ieee802.15.4'],
  [805, 'ieee802.15.4/monitor'],
  [820, 'phonet'],
  [821, 'phonet_pipe'],
  [822, 'caif'],
  [823, 'gre6'],
  [824, 'netlink'],
  [825, '6lowpan'],
  [826, 'vsockmon'],
  [0xfffe, 'none'],
  [0xffff, 'void'],
])
const ARPHRD_TUNNEL = 768,
  ARPHRD_SIT = 776,
  ARPHRD_IPGRE = 778,
  ARPHRD_TUNNEL6 = 769,
  ARPHRD_IP6GRE = 823

/** ifi_flags as `ip link` prints them (see Link.flags). */
export function linkFlagNames(flags: number): string[] {
  const out: string[] = []
  if (flags & IFF_UP && !(flags & IFF_RUNNING)) out.push('NO-CARRIER')
  let rest = flags & ~IFF_RUNNING
  for (const [bit, name] of LINK_FLAG_NAMES) {
    if (rest & bit) {
      out.push(name)
      rest &= ~bit
    }
  }
  if (rest) out.push((rest >>> 0).toString(16))
  return out
}

/** A link-layer address as ip prints it: IPv4/IPv6 text for IP tunnels, else colon hex. */
function linkAddress(a: Attrs, attr: number, type: number): string | undefined {
  const len = a.length(attr)
  if (len < 0) return undefined
  const o = a.offset(attr)
  if (len === 4 && (type === ARPHRD_TUNNEL || type === ARPHRD_SIT || type === ARPHRD_IPGRE)) return formatIPv4(a.buf, o)
  if (len === 16 && (type === ARPHRD_TUNNEL6 || type === ARPHRD_IP6GRE)) return formatIPv6(a.buf, o)
  return formatMac(a.buf, o, len)
}

/** A Link before freezing: list()/get() still add M-DOWN to its flags. */
export type MutableLink = { -readonly [K in keyof Link]: Link[K] } & { flags: string[] }

/**
 * Decodes one link message into a mutable object (frozen by decodeLink). Names of other
 * devices (master, parent, vxlan dev...) come from `names`; missing ones read `if<N>`, as ip.
 * Built as one object literal, so every Link shares a shape; absent fields are undefined
 * (JSON and deep equality treat them as missing).
 */
export function decodeLinkObject(m: RawMessage, names?: Names): MutableLink {
  if (m.end - m.start < IFINFOMSG_LEN) {
    throw new NsnetError(`link message of ${m.end - m.start} bytes is shorter than ifinfomsg`, { code: 'EDECODE' })
  }
  const b = m.buf,
    s = m.start
  const type = b.readUInt16LE(s + 2)
  const ifindex = b.readInt32LE(s + 4)
  const a = new Attrs(b, s + IFINFOMSG_LEN, m.end, IFLA_KNOWN_MAX)
  const link = a.u32(IFLA_LINK) || undefined
  const netnsid = a.s32(IFLA_LINK_NETNSID)
  const master = a.u32(IFLA_MASTER)
  const oper = a.u8(IFLA_OPERSTATE)
  const mode = a.u8(IFLA_LINKMODE)
  const group = a.u32(IFLA_GROUP)
  const carrier = a.u8(IFLA_CARRIER)
  const linkinfo = a.nested(IFLA_LINKINFO, IFLA_INFO_MAX)
  const kind = linkinfo?.str(IFLA_INFO_KIND) || undefined
  const slaveKind = linkinfo?.str(IFLA_INFO_SLAVE_KIND) || undefined
  return {
    ifindex,
    link: link !== undefined && netnsid === undefined ? nameOfIndex(names, link) : undefined,
    link_index: link,
    ifname: a.str(IFLA_IFNAME) ?? `if${ifindex}`,
    flags: linkFlagNames(b.readUInt32LE(s + 8)),
    mtu: a.u32(IFLA_MTU),
    qdisc: a.str(IFLA_QDISC),
    master: master ? nameOfIndex(names, master) : undefined,
    operstate: oper === undefined ? undefined : (OPERSTATES[oper] ?? String(oper)),
    linkmode: mode === undefined ? undefined : (LINKMODES[mode] ?? String(mode)),
    group: group === undefined ? undefined : group === 0 ? 'default' : String(group),
    txqlen: a.u32(IFLA_TXQLEN),
    link_type: ARPHRD_NAMES.get(type) ?? `[${type}]`,
    address: linkAddress(a, IFLA_ADDRESS, type),
    broadcast: linkAddress(a, IFLA_BROADCAST, type),
    permaddr: linkAddress(a, IFLA_PERM_ADDRESS, type),
    link_netnsid: netnsid !== undefined && netnsid >= 0 ? netnsid : undefined,
    ifalias: a.str(IFLA_IFALIAS) || undefined,
    altnames: altnames(a),
    promiscuity: a.u32(IFLA_PROMISCUITY),
    allmulti: a.u32(IFLA_ALLMULTI),
    min_mtu: a.u32(IFLA_MIN_MTU),
    max_mtu: a.u32(IFLA_MAX_MTU),
    kind,
    info: kind ? kindInfo(kind, linkinfo!, names) : undefined,
    slaveKind,
    slaveInfo: slaveKind ? portInfo(slaveKind, linkinfo!) : undefined,
    num_tx_queues: a.u32(IFLA_NUM_TX_QUEUES),
    num_rx_queues: a.u32(IFLA_NUM_RX_QUEUES),
    gso_max_size: a.u32(IFLA_GSO_MAX_SIZE),
    gso_max_segs: a.u32(IFLA_GSO_MAX_SEGS),
    tso_max_size: a.u32(IFLA_TSO_MAX_SIZE),
    tso_max_segs: a.u32(IFLA_TSO_MAX_SEGS),
    gro_max_size: a.u32(IFLA_GRO_MAX_SIZE),
    gso_ipv4_max_size: a.u32(IFLA_GSO_IPV4_MAX_SIZE),
    gro_ipv4_max_size: a.u32(IFLA_GRO_IPV4_MAX_SIZE),
    carrier: carrier === undefined ? undefined : carrier !== 0,
    carrier_changes: a.u32(IFLA_CARRIER_CHANGES),
    stats64: a.has(IFLA_STATS64) ? decodeStats64(b, a.offset(IFLA_STATS64), a.length(IFLA_STATS64)) : undefined,
    proto_down: a.u8(IFLA_PROTO_DOWN) ? true : undefined,
    parentbus: a.str(IFLA_PARENT_DEV_BUS_NAME),
    parentdev: a.str(IFLA_PARENT_DEV_NAME),
    unknown: a.unknown(),
  }
}

function altnames(a: Attrs): string[] | undefined {
  const props = a.nested(IFLA_PROP_LIST, IFLA_ALT_IFNAME)
  if (!props) return undefined
  const out = props.all(IFLA_ALT_IFNAME).map(([off, len]) => readCString(a.buf, off, off + len))
  return out.length ? out : undefined
}

function kindInfo(kind: string, linkinfo: Attrs, names: Names | undefined): Record<string, unknown> | undefined {
  const codec = kindCodec(kind)
  const data = linkinfo.nested(IFLA_INFO_DATA, codec?.decode ? codec.dataMax : 0)
  if (!data) return undefined
  return codec?.decode ? codec.decode(data, names) : rawOnly(data)
}

function portInfo(kind: string, linkinfo: Attrs): Record<string, unknown> | undefined {
  const port = portCodec(kind)
  const data = linkinfo.nested(IFLA_INFO_SLAVE_DATA, port ? port.dataMax : 0)
  if (!data) return undefined
  return port ? port.decode(data) : rawOnly(data)
}

function rawOnly(a: Attrs): Record<string, unknown> {
  const u = a.unknown()
  return u ? { unknown: u } : {}
}

/**
 * Decodes an RTM_NEWLINK/RTM_DELLINK message into a frozen Link. `names` (ifindex → name)
 * turns master/parent indexes into names; without it they read `if<N>`, as `ip` prints them.
 */
export function decodeLink(m: RawMessage, names?: ReadonlyMap<number, string>): Link {
  return freezeLink(decodeLinkObject(m, names))
}

/** Adds M-DOWN when the parent (`link`, same namespace) is administratively down, as `ip link` does. */
export function markParentDown(o: MutableLink, parentUp: boolean | undefined): void {
  if (parentUp === false && o.link !== undefined) o.flags.push('M-DOWN')
}

/** Freezes a decoded link and what it holds; cheaper than a generic deep freeze over ~40 fields. */
export function freezeLink(o: MutableLink): Link {
  Object.freeze(o.flags)
  if (o.altnames) Object.freeze(o.altnames)
  if (o.info) freeze(o.info)
  if (o.slaveInfo) freeze(o.slaveInfo)
  if (o.unknown) freeze(o.unknown)
  return Object.freeze(o)
}
