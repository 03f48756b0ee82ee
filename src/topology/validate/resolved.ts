// The last step, once no problem is left: the drafts become the immutable ResolvedTopology.
import type { ResolvedBridge, ResolvedEnd, ResolvedHost, ResolvedTopology, ResolvedVeth } from '../spec.js'
import type { AddressDraft, Drafts, EndDraft } from './drafts.js'

export function resolvedTopology(d: Drafts, hosts: ResolvedHost[]): ResolvedTopology {
  const { bridges } = d
  const texts = (l: AddressDraft[]) => l.map((a) => `${a.cidr!.address}/${a.cidr!.prefixLength}`)
  const resolveEnd = (e: EndDraft): ResolvedEnd => ({
    node: e.node,
    host: e.host,
    ifname: e.ifname,
    addresses: texts(e.addresses),
    ...(e.master ? (bridges.get(e.master)?.ovs ? { switch: e.master } : { master: e.master }) : {}),
    ...(e.mac ? { mac: e.mac } : {}),
    ...(e.shaping ? { shaping: e.shaping } : {}),
    ...(e.ingress ? { ingress: e.ingress } : {}),
    ...(e.vlans ? { vlans: e.vlans } : {}),
  })
  const resolvedBridges: ResolvedBridge[] = [...bridges.values()].map((b) => ({
    node: b.node,
    host: b.host.node,
    addresses: texts(b.addresses),
    ...(b.mtu ? { mtu: b.mtu } : {}),
    ...(b.ovs ? { kind: 'ovs' as const } : {}),
    ...(b.vlanFiltering ? { vlanFiltering: true as const } : {}),
  }))
  const resolvedVeths: ResolvedVeth[] = d.veths.map((v) => ({
    index: v.index,
    a: resolveEnd(v.a!),
    b: resolveEnd(v.b!),
    ...(v.mtu ? { mtu: v.mtu } : {}),
  }))
  // The current namespace first: things in it are made before anything points at them.
  const sorted = [...hosts].sort((x, y) => (x.netns === null ? -1 : 0) - (y.netns === null ? -1 : 0))
  return { name: d.name, prefix: d.prefix, hosts: sorted, bridges: resolvedBridges, veths: resolvedVeths }
}
