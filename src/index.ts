// The public surface of nsnet.
export { Rtnl, type RtnlOptions } from './rtnl.js'
export type { RtnlApi, ApiOf, NftApi, TcApi, BridgeApi } from './api.js'
export {
  NsnetError, BatchError, isNsnetError, NSNET_CODES, type NsnetErrorCode, type NsnetOwnCode, type ErrnoCode, type ErrorContext,
} from './netlink/errors.js'
export type { InetFamily, FamilyName } from './ops/rtnl.js'
export { NetlinkSocket, type Request, type CallOptions, type DumpOptions, type BatchOptions } from './netlink/engine.js'
export {
  netns, NetnsHandle, type NetnsInfo, type NsidInfo, type DeleteOptions, type ExecOptions, type ExecResult,
  type NamedExecResult, type SpawnInOptions, type HelperOptions, type Remote, type NetnsSysctl, type NetnsFiles, type SysctlValue,
} from './netns/index.js'
export {
  decodeLink, type Link, type LinkSpec, type LinkChanges, type LinkTarget, type LinkKind, type LinkInfo, type NamespaceRef,
  type WaitUpOptions, type VethSpec, type BridgeSpec, type VxlanSpec, type MacvlanSpec, type VlanSpec, type DummySpec, type IfbSpec,
  type BondSpec, type VrfSpec, type IpvlanSpec, type WireguardSpec, type BridgeInfo, type BridgePortInfo, type VxlanInfo,
  type MacvlanInfo, type VlanInfo, type BondInfo, type VrfInfo, type IpvlanInfo, type TunInfo,
} from './ops/links/operations.js'
export type { LinkStats64, LinkRxStats, LinkTxStats } from './ops/links/stats.js'
export {
  decodeAddress, type Address, type AddressFamily, type AddressFlag, type SettableAddressFlag, type AddressOptions,
  type AddressFilter, type FlushSelector, type WaitReadyOptions,
} from './ops/addresses/operations.js'
export {
  decodeRoute, type Route, type RouteFamily, type RouteTypeName, type RouteMetrics, type RouteVia, type Nexthop,
  type NexthopSpec, type RouteSpec, type RouteFilter, type RouteGetOptions, type RouteBatchOptions, type RouteBatchResult,
} from './ops/routes/operations.js'
export {
  decodeNeighbor, type Neighbor, type NeighborSpec, type NeighborFilter, type NeighborState,
} from './ops/neighbors/operations.js'
export { decodeRule, type Rule, type RuleSpec, type RuleFilter, type RuleAction, type PortRange } from './ops/rules/operations.js'
export {
  Tc, Qdiscs, Classes, Filters, decodeQdisc, decodeClass, decodeFilter, parseRate, parseSize, parseTime,
  type Qdisc, type QdiscSpec, type TcClass, type ClassSpec, type Filter, type FilterSpec, type TcStats,
  type Rate, type Size, type Time, type Percent, type MirredAction, type U32IpMatch, type U32Key,
  type TbfOptions, type HtbOptions, type HtbClassOptions, type NetemOptions, type FqCodelOptions, type FifoOptions,
} from './ops/tc/index.js'
export {
  type Monitor, type MonitorEvent, type MonitorKind, type MonitorAction, type MonitorOptions,
} from './ops/monitor/operations.js'
export { Topology, type UpOptions } from './topology/topology.js'
export { SpecError, type SpecProblem } from './topology/validate/index.js'
export { reap, type ReapOptions, type ReapResult } from './topology/reap.js'
export type { TeardownReport } from './topology/apply.js'
export type { Step as TopologyStep } from './topology/plan.js'
export type {
  TopologySpec, ResolvedTopology, HostSpec as TopologyHostSpec, BridgeSpec as TopologyBridgeSpec, LinkSpec as TopologyLinkSpec,
  EndSpec as TopologyEndSpec, AddressSpec as TopologyAddressSpec, PoolSpec as TopologyPoolSpec, RouteSpec as TopologyRouteSpec,
  NatSpec as TopologyNatSpec, DnsSpec as TopologyDnsSpec, ProcessSpec as TopologyProcessSpec,
} from './topology/spec.js'
export type { ThroughputOptions, ThroughputResult } from './topology/throughput.js'
export type { ShapingSpec as TopologyShapingSpec } from './topology/shaping.js'
export { serviceArgv, type PingResult, type PingOptions, type ServiceHandle, type ResolveResult } from './topology/probes.js'
export type { EchoResult } from './topology/sockets.js'
export { startDnsServer, type DnsRecords, type DnsServer, type DnsServerOptions } from './topology/dns.js'
export { sandbox, type SandboxRunOptions, type SandboxResult } from './sandbox/sandbox.js'
export type { SandboxSupport } from './sandbox/support.js'
export { Bridge, BridgeFdb, BridgePorts, BridgeVlans, decodeFdbEntry, decodeBridgePort, decodeBridgeVlans, NO_VLAN_FILTERING, type FdbEntry, type FdbFilter, type FdbSpec, type FdbState, type BridgePort, type BridgePortFilter, type BridgePortOptions, type BridgeVlan, type BridgeVlanPort, type BridgeVlanSpec } from './ops/bridge/index.js'
export { Nexthops, type NexthopObjectFilter } from './ops/nexthops/operations.js'
export { decodeNexthop, type NexthopObject, type NexthopObjectSpec, type NexthopGroupMember, type ResilientArgs } from './ops/nexthops/codec.js'
export * from './ovs/index.js'
export { Nft, type Ruleset as NftRuleset, type ListFilter as NftListFilter } from './nftables/nft.js'
export type { Table as NftTable, Chain as NftChain, Rule as NftRule } from './nftables/objects.js'
export type { Statement as NftStatement, TableFamily as NftFamily } from './nftables/statements.js'
export type { RemoteNft } from './netns/handle.js'
