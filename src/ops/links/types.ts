// Public types of the link operations: the decoded Link, the add() specs per kind,
// and the changes set() takes. All plain JSON.

import type { RawAttribute } from '../../netlink/codec.js'
import type { CallOptions } from '../../netlink/engine.js'
import type { LinkRef } from '../context.js'
import type { NamespaceRef } from '../netns-ref.js'
import type { LinkStats64 } from './stats.js'

export type { LinkRef } from '../context.js'
export type { NamespaceRef } from '../netns-ref.js'

/** RFC 2863 operational state, as `ip` prints it. */
export type OperState = 'UNKNOWN' | 'NOTPRESENT' | 'DOWN' | 'LOWERLAYERDOWN' | 'TESTING' | 'DORMANT' | 'UP'

/**
 * One network device, shaped like an element of `ip -d -j link show` (same field names
 * where ip has one), plus `kind`/`info` (the kind and its decoded IFLA_INFO_DATA, camelCase).
 * Fields the kernel did not report are absent, never 0 or ''.
 */
export interface Link {
  readonly ifindex: number
  readonly ifname: string
  /**
   * ifi_flags by name, in ip's order: NO-CARRIER (up without carrier) first, then LOOPBACK,
   * BROADCAST, POINTOPOINT, MULTICAST, NOARP, ..., UP, LOWER_UP, DORMANT, ECHO, leftover bits
   * as hex, and M-DOWN when the parent (`link`) is down (list() and get() only).
   */
  readonly flags: readonly string[]
  readonly mtu?: number
  readonly qdisc?: string
  /** Name of the master device (bridge, bond, vrf). */
  readonly master?: string
  readonly operstate?: OperState | string
  readonly linkmode?: 'DEFAULT' | 'DORMANT' | 'TESTING' | string
  /** `default` for group 0, else the number as text (as ip prints without /etc/iproute2/group). */
  readonly group?: string
  readonly txqlen?: number
  /** ARPHRD type: ether, loopback, none, ... (`[N]` when unnamed). */
  readonly link_type: string
  readonly address?: string
  readonly broadcast?: string
  readonly permaddr?: string
  /** Parent or peer (IFLA_LINK) by name, when it is in the same namespace. */
  readonly link?: string
  /** Parent or peer ifindex; in another namespace when link_netnsid is set. */
  readonly link_index?: number
  /** The peer's namespace id as seen from this namespace (cross-namespace veth). */
  readonly link_netnsid?: number
  readonly ifalias?: string
  readonly altnames?: readonly string[]
  readonly promiscuity?: number
  readonly allmulti?: number
  readonly min_mtu?: number
  readonly max_mtu?: number
  readonly num_tx_queues?: number
  readonly num_rx_queues?: number
  readonly gso_max_size?: number
  readonly gso_max_segs?: number
  readonly tso_max_size?: number
  readonly tso_max_segs?: number
  readonly gro_max_size?: number
  readonly gso_ipv4_max_size?: number
  readonly gro_ipv4_max_size?: number
  readonly carrier?: boolean
  readonly carrier_changes?: number
  /** Counters, as `ip -s -s -j link show` prints them (links.stats reads only these). */
  readonly stats64?: LinkStats64
  readonly proto_down?: boolean
  readonly parentbus?: string
  readonly parentdev?: string
  /** IFLA_INFO_KIND: 'veth', 'bridge', ...; absent for plain devices such as lo. */
  readonly kind?: LinkKind | string
  /** The kind's IFLA_INFO_DATA, decoded (see the *Info types); absent when the kernel reports none (veth). */
  readonly info?: LinkInfo
  /** Kind of the master this device is a port of (IFLA_INFO_SLAVE_KIND), e.g. 'bridge'. */
  readonly slaveKind?: string
  /** The port's data (IFLA_INFO_SLAVE_DATA), e.g. BridgePortInfo. */
  readonly slaveInfo?: { readonly [key: string]: unknown }
  /** Attributes nsnet has no name for, raw. */
  readonly unknown?: readonly RawAttribute[]
}

export type LinkKind = 'veth' | 'bridge' | 'vxlan' | 'macvlan' | 'vlan' | 'dummy' | 'ifb' | 'bond' | 'vrf' | 'ipvlan' | 'wireguard' | 'tun'

