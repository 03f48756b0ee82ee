// Drawings of a topology: a plain-text outline for terminals and a Mermaid flowchart
// for documents. Both read only the resolved spec, so they work before up().

import { routeArgs } from './plan.js'
import { shapingLabel } from './shaping.js'
import type { ResolvedTopology } from './spec.js'

function title(topo: ResolvedTopology, host: string): string {
  const h = topo.hosts.find((x) => x.node === host)!
  return h.netns === null ? 'current namespace (host)' : `netns ${h.netns}`
}

/**
 * A text outline: one block per namespace with its interfaces, addresses, routes and
 * extras, then the wires.
 *
 *   netns mario
 *     eth0  10.0.0.1/24  ── my_switch
 */
export function drawText(topo: ResolvedTopology): string {
  const out: string[] = [`topology ${topo.name}${topo.prefix ? ` (namespace prefix "${topo.prefix}")` : ''}`]
  for (const h of topo.hosts) {
    out.push('', title(topo, h.node))
    const rows: Array<[string, string, string]> = []
    for (const b of topo.bridges) {
      if (b.host !== h.node) continue
      const ports = topo.veths
        .flatMap((v) => [v.a, v.b])
        .filter((e) => e.master === b.node || e.switch === b.node)
        .map((e) => e.ifname)
      rows.push([b.node, b.addresses.join(' '), `${b.kind === 'ovs' ? 'ovs switch' : 'bridge'}; ports: ${ports.join(', ') || 'none'}`])
    }
    for (const v of topo.veths) {
      for (const [me, peer] of [
        [v.a, v.b],
        [v.b, v.a],
      ] as const) {
        if (me.host !== h.node) continue
        const where = peer.master ? `${peer.master} (port ${peer.ifname})` : `${peer.node} ${peer.ifname}`
        const role = me.master ? `port of ${me.master}; ` : ''
        rows.push([me.ifname, me.addresses.join(' '), `${role}veth${shapingLabel(me.shaping, me.ingress)} ── ${where}`])
      }
    }
    const w0 = Math.max(0, ...rows.map((r) => r[0].length))
    const w1 = Math.max(0, ...rows.map((r) => r[1].length))
    for (const [a, b, c] of rows) out.push(`  ${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`.trimEnd())
    for (const r of h.routes) out.push(`  route ${routeArgs(r)}`)
    for (const [k, v] of h.sysctls) out.push(`  sysctl ${k}=${v}`)
    for (const n of h.nat) out.push(`  nat masquerade ${n.masquerade} out ${n.out}`)
    if (h.dns) out.push(`  resolv.conf nameserver ${h.dns.nameservers.join(', ')}${h.dns.search.length ? `; search ${h.dns.search.join(' ')}` : ''}`)
    for (const p of h.processes) out.push(`  process ${p.name}: ${p.command.join(' ')}`)
  }
  return out.join('\n') + '\n'
}

const id = (s: string) => s.replace(/[^A-Za-z0-9_]/g, '_')
const label = (s: string) => s.replace(/"/g, '#quot;')

/** A Mermaid flowchart: namespaces are subgraphs, interfaces nodes, veths edges. */
export function drawMermaid(topo: ResolvedTopology): string {
  const out = ['flowchart LR']
  for (const h of topo.hosts) {
    out.push(`  subgraph ${id(`ns_${h.node}`)}["${label(title(topo, h.node))}"]`)
    for (const b of topo.bridges) {
      if (b.host !== h.node) continue
      out.push(`    ${id(`${h.node}__${b.node}`)}{{"${label([`${b.kind === 'ovs' ? 'ovs switch' : 'bridge'} ${b.node}`, ...b.addresses].join('<br/>'))}"}}`)
    }
    for (const v of topo.veths) {
      for (const e of [v.a, v.b]) {
        if (e.host !== h.node) continue
        out.push(`    ${id(`${h.node}__${e.ifname}`)}["${label([e.ifname, ...e.addresses].join('<br/>'))}"]`)
      }
    }
    if (!topo.bridges.some((b) => b.host === h.node) && !topo.veths.some((v) => v.a.host === h.node || v.b.host === h.node)) {
      out.push(`    ${id(`${h.node}__empty`)}["(no interfaces)"]`)
    }
    out.push('  end')
  }
  for (const v of topo.veths) {
    out.push(`  ${id(`${v.a.host}__${v.a.ifname}`)} ---|veth| ${id(`${v.b.host}__${v.b.ifname}`)}`)
    for (const e of [v.a, v.b]) if (e.master ?? e.switch) out.push(`  ${id(`${e.host}__${e.ifname}`)} -.- ${id(`${e.host}__${e.master ?? e.switch}`)}`)
  }
  return out.join('\n') + '\n'
}
