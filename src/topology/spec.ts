// The topology description: plain, JSON-serialisable data that says which namespaces,
// bridges, veth links, addresses, routes, sysctls, NAT rules, resolv.conf files and
// processes make up a lab. `validate()` turns it into a `ResolvedTopology` (every
// default filled in, every name checked) before anything is touched.
import type { IngressShapingSpec, ResolvedIngress, ResolvedShaping, ShapingSpec } from './shaping.js'

/** The node name that stands for the namespace the topology is applied from (never created or deleted). */
export const CURRENT_NODE = 'host'

/** An address: explicit CIDR (`10.0.0.1/24`) or the next free one from a named pool. */
export type AddressSpec = string | { readonly pool: string }

export interface PoolSpec {
  readonly name: string
  /** The subnet addresses are taken from, in order, e.g. `10.0.0.0/24` (network and broadcast skipped). */
  readonly subnet: string
}

export interface RouteSpec {
  /** `10.0.2.0/24`, `10.0.2.1`, or `default`. */
  readonly dst: string
  readonly via?: string
  /** An interface of the same node. */
  readonly dev?: string
  readonly scope?: 'global' | 'link' | 'host'
  readonly src?: string
  readonly metric?: number
  /** Routing table: main (default) or a number. */
  readonly table?: 'main' | number
}

export interface NatSpec {
  /** Source subnet to masquerade, e.g. `192.168.0.0/24`. */
  readonly masquerade: string
  /** The outgoing interface (in this node) the subnet is masqueraded out of. */
  readonly out: string
  /**
   * Who writes the rule: `auto` (default) and `nsnet` use nsnet's own nf_tables client
   * (no program needed); `nft` and `iptables` run that program in the namespace.
   */
  readonly backend?: 'auto' | 'nsnet' | 'nft' | 'iptables'
}

export interface DnsSpec {
  /** Written to /etc/netns/<namespace>/resolv.conf, which `ip netns exec` bind-mounts over /etc/resolv.conf. */
  readonly nameservers: readonly string[]
  readonly search?: readonly string[]
}

export interface ProcessSpec {
  /** Unique within the node; used in errors and in `lab.process(node, name)`. */
  readonly name: string
  /** argv, run inside the node's namespace. */
  readonly command: readonly string[]
  readonly env?: Readonly<Record<string, string>>
  /** Wait until this TCP port accepts connections (inside the namespace) before up() resolves. */
  readonly readyTcpPort?: number
  /** Wait until the process prints this text on stdout or stderr before up() resolves. */
  readonly readyText?: string
}

export interface HostSpec {
  /** Node name; the namespace is `<prefix><name>`. `host` means the current namespace. */
  readonly name: string
  /** Bring `lo` up (default true). */
  readonly lo?: boolean
  /** Shorthand for net.ipv4.ip_forward=1 and net.ipv6.conf.all.forwarding=1. */
  readonly forwarding?: boolean
  /** Only net.* keys (the ones that belong to a network namespace). */
  readonly sysctls?: Readonly<Record<string, string | number | boolean>>
  /** Default route: an address, or the name of a node whose address on a shared subnet is the gateway. */
  readonly gateway?: string
  readonly routes?: readonly RouteSpec[]
  readonly nat?: readonly NatSpec[]
  readonly dns?: DnsSpec
  readonly processes?: readonly ProcessSpec[]
}

export interface BridgeSpec {
  /** Interface name of the bridge (and its node name for links). */
  readonly name: string
  /** The host node it lives in (default `host`, the current namespace). */
  readonly in?: string
  readonly addresses?: readonly AddressSpec[]
  readonly mtu?: number
  /** `linux` (default) is a kernel bridge; `ovs` an Open vSwitch bridge (see SwitchSpec). */
  readonly kind?: 'linux' | 'ovs'
  /** A Linux bridge that filters by VLAN (`vlan_filtering 1`), so its ports take `vlans`. */
  readonly vlanFiltering?: boolean
}

/**
 * The VLANs of a switch port (the link end on a bridge or switch): `pvid` is the access VLAN
 * (untagged frames in, and out unless `untagged: false`), `tagged` the trunk's VLANs. On an
 * Open vSwitch port these are `tag=` and `trunks=`; on a Linux bridge `bridge vlan add`.
 */
export interface PortVlansSpec {
  readonly pvid?: number
  readonly untagged?: boolean
  readonly tagged?: readonly number[]
}

/**
 * An Open vSwitch bridge (`ovs-vsctl add-br`), with the userspace datapath; its links become
 * its ports (`ovs-vsctl add-port`). up() starts a private ovsdb-server and ovs-vswitchd in the
 * switch's host namespace; down() and reap remove them and the bridge.
 */