export type LinkInfo =
  | BridgeInfo
  | VxlanInfo
  | MacvlanInfo
  | VlanInfo
  | BondInfo
  | VrfInfo
  | IpvlanInfo
  | TunInfo
  | { readonly unknown?: readonly RawAttribute[] }

// ---------- add() specs ----------

/** What every kind of link accepts in add(). */
export interface LinkSpecBase {
  /** Interface name, 1..15 bytes. */
  readonly name: string
  readonly mtu?: number
  /** MAC address, `02:00:00:00:00:01`. */
  readonly address?: string
  readonly txqlen?: number
  /** ifalias (`ip link set ... alias`). */
  readonly alias?: string
  /** Enslave to this bridge/bond/vrf on creation. */
  readonly master?: LinkRef
  /** Create the device directly in this namespace. */
  readonly namespace?: NamespaceRef
  /** Bring it up on creation (`ip link add ... up`). */
  readonly up?: boolean
}

export interface VethPeerSpec {
  readonly name: string
  /** Create the peer in this namespace; default the caller's (not the device's) namespace. */
  readonly namespace?: NamespaceRef
  readonly address?: string
  readonly mtu?: number
  readonly txqlen?: number
}

export interface VethSpec extends LinkSpecBase {
  readonly kind: 'veth'
  readonly peer: VethPeerSpec
}

/**
 * Bridge options. Times are centiseconds (1/100 s), as the kernel and `ip -d -j` report
 * them and as iproute2 passes `forward_delay` etc. through: forwardDelay 1500 = 15 s.
 */
export interface BridgeOptions {
  /** Shorthand for stpState 1 (kernel STP) / 0. */
  readonly stp?: boolean
  readonly stpState?: number
  /** Centiseconds; the kernel accepts 200..3000 (2-30 s) when STP is on. */
  readonly forwardDelay?: number
  /** Centiseconds. */
  readonly helloTime?: number
  /** Centiseconds. */
  readonly maxAge?: number
  /** FDB entry lifetime, centiseconds (30000 = 300 s). */
  readonly ageingTime?: number
  readonly priority?: number
  readonly vlanFiltering?: boolean
  readonly vlanProtocol?: '802.1Q' | '802.1ad'
  readonly vlanDefaultPvid?: number
  readonly vlanStatsEnabled?: boolean
  readonly vlanStatsPerPort?: boolean
  readonly groupFwdMask?: number
  readonly groupAddr?: string
  readonly mcastSnooping?: boolean
  readonly mcastRouter?: number
  readonly mcastQuerier?: boolean
  readonly mcastQueryUseIfaddr?: boolean
  readonly mcastHashElasticity?: number
  readonly mcastHashMax?: number
  readonly mcastLastMemberCnt?: number
  readonly mcastStartupQueryCnt?: number
  /** The mcast*Intvl values are centiseconds. */
  readonly mcastLastMemberIntvl?: number
  readonly mcastMembershipIntvl?: number
  readonly mcastQuerierIntvl?: number
  readonly mcastQueryIntvl?: number
  readonly mcastQueryResponseIntvl?: number
  readonly mcastStartupQueryIntvl?: number
  readonly mcastStatsEnabled?: boolean
  readonly mcastIgmpVersion?: number
  readonly mcastMldVersion?: number
  readonly nfCallIptables?: boolean
  readonly nfCallIp6tables?: boolean
  readonly nfCallArptables?: boolean
  /** Most FDB entries learned (0 = no limit; kernel 6.8+). */
  readonly fdbMaxLearned?: number
}

export interface BridgeSpec extends LinkSpecBase, BridgeOptions {
  readonly kind: 'bridge'
}

export interface BridgeInfo extends Omit<BridgeOptions, 'stp'> {
  readonly bridgeId?: string
  readonly rootId?: string
  readonly rootPort?: number
  readonly rootPathCost?: number
  readonly topologyChange?: boolean
  readonly topologyChangeDetected?: boolean
  /** Timers, centiseconds. */
  readonly helloTimer?: number
  readonly tcnTimer?: number
  readonly topologyChangeTimer?: number
  readonly gcTimer?: number
  readonly fdbNLearned?: number
  readonly unknown?: readonly RawAttribute[]
}

/** A bridge port's slaveInfo. */
export interface BridgePortInfo {
  readonly state?: 'disabled' | 'listening' | 'learning' | 'forwarding' | 'blocking'
  readonly priority?: number
  readonly cost?: number
  readonly hairpin?: boolean
  readonly learning?: boolean
  readonly flood?: boolean
  readonly [key: string]: unknown
}

