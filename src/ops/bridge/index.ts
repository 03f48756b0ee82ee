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

export { BridgeFdb, decodeFdbEntry, type FdbEntry, type FdbFilter, type FdbSpec, type FdbState } from './fdb.js'
export { type BridgePort, type BridgePortFilter, type BridgePortOptions, BridgePorts, decodeBridgePort } from './ports.js'
export { type BridgeVlan, type BridgeVlanPort, type BridgeVlanSpec, BridgeVlans, decodeBridgeVlans, NO_VLAN_FILTERING } from './vlans.js'
