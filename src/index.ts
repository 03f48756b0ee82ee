// The public surface of nsnet.

export type { ApiOf, BridgeApi, NftApi, RtnlApi, TcApi } from './api.js'
export { type BatchOptions, type CallOptions, type DumpOptions, NetlinkSocket, type Request } from './netlink/engine.js'
export {
  BatchError,
  type ErrnoCode,
  type ErrorContext,
  isNsnetError,
  NSNET_CODES,
  NsnetError,
  type NsnetErrorCode,
  type NsnetOwnCode,
} from './netlink/errors.js'
export type { RemoteNft } from './netns/handle.js'
export {
  type DeleteOptions,
  type ExecOptions,
  type ExecResult,
  type HelperOptions,
  type NamedExecResult,
  type NetnsFiles,
  NetnsHandle,
  type NetnsInfo,
  type NetnsSysctl,
  type NsidInfo,
  netns,
  type Remote,
  type SpawnInOptions,
  type SysctlValue,
} from './netns/index.js'
export { type ListFilter as NftListFilter, Nft, type Ruleset as NftRuleset } from './nftables/nft.js'
export type { Chain as NftChain, Rule as NftRule, Table as NftTable } from './nftables/objects.js'
export type { Statement as NftStatement, TableFamily as NftFamily } from './nftables/statements.js'
export {
  type Address,
  type AddressFamily,
  type AddressFilter,
  type AddressFlag,
  type AddressOptions,
  decodeAddress,
  type FlushSelector,
  type SettableAddressFlag,
  type WaitReadyOptions,
} from './ops/addresses/operations.js'
export {
  Bridge,
  BridgeFdb,
  type BridgePort,
  type BridgePortFilter,
  type BridgePortOptions,
  BridgePorts,
  type BridgeVlan,
  type BridgeVlanPort,
  type BridgeVlanSpec,
  BridgeVlans,
  decodeBridgePort,
  decodeBridgeVlans,
  decodeFdbEntry,
  type FdbEntry,
  type FdbFilter,
  type FdbSpec,
  type FdbState,
  NO_VLAN_FILTERING,
} from './ops/bridge/index.js'
export {
  type BondInfo,
  type BondSpec,
  type BridgeInfo,
  type BridgePortInfo,
  type BridgeSpec,
  type DummySpec,
  decodeLink,
  type IfbSpec,
  type IpvlanInfo,
  type IpvlanSpec,
  type Link,
  type LinkChanges,
  type LinkInfo,
  type LinkKind,
  type LinkSpec,
  type LinkTarget,
  type MacvlanInfo,
  type MacvlanSpec,
  type NamespaceRef,
  type TunInfo,
  type VethSpec,
  type VlanInfo,
  type VlanSpec,
  type VrfInfo,
  type VrfSpec,
  type VxlanInfo,
  type VxlanSpec,
  type WaitUpOptions,
  type WireguardSpec,
} from './ops/links/operations.js'
export type { LinkRxStats, LinkStats64, LinkTxStats } from './ops/links/stats.js'
export type {
  Monitor,
  MonitorAction,
  MonitorEvent,
  MonitorKind,
  MonitorOptions,
} from './ops/monitor/operations.js'
export {
  decodeNeighbor,
  type Neighbor,
  type NeighborFilter,
  type NeighborSpec,
  type NeighborState,
} from './ops/neighbors/operations.js'
export { decodeNexthop, type NexthopGroupMember, type NexthopObject, type NexthopObjectSpec, type ResilientArgs } from './ops/nexthops/codec.js'
export { type NexthopObjectFilter, Nexthops } from './ops/nexthops/operations.js'
export {
  decodeRoute,
  type Nexthop,
  type NexthopSpec,
  type Route,
  type RouteBatchOptions,
  type RouteBatchResult,
  type RouteFamily,
  type RouteFilter,
  type RouteGetOptions,
  type RouteMetrics,
  type RouteSpec,
  type RouteTypeName,
  type RouteVia,
} from './ops/routes/operations.js'
export type { FamilyName, InetFamily } from './ops/rtnl.js'
export { decodeRule, type PortRange, type Rule, type RuleAction, type RuleFilter, type RuleSpec } from './ops/rules/operations.js'
export {
  Classes,
  type ClassSpec,
  decodeClass,
  decodeFilter,
  decodeQdisc,
  type FifoOptions,
  type Filter,
  type FilterSpec,
  Filters,
  type FqCodelOptions,
  type HtbClassOptions,
  type HtbOptions,
  type MirredAction,
  type NetemOptions,
  type Percent,
  parseRate,
  parseSize,
  parseTime,
  type Qdisc,
  type QdiscSpec,
  Qdiscs,
  type Rate,
  type Size,
  type TbfOptions,
  Tc,
  type TcClass,
  type TcStats,
  type Time,
  type U32IpMatch,
  type U32Key,
} from './ops/tc/index.js'
export * from './ovs/index.js'
export { Rtnl, type RtnlOptions } from './rtnl.js'
export { type SandboxResult, type SandboxRunOptions, sandbox } from './sandbox/sandbox.js'
export type { SandboxSupport } from './sandbox/support.js'
export type { TeardownReport } from './topology/apply.js'
export { type DnsRecords, type DnsServer, type DnsServerOptions, startDnsServer } from './topology/dns.js'
export type { Step as TopologyStep } from './topology/plan.js'
export { type PingOptions, type PingResult, type ResolveResult, type ServiceHandle, serviceArgv } from './topology/probes.js'
export { type ReapOptions, type ReapResult, reap } from './topology/reap.js'
export type { ShapingSpec as TopologyShapingSpec } from './topology/shaping.js'
export type { EchoResult } from './topology/sockets.js'
export type {
  AddressSpec as TopologyAddressSpec,
  BridgeSpec as TopologyBridgeSpec,
  DnsSpec as TopologyDnsSpec,
  EndSpec as TopologyEndSpec,
  HostSpec as TopologyHostSpec,
  LinkSpec as TopologyLinkSpec,
  NatSpec as TopologyNatSpec,
  PoolSpec as TopologyPoolSpec,
  ProcessSpec as TopologyProcessSpec,
  ResolvedTopology,
  RouteSpec as TopologyRouteSpec,
  TopologySpec,
} from './topology/spec.js'
export type { ThroughputOptions, ThroughputResult } from './topology/throughput.js'
export { Topology, type UpOptions } from './topology/topology.js'
export { SpecError, type SpecProblem } from './topology/validate/index.js'
