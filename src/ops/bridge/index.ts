// `rt.bridge`: what the `bridge` tool does — fdb entries, port options, VLANs.
import type { OpsContext } from '../context.js'
import { BridgeFdb } from './fdb.js'
import { BridgePorts } from './ports.js'
import { BridgeVlans } from './vlans.js'

export class Bridge {
  /** `bridge fdb`. */
  readonly fdb: BridgeFdb
  /** `bridge link`. */
  readonly links: BridgePorts
  /** `bridge vlan`. */
  readonly vlans: BridgeVlans

  constructor(ctx: OpsContext) {
    this.fdb = new BridgeFdb(ctx)
    this.links = new BridgePorts(ctx)
    this.vlans = new BridgeVlans(ctx)
  }
}

export { BridgeFdb, decodeFdbEntry, type FdbEntry, type FdbFilter, type FdbSpec } from './fdb.js'
export { BridgePorts, decodeBridgePort, type BridgePort, type BridgePortFilter, type BridgePortOptions } from './ports.js'
export { BridgeVlans, decodeBridgeVlans, NO_VLAN_FILTERING, type BridgeVlan, type BridgeVlanPort, type BridgeVlanSpec } from './vlans.js'