export interface SwitchSpec {
  readonly name: string
  readonly kind?: 'ovs'
  readonly in?: string
  readonly addresses?: readonly AddressSpec[]
  readonly mtu?: number
  readonly datapathType?: 'netdev'
}

/** Egress shaping of an end (Mininet's TCLink): rate, burst, limit, delay, jitter, loss. */
export interface EndSpec extends ShapingSpec {
  /** A host or a bridge. */
  readonly node: string
  /** Interface name of this end (default: `eth<n>` in a namespace, `v-<peer>` on a bridge or in the current namespace). */
  readonly ifname?: string
  readonly addresses?: readonly AddressSpec[]
  readonly mac?: string
  /** For an end on a bridge or switch: the port's VLANs. */
  readonly vlans?: PortVlansSpec
  /**
   * Shaping of what arrives at this end (the other direction of its own egress shaping): an
   * ifb in its namespace that the end's ingress is redirected to, with a tbf on it.
   */
  readonly ingress?: IngressShapingSpec
}

/** A veth pair between two nodes. A string end is `{ node }`. */
/** Shaping on a link applies to both ends' egress; an end's own values win for that end. */
export interface LinkSpec extends ShapingSpec {
  readonly a: string | EndSpec
  readonly b: string | EndSpec
  readonly mtu?: number
}

export interface TopologySpec {
  /** A label for drawings and the run marker. */
  readonly name?: string
  /** Prepended to every namespace name, so labs of parallel workers do not collide. */
  readonly prefix?: string
  readonly pools?: readonly PoolSpec[]
  readonly hosts?: readonly HostSpec[]
  readonly bridges?: readonly BridgeSpec[]
  /** Open vSwitch bridges; a node name like a bridge's. */
  readonly switches?: readonly SwitchSpec[]
  readonly links?: readonly LinkSpec[]
}

// ---------- the resolved form (output of validate) ----------

export interface ResolvedRoute {
  readonly family: 4 | 6
  /** `default` or a canonical CIDR. */
  readonly dst: string
  readonly via?: string
  readonly dev?: string
  readonly scope?: 'global' | 'link' | 'host'
  readonly src?: string
  readonly metric?: number
  readonly table?: number
}

export interface ResolvedNat {
  readonly masquerade: string
  readonly out: string
  readonly backend: 'auto' | 'nsnet' | 'nft' | 'iptables'
}

export interface ResolvedProcess {
  readonly name: string
  readonly command: readonly string[]
  readonly env?: Readonly<Record<string, string>>
  readonly readyTcpPort?: number
  readonly readyText?: string
}

export interface ResolvedHost {
  readonly node: string
  /** The namespace name, or null for the current namespace. */
  readonly netns: string | null
  readonly lo: boolean
  /** [key, value] in the order they are applied. */
  readonly sysctls: ReadonlyArray<readonly [string, string]>
  readonly routes: readonly ResolvedRoute[]
  readonly nat: readonly ResolvedNat[]
  readonly dns?: { readonly nameservers: readonly string[]; readonly search: readonly string[] }
  readonly processes: readonly ResolvedProcess[]
}

export interface ResolvedBridge {
  readonly node: string
  /** The host node it lives in. */
  readonly host: string
  readonly addresses: readonly string[]
  readonly mtu?: number
  /** Set for an Open vSwitch bridge. */
  readonly kind?: 'ovs'
  readonly vlanFiltering?: true
}

export interface ResolvedEnd {
  /** The node the link was drawn to (a host or a bridge). */
  readonly node: string
  /** The host node whose namespace holds this interface. */
  readonly host: string
  readonly ifname: string
  /** The bridge this end is a port of. */
  readonly master?: string
  /** The Open vSwitch bridge this end is a port of (instead of master). */
  readonly switch?: string
  readonly addresses: readonly string[]
  readonly mac?: string
  /** Egress shaping of this end (tbf, and netem where the kernel has it). */
  readonly shaping?: ResolvedShaping
  /** Shaping of what arrives at this end, through the ifb named there. */
  readonly ingress?: ResolvedIngress
  readonly vlans?: PortVlansSpec
}

export interface ResolvedVeth {
  readonly index: number
  readonly a: ResolvedEnd
  readonly b: ResolvedEnd
  readonly mtu?: number
}

export interface ResolvedTopology {
  readonly name: string
  readonly prefix: string
  /** Hosts in spec order; the current namespace comes first when anything lives in it. */
  readonly hosts: readonly ResolvedHost[]
  readonly bridges: readonly ResolvedBridge[]
  readonly veths: readonly ResolvedVeth[]
}