export interface VxlanOptions {
  /** VNI, 0..16777215. */
  readonly id: number
  /** Multicast group (needs `dev` in practice). */
  readonly group?: string
  /** Unicast remote endpoint. */
  readonly remote?: string
  readonly local?: string
  /** Underlay device. */
  readonly dev?: LinkRef
  /** UDP destination port; unset = kernel default 8472 (IANA is 4789). */
  readonly port?: number
  /** UDP source port range. */
  readonly portRange?: { readonly low: number; readonly high: number }
  readonly ttl?: number
  readonly tos?: number
  readonly learning?: boolean
  /** FDB ageing, seconds. */
  readonly ageing?: number
  /** Most FDB entries (IFLA_VXLAN_LIMIT; `maxaddress`). */
  readonly maxAddress?: number
  readonly proxy?: boolean
  readonly l2miss?: boolean
  readonly l3miss?: boolean
  readonly udpCsum?: boolean
}

export interface VxlanSpec extends LinkSpecBase, VxlanOptions {
  readonly kind: 'vxlan'
}

export interface VxlanInfo extends Partial<Omit<VxlanOptions, 'dev'>> {
  /** Underlay device name. */
  readonly dev?: string
  readonly external?: boolean
  readonly df?: 'unset' | 'set' | 'inherit'
  readonly [key: string]: unknown
}

export type MacvlanMode = 'private' | 'vepa' | 'bridge' | 'passthru' | 'source'

export interface MacvlanSpec extends LinkSpecBase {
  readonly kind: 'macvlan'
  /** Parent device. */
  readonly link: LinkRef
  readonly mode?: MacvlanMode
  /** Passthru only: do not put the parent into promiscuous mode. */
  readonly nopromisc?: boolean
  readonly nodst?: boolean
  readonly bcQueueLen?: number
}

export interface MacvlanInfo {
  readonly mode?: MacvlanMode
  readonly nopromisc?: boolean
  readonly nodst?: boolean
  readonly bcQueueLen?: number
  readonly usedBcQueueLen?: number
  readonly macaddrCount?: number
  readonly unknown?: readonly RawAttribute[]
}

export interface VlanFlags {
  readonly reorderHdr?: boolean
  readonly gvrp?: boolean
  readonly looseBinding?: boolean
  readonly mvrp?: boolean
  readonly bridgeBinding?: boolean
}

export interface VlanSpec extends LinkSpecBase, VlanFlags {
  readonly kind: 'vlan'
  /** Parent device. */
  readonly link: LinkRef
  /** VLAN id, 0..4094. */
  readonly id: number
  readonly protocol?: '802.1Q' | '802.1ad'
}

export interface VlanInfo extends VlanFlags {
  readonly id?: number
  readonly protocol?: '802.1Q' | '802.1ad'
  readonly ingressQos?: ReadonlyArray<{ readonly from: number; readonly to: number }>
  readonly egressQos?: ReadonlyArray<{ readonly from: number; readonly to: number }>
  readonly unknown?: readonly RawAttribute[]
}

export interface DummySpec extends LinkSpecBase {
  readonly kind: 'dummy'
}

/** `ip link add NAME type ifb`: where a mirred redirect sends ingress traffic to be shaped. */
export interface IfbSpec extends LinkSpecBase {
  readonly kind: 'ifb'
}

export type BondMode = 'balance-rr' | 'active-backup' | 'balance-xor' | 'broadcast' | '802.3ad' | 'balance-tlb' | 'balance-alb'

/** Bond options; times are milliseconds. */
export interface BondOptions {
  readonly mode?: BondMode
  readonly miimon?: number
  readonly updelay?: number
  readonly downdelay?: number
  readonly useCarrier?: boolean
  readonly arpInterval?: number
  readonly arpValidate?: 'none' | 'active' | 'backup' | 'all' | 'filter' | 'filter_active' | 'filter_backup'
  readonly arpAllTargets?: 'any' | 'all'
  readonly primaryReselect?: 'always' | 'better' | 'failure'
  readonly failOverMac?: 'none' | 'active' | 'follow'
  readonly xmitHashPolicy?: 'layer2' | 'layer3+4' | 'layer2+3' | 'encap2+3' | 'encap3+4' | 'vlan+srcmac'
  readonly resendIgmp?: number
  readonly numPeerNotif?: number
  readonly allSlavesActive?: boolean
  readonly minLinks?: number
  readonly lpInterval?: number
  readonly packetsPerSlave?: number
  readonly lacpRate?: 'slow' | 'fast'
  readonly adSelect?: 'stable' | 'bandwidth' | 'count'
  readonly adActorSysPrio?: number
  readonly adUserPortKey?: number
  readonly adActorSystem?: string
  readonly tlbDynamicLb?: boolean
  readonly peerNotifyDelay?: number
  readonly lacpActive?: boolean
  readonly missedMax?: number
}

