// Phase 3: links[] and their two ends: the node each end is on, its interface name
// (given or made up), addresses, MAC, shaping and a bridge port's VLANs.
import { parseMac } from '../../netlink/codec.js'
import { INGRESS_KEYS, ifbName, type ResolvedIngress, resolveIngress, resolveShaping, SHAPING_KEYS } from '../shaping.js'
import { CURRENT_NODE, type PortVlansSpec } from '../spec.js'
import { addressDrafts } from './addressing.js'
import { type Checker, suggest } from './checker.js'
import { claimIfname, type Drafts, type EndDraft, implicitCurrent, type VethDraft } from './drafts.js'

export function checkLinks(d: Drafts): void {
  const { c, spec: s, hosts, bridges } = d
  const nodeNames = () => [...hosts.keys(), ...bridges.keys()]
  const perHostCount = new Map<string, number>()
  c.array('links', s.links).forEach((l, i) => {
    const path = `links[${i}]`
    if (!c.fields(path, l, ['a', 'b', 'mtu', ...SHAPING_KEYS], ['a', 'b'])) return
    const draft: VethDraft = { index: i, mtu: c.integer(`${path}.mtu`, l.mtu, 68, 65535) }
    const raw = { a: l.a, b: l.b }
    const parsed: Record<
      'a' | 'b',
      { node: string; ifname?: string; addresses?: unknown; mac?: unknown; vlans?: unknown; ingress?: unknown; path: string } | undefined
    > = { a: undefined, b: undefined }
    for (const side of ['a', 'b'] as const) {
      const v = raw[side]
      const p = `${path}.${side}`
      if (typeof v === 'string') {
        parsed[side] = { node: v, path: p }
      } else if (c.fields(p, v, ['node', 'ifname', 'addresses', 'mac', 'vlans', 'ingress', ...SHAPING_KEYS], ['node'])) {
        if (typeof v.node !== 'string') {
          c.fail(`${p}.node`, 'must be a node name')
          continue
        }
        if (v.ifname !== undefined && !c.ifname(`${p}.ifname`, v.ifname)) continue
        parsed[side] = { node: v.node, ifname: v.ifname as string | undefined, addresses: v.addresses, mac: v.mac, vlans: v.vlans, ingress: v.ingress, path: p }
      }
    }
    for (const side of ['a', 'b'] as const) {
      const e = parsed[side]
      if (!e) continue
      const nodePath = typeof raw[side] === 'string' ? e.path : `${e.path}.node`
      if (e.node === CURRENT_NODE) implicitCurrent(d)
      const bridge = bridges.get(e.node)
      const host = bridge ? bridge.host : hosts.get(e.node)
      if (!host) {
        c.fail(nodePath, `unknown node "${e.node}"${suggest(e.node, nodeNames())}`)
        continue
      }
      const other = parsed[side === 'a' ? 'b' : 'a']
      let ifname = e.ifname
      if (ifname === undefined) {
        if (!bridge && host.netns !== null) {
          const k = perHostCount.get(host.node) ?? 0
          ifname = `eth${k}`
        } else {
          ifname = `v-${other?.node ?? 'x'}`
          if (Buffer.byteLength(ifname) > 15 || host.ifnames.has(ifname)) ifname = `v${i}-${other?.node ?? 'x'}`.slice(0, 15)
        }
      }
      if (!bridge && host.netns !== null) perHostCount.set(host.node, (perHostCount.get(host.node) ?? 0) + 1)
      if (!c.ifname(e.ifname !== undefined ? `${e.path}.ifname` : nodePath, ifname)) continue
      claimIfname(c, host, ifname, e.ifname !== undefined ? `${e.path}.ifname` : e.path)
      const addresses = addressDrafts(c, `${e.path}.addresses`, e.addresses, d.pools)
      if (bridge && addresses.length)
        c.fail(`${e.path}.addresses`, `a port of bridge "${bridge.node}" carries no address; put it on the bridge (bridges[].addresses)`)
      let mac: string | undefined
      if (e.mac !== undefined) {
        if (typeof e.mac === 'string' && parseMac(e.mac)) mac = e.mac.toLowerCase()
        else c.fail(`${e.path}.mac`, `${JSON.stringify(e.mac)} is not a MAC address`)
      }
      const shaping = resolveShaping(l, typeof raw[side] === 'object' ? (raw[side] as Record<string, unknown>) : undefined, path, e.path, (p, m) =>
        c.fail(p, m),
      )
      const vlans = e.vlans === undefined ? undefined : portVlans(c, `${e.path}.vlans`, e.vlans, bridge)
      let ingress: ResolvedIngress | undefined
      if (e.ingress !== undefined && c.fields(`${e.path}.ingress`, e.ingress, [...INGRESS_KEYS], ['rate'])) {
        // The ifb would outlive the lab in the current namespace (only a namespace of the lab takes its devices along).
        if (host.netns === null)
          c.fail(`${e.path}.ingress`, "ingress shaping makes an ifb device in the end's namespace; the current namespace gets none (put the end in a host)")
        else {
          const ifb = ifbName(ifname, i, side)
          claimIfname(c, host, ifb, `${e.path}.ingress`)
          ingress = resolveIngress(e.ingress, `${e.path}.ingress`, ifb, (p2, m) => c.fail(p2, m))
        }
      }
      const end: EndDraft = {
        path: e.path,
        node: e.node,
        host: host.node,
        ifname,
        master: bridge?.node,
        addresses,
        mac,
        shaping,
        ...(ingress ? { ingress } : {}),
        ...(vlans ? { vlans } : {}),
      }
      draft[side] = end
      d.ends.push(end)
    }
    d.veths.push(draft)
  })
}

/** A port's VLANs, checked against what its bridge can do; undefined after a problem. */
function portVlans(c: Checker, path: string, v: unknown, bridge: { node: string; ovs?: true; vlanFiltering?: true } | undefined): PortVlansSpec | undefined {
  if (!c.fields(path, v, ['pvid', 'untagged', 'tagged'])) return undefined
  if (!bridge) {
    c.fail(path, 'only an end on a bridge or switch (a switch port) has VLANs')
    return undefined
  }
  const pvid = c.integer(`${path}.pvid`, v.pvid, 1, 4094)
  const untagged = c.boolean(`${path}.untagged`, v.untagged)
  const tagged: number[] = []
  c.array(`${path}.tagged`, v.tagged ?? []).forEach((t, i) => {
    const vid = c.integer(`${path}.tagged[${i}]`, t, 1, 4094)
    if (vid === undefined) return
    if (tagged.includes(vid) || vid === pvid) c.fail(`${path}.tagged[${i}]`, `VLAN ${vid} is listed twice`)
    else tagged.push(vid)
  })
  if (pvid === undefined && !tagged.length) {
    c.fail(path, 'give a pvid (access VLAN) or tagged VLANs')
    return undefined
  }
  if (untagged !== undefined && pvid === undefined) c.fail(`${path}.untagged`, 'says how the pvid leaves the port; there is no pvid')
  if (bridge.ovs) {
    if (pvid !== undefined && tagged.length) c.fail(path, 'an Open vSwitch port is an access port (pvid: tag=) or a trunk (tagged: trunks=), not both')
    if (untagged === false) c.fail(`${path}.untagged`, 'an Open vSwitch access port always sends its VLAN untagged')
  } else if (!bridge.vlanFiltering) {
    c.fail(path, `bridge "${bridge.node}" does not filter VLANs: give it vlanFiltering: true`)
  }
  return { ...(pvid !== undefined ? { pvid, untagged: untagged ?? true } : {}), ...(tagged.length ? { tagged } : {}) }
}
