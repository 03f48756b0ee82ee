// Phase 2: bridges[] (Linux bridges, or Open vSwitch ones) and switches[] (Open vSwitch):
// which host each sits in, its MTU, addresses and VLAN filtering.
import { CURRENT_NODE } from '../spec.js'
import { addressDrafts } from './addressing.js'
import { type Checker, suggest } from './checker.js'
import { claimIfname, type Drafts, type HostDraft, implicitCurrent } from './drafts.js'

export function checkBridges(d: Drafts): void {
  const { c, spec: s, hosts, bridges } = d
  const bridgeLike = [
    ...c.array('bridges', s.bridges).map((b, i) => ({ b, path: `bridges[${i}]`, ovs: false })),
    ...c.array('switches', s.switches).map((b, i) => ({ b, path: `switches[${i}]`, ovs: true })),
  ]
  bridgeLike.forEach(({ b, path, ovs: isSwitch }) => {
    if (!c.fields(path, b, ['name', 'in', 'addresses', 'mtu', 'kind', ...(isSwitch ? ['datapathType'] : ['vlanFiltering'])], ['name'])) return
    const ovs = switchKind(c, path, b, isSwitch)
    if (ovs === undefined) return
    if (!c.ifname(`${path}.name`, b.name)) return
    if (hosts.has(b.name) || b.name === CURRENT_NODE)
      return c.fail(`${path}.name`, `"${b.name}" is already the name of a host (node names are shared by hosts and bridges)`)
    if (bridges.has(b.name)) return c.fail(`${path}.name`, `duplicate bridge "${b.name}" (also ${bridges.get(b.name)!.path})`)
    let host: HostDraft | undefined
    if (b.in === undefined || b.in === CURRENT_NODE) host = hosts.get(CURRENT_NODE) ?? implicitCurrent(d)
    else if (typeof b.in === 'string' && hosts.has(b.in)) host = hosts.get(b.in)
    else return c.fail(`${path}.in`, `unknown host "${String(b.in)}"${suggest(String(b.in), hosts.keys())}`)
    claimIfname(c, host!, b.name, path)
    const mtu = c.integer(`${path}.mtu`, b.mtu, 68, 65535)
    const addresses = addressDrafts(c, `${path}.addresses`, b.addresses, d.pools)
    const vlanFiltering = c.boolean(`${path}.vlanFiltering`, b.vlanFiltering)
    if (vlanFiltering && ovs)
      return c.fail(`${path}.vlanFiltering`, "an Open vSwitch bridge filters VLANs by its ports' vlans (tag/trunks); leave vlanFiltering out")
    bridges.set(b.name, {
      node: b.name,
      host: host!,
      path,
      addresses,
      mtu,
      ...(ovs ? { ovs: true as const } : {}),
      ...(vlanFiltering ? { vlanFiltering: true as const } : {}),
    })
  })
}

/** Whether a bridges[] / switches[] entry is an Open vSwitch bridge; undefined after a problem. */
function switchKind(c: Checker, path: string, b: Record<string, unknown>, isSwitch: boolean): boolean | undefined {
  const allowed = isSwitch ? ['ovs'] : ['linux', 'ovs']
  if (b.kind !== undefined && !allowed.includes(b.kind as string)) {
    c.fail(`${path}.kind`, `${JSON.stringify(b.kind)} is not one of ${allowed.join(', ')}`)
    return undefined
  }
  if (b.datapathType !== undefined && b.datapathType !== 'netdev') {
    c.fail(`${path}.datapathType`, `only "netdev" (the userspace datapath) is supported, got ${JSON.stringify(b.datapathType)}`)
    return undefined
  }
  return isSwitch || b.kind === 'ovs'
}