export interface BondSpec extends LinkSpecBase, BondOptions {
  readonly kind: 'bond'
}

export interface BondInfo extends BondOptions {
  readonly activeSlave?: string
  readonly primary?: string
  readonly unknown?: readonly RawAttribute[]
}

export interface VrfSpec extends LinkSpecBase {
  readonly kind: 'vrf'
  /** Routing table id. */
  readonly table: number
}

export interface VrfInfo {
  readonly table?: number
  readonly unknown?: readonly RawAttribute[]
}

export interface IpvlanSpec extends LinkSpecBase {
  readonly kind: 'ipvlan'
  /** Parent device. */
  readonly link: LinkRef
  readonly mode?: 'l2' | 'l3' | 'l3s'
  readonly flags?: 'bridge' | 'private' | 'vepa'
}

export interface IpvlanInfo {
  readonly mode?: 'l2' | 'l3' | 'l3s'
  readonly flags?: 'bridge' | 'private' | 'vepa'
  readonly unknown?: readonly RawAttribute[]
}

/** Creates the device only; keys and peers are configured over wireguard's generic netlink. */
export interface WireguardSpec extends LinkSpecBase {
  readonly kind: 'wireguard'
}

export interface TunInfo {
  readonly type?: 'tun' | 'tap'
  readonly owner?: number
  readonly group?: number
  readonly pi?: boolean
  readonly vnetHdr?: boolean
  readonly persist?: boolean
  readonly multiQueue?: boolean
  readonly numQueues?: number
  readonly numDisabledQueues?: number
}

/** What add() takes: one spec per kind, told apart by `kind`. */
export type LinkSpec = VethSpec | BridgeSpec | VxlanSpec | MacvlanSpec | VlanSpec | DummySpec | IfbSpec | BondSpec | VrfSpec | IpvlanSpec | WireguardSpec

// ---------- set() ----------

/** What set() changes; `undefined` leaves a property as it is. */
export interface LinkChanges {
  /** Admin state: true = `ip link set up`, false = `down`. */
  readonly up?: boolean
  /** Rename (`ip link set ... name`). */
  readonly name?: string
  readonly mtu?: number
  /** MAC address. */
  readonly address?: string
  /** ifalias; '' or null clears it. */
  readonly alias?: string | null
  /** Enslave to this master; null = `nomaster`. */
  readonly master?: LinkRef | null
  readonly txqlen?: number
  /** Move the device into this namespace (`ip link set ... netns`). */
  readonly namespace?: NamespaceRef
  readonly promisc?: boolean
  readonly allmulticast?: boolean
  readonly multicast?: boolean
  /** false = `arp off` (IFF_NOARP). */
  readonly arp?: boolean
  readonly group?: number
  /** Kind options to change (`ip link set DEV type KIND ...`), named as in add() and `info`. */
  readonly info?: Readonly<Record<string, unknown>>
  /** Port options to change (`ip link set DEV type bridge_slave ...`), named as in `slaveInfo`. */
  readonly slaveInfo?: Readonly<Record<string, unknown>>
  /** The master's kind for slaveInfo; default 'bridge'. */
  readonly slaveKind?: string
}

/** What list() can narrow to (`ip link show type KIND master DEV`). */
export interface LinkFilter {
  readonly kind?: LinkKind | string
  /** Only the ports of this bridge/bond/vrf. */
  readonly master?: LinkRef
}

/** A link as set()/delete()/get()/waitUp() take it: name, ifindex, or a Link from list(). */
export type LinkTarget = LinkRef | Pick<Link, 'ifindex' | 'ifname'>

export interface WaitUpOptions extends CallOptions {
  /** Give up after this many ms (default 5000) with ETIMEDOUT. */
  readonly timeoutMs?: number
}
