// RtnlApi: the one interface of nsnet's kernel objects, offered by two transports. Rtnl
// runs it in the caller's namespace; a namespace handle (netns.open) forwards it to a helper
// inside another namespace. Both implement this type, checked by the compiler, and the
// topology uses nothing else. Every method is asynchronous and takes the call options
// (`timeoutMs`, `signal`) in its last parameter.

import type { Nft, NftChains, NftRules, NftTables } from './nftables/nft.js'
import type { Addresses } from './ops/addresses/operations.js'
import type { BridgeFdb, BridgePorts, BridgeVlans } from './ops/bridge/index.js'
import type { Ethtool } from './ops/ethtool/operations.js'
import type { Links } from './ops/links/operations.js'
import type { Monitor, MonitorKind, MonitorOptions } from './ops/monitor/operations.js'
import type { Neighbors } from './ops/neighbors/operations.js'
import type { Nexthops } from './ops/nexthops/operations.js'
import type { Routes } from './ops/routes/operations.js'
import type { Rules } from './ops/rules/operations.js'
import type { Classes, Filters, Qdiscs } from './ops/tc/index.js'

/** An ops class as a caller sees it on either transport: its public methods (no fields, nothing private). */
export type ApiOf<T> = {
  readonly [K in keyof T as T[K] extends (...a: never[]) => unknown ? K : never]: T[K]
}

/** `rt.tc`: what `tc` does. */
export interface TcApi {
  readonly qdiscs: ApiOf<Qdiscs>
  readonly classes: ApiOf<Classes>
  readonly filters: ApiOf<Filters>
}

/** `rt.bridge`: what the `bridge` tool does. */
export interface BridgeApi {
  /** `bridge fdb`. */
  readonly fdb: ApiOf<BridgeFdb>
  /** `bridge link`. */
  readonly links: ApiOf<BridgePorts>
  /** `bridge vlan`. */
  readonly vlans: ApiOf<BridgeVlans>
}

/** `rt.nft`: what `nft` does (low-level tables/chains/rules and the NAT/forwarding helpers). */
export type NftApi = ApiOf<Nft> & {
  readonly tables: ApiOf<NftTables>
  readonly chains: ApiOf<NftChains>
  readonly rules: ApiOf<NftRules>
}

/** What Rtnl and a namespace handle (`netns.open()`) both offer. */
export interface RtnlApi {
  readonly links: ApiOf<Links>
  readonly addresses: ApiOf<Addresses>
  readonly routes: ApiOf<Routes>
  readonly neighbors: ApiOf<Neighbors>
  readonly rules: ApiOf<Rules>
  /** nf_tables (what `nft` does), on a NETLINK_NETFILTER socket of its own. */
  readonly nft: NftApi
  /** Device features over ethtool netlink (`ethtool -k/-K`). */
  readonly ethtool: ApiOf<Ethtool>
  /** Traffic control, what `tc` does: qdiscs, classes, filters. */
  readonly tc: TcApi
  readonly nexthops: ApiOf<Nexthops>
  readonly bridge: BridgeApi
  /** Typed change events, as `ip monitor link address route`. */
  monitor(kinds: readonly MonitorKind[], opts?: MonitorOptions): Monitor
}
