// The registry of link kinds: one module per kind, looked up by IFLA_INFO_KIND.
import { bond } from './bond.js'
import { bridge, bridgePort } from './bridge.js'
import { dummy } from './dummy.js'
import { ifb } from './ifb.js'
import { ipvlan } from './ipvlan.js'
import type { KindCodec, PortCodec } from './kind.js'
import { macvlan } from './macvlan.js'
import { tun } from './tun.js'
import { veth } from './veth.js'
import { vlan } from './vlan.js'
import { vrf } from './vrf.js'
import { vxlan } from './vxlan.js'
import { wireguard } from './wireguard.js'

export type { KindCodec, Names, PortCodec, Resolved } from './kind.js'
export { nameOfIndex } from './kind.js'

const kinds = new Map<string, KindCodec>([veth, bridge, vxlan, macvlan, vlan, dummy, ifb, bond, vrf, ipvlan, wireguard, tun].map((k) => [k.kind, k]))
const ports = new Map<string, PortCodec>([bridgePort].map((p) => [p.kind, p]))

export function kindCodec(kind: string): KindCodec | undefined {
  return kinds.get(kind)
}

export function portCodec(kind: string): PortCodec | undefined {
  return ports.get(kind)
}

/** Kinds add() can create, in a stable order (for messages). */
export function creatableKinds(): string[] {
  return [...kinds.values()].filter((k) => !k.notCreatable).map((k) => k.kind)
}
