// Turns a resolved topology into ordered phases of independent steps. Steps of one
// phase touch different objects and may run in parallel; phases run in order (a
// bridge before its ports, addresses before the routes that use them). Each step
// renders as the `ip` command that does the same thing, for printing and for the
// shell-script peer of the benchmark.

import { ovsBridgeCommand, ovsPortCommand } from './ovs-commands.js'
import { ingressCommands, type ResolvedIngress, type ResolvedShaping, shapeCommands } from './shaping.js'
import type { PortVlansSpec, ResolvedEnd, ResolvedNat, ResolvedProcess, ResolvedRoute, ResolvedTopology } from './spec.js'

export type Step =
  | { readonly kind: 'netns'; readonly host: string }
  | { readonly kind: 'lo'; readonly host: string }
  | { readonly kind: 'sysctl'; readonly host: string; readonly key: string; readonly value: string }
  | { readonly kind: 'dns'; readonly host: string; readonly nameservers: readonly string[]; readonly search: readonly string[] }
  | { readonly kind: 'bridge'; readonly host: string; readonly name: string; readonly mtu?: number; readonly ovs?: true; readonly vlanFiltering?: true }
  | { readonly kind: 'veth'; readonly index: number; readonly a: ResolvedEnd; readonly b: ResolvedEnd; readonly mtu?: number }
  | {
      readonly kind: 'port'
      readonly host: string
      readonly ifname: string
      readonly master?: string
      readonly switch?: string
      readonly vlans?: PortVlansSpec
    }
  | { readonly kind: 'address'; readonly host: string; readonly ifname: string; readonly cidr: string }
  | { readonly kind: 'route'; readonly host: string; readonly route: ResolvedRoute }
  | { readonly kind: 'nat'; readonly host: string; readonly nat: ResolvedNat }
  | { readonly kind: 'process'; readonly host: string; readonly process: ResolvedProcess }
  | { readonly kind: 'shape'; readonly host: string; readonly ifname: string; readonly shaping: ResolvedShaping }
  | { readonly kind: 'ingress'; readonly host: string; readonly ifname: string; readonly ingress: ResolvedIngress }

export interface Phase {
  readonly name: string
  readonly steps: readonly Step[]
}

/** The phases that build `topo`, in order. */
export function plan(topo: ResolvedTopology): Phase[] {
  const ns: Step[] = []
  const setup: Step[] = []
  const bridges: Step[] = []
  const veths: Step[] = []
  const shaping: Step[] = []
  const ports: Step[] = []
  const addresses: Step[] = []
  const routes: Step[] = []
  const nat: Step[] = []
  const procs: Step[] = []
  for (const h of topo.hosts) {
    if (h.netns !== null) ns.push({ kind: 'netns', host: h.node })
    if (h.lo) setup.push({ kind: 'lo', host: h.node })
    for (const [key, value] of h.sysctls) setup.push({ kind: 'sysctl', host: h.node, key, value })
    if (h.dns) setup.push({ kind: 'dns', host: h.node, nameservers: h.dns.nameservers, search: h.dns.search })
    for (const route of h.routes) routes.push({ kind: 'route', host: h.node, route })
    for (const n of h.nat) nat.push({ kind: 'nat', host: h.node, nat: n })
    for (const process of h.processes) procs.push({ kind: 'process', host: h.node, process })
  }
  for (const b of topo.bridges) {
    bridges.push({
      kind: 'bridge',
      host: b.host,
      name: b.node,
      ...(b.mtu ? { mtu: b.mtu } : {}),
      ...(b.kind === 'ovs' ? { ovs: true as const } : {}),
      ...(b.vlanFiltering ? { vlanFiltering: true as const } : {}),
    })
    for (const cidr of b.addresses) addresses.push({ kind: 'address', host: b.host, ifname: b.node, cidr })
  }
  const local = (host: string) => topo.hosts.find((h) => h.node === host)?.netns === null
  for (const v of topo.veths) {
    // The first end is created up (and, when it is here, enslaved) by the veth message itself;
    // the peer cannot be raised in that message (the kernel opens it before the pair is linked).
    // An end inside a namespace goes first where the other is here: it then needs no helper,
    // and the end here is enslaved and raised from here.
    const [a, b] = local(v.a.host) && !local(v.b.host) ? [v.b, v.a] : [v.a, v.b]
    veths.push({ kind: 'veth', index: v.index, a, b, ...(v.mtu ? { mtu: v.mtu } : {}) })
    for (const e of [a, b]) {
      // An Open vSwitch port is added with ovs-vsctl add-port, after the veth exists.
      const first = e === a
      if (e.switch || e.vlans || !first || (e.master && !local(e.host))) {
        ports.push({
          kind: 'port',
          host: e.host,
          ifname: e.ifname,
          ...(e.master ? { master: e.master } : {}),
          ...(e.switch ? { switch: e.switch } : {}),
          ...(e.vlans ? { vlans: e.vlans } : {}),
        })
      }
      for (const cidr of e.addresses) addresses.push({ kind: 'address', host: e.host, ifname: e.ifname, cidr })
      if (e.shaping) shaping.push({ kind: 'shape', host: e.host, ifname: e.ifname, shaping: e.shaping })
      if (e.ingress) shaping.push({ kind: 'ingress', host: e.host, ifname: e.ifname, ingress: e.ingress })
    }
  }
  // Bridges and veths need only the namespaces to exist, not their helpers: they go first,
  // while the helpers (the slow part) start; lo and sysctls wait for the helpers.
  const phases: Phase[] = [
    { name: 'namespaces', steps: ns },
    { name: 'bridges', steps: bridges },
    { name: 'veths', steps: veths },
    { name: 'setup', steps: setup },
    { name: 'ports', steps: ports },
    { name: 'shaping', steps: shaping },
    { name: 'addresses', steps: addresses },
    { name: 'routes', steps: routes },
    { name: 'nat', steps: nat },
    { name: 'processes', steps: procs },
  ]
  return phases.filter((p) => p.steps.length > 0)
}

/**
 * Quotes one shell word when it needs it. Every name and value a printed command holds
 * goes through it: interface names may hold `;`, `$`, quotes and backslashes, and process
 * arguments anything at all.
 */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`
}

const q = shellQuote

/** `ip netns exec <ns> ` or nothing, for commands run inside a host. */
function inNs(topo: ResolvedTopology, host: string): string {
  const ns = netnsOf(topo, host)
  return ns === null ? '' : `ip netns exec ${q(ns)} `
}

/** `-n <ns> ` or nothing. */
function dashN(topo: ResolvedTopology, host: string): string {
  const ns = netnsOf(topo, host)
  return ns === null ? '' : `-n ${q(ns)} `
}

export function netnsOf(topo: ResolvedTopology, host: string): string | null {
  const h = topo.hosts.find((x) => x.node === host)
  if (!h) throw new Error(`no host ${host} in topology`)
  return h.netns
}

/** The route as `ip route` arguments: `10.0.2.0/24 via 10.0.1.1 dev veth0 scope link` (shell-quoted). */
export function routeArgs(r: ResolvedRoute): string {
  const parts = [r.dst]
  if (r.via) parts.push('via', r.via)
  if (r.dev) parts.push('dev', q(r.dev))
  if (r.scope) parts.push('scope', r.scope)
  if (r.src) parts.push('src', r.src)
  if (r.metric !== undefined) parts.push('metric', String(r.metric))
  if (r.table !== undefined) parts.push('table', String(r.table))
  return parts.join(' ')
}

/**
 * The nft script that masquerades `nat.masquerade` out of `nat.out`. validate() refuses
 * interface names nft cannot hold in a quoted string (see nftSafeIfname).
 */
export function nftScript(nat: ResolvedNat): string {
  return [
    'table ip nsnet {',
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    `    ip saddr ${nat.masquerade} oifname "${nat.out}" masquerade`,
    '  }',
    '}',
  ].join('\n')
}

/** The iptables argv for the same rule. */
export function iptablesArgs(nat: ResolvedNat): string[] {
  return ['-t', 'nat', '-A', 'POSTROUTING', '-s', nat.masquerade, '-o', nat.out, '-j', 'MASQUERADE']
}

/** Whether an interface name can stand in an nft rule's quoted string as itself (no quote, escape or wildcard). */
export function nftSafeIfname(name: string): boolean {
  return !/["\\*]/.test(name)
}

/** The resolv.conf text for a DNS step. */
export function resolvConf(nameservers: readonly string[], search: readonly string[]): string {
  return (search.length ? `search ${search.join(' ')}\n` : '') + nameservers.map((n) => `nameserver ${n}\n`).join('')
}

/** One step as the shell command(s) that do the same with iproute2 and friends. */
export function ipCommand(topo: ResolvedTopology, s: Step): string {
  switch (s.kind) {
    case 'netns':
      return `ip netns add ${q(netnsOf(topo, s.host)!)}`
    case 'lo':
      return `ip ${dashN(topo, s.host)}link set lo up`
    case 'sysctl':
      return `${inNs(topo, s.host)}sysctl -qw ${q(`${s.key}=${s.value}`)}`
    case 'dns': {
      const dir = `/etc/netns/${netnsOf(topo, s.host)}`
      const lines = resolvConf(s.nameservers, s.search).trimEnd().split('\n')
      return `mkdir -p ${q(dir)} && printf '%s\\n' ${lines.map(q).join(' ')} > ${q(`${dir}/resolv.conf`)}`
    }
    case 'bridge':
      return s.ovs
        ? ovsBridgeCommand(q(s.name))
        : `ip ${dashN(topo, s.host)}link add ${q(s.name)}${s.mtu ? ` mtu ${s.mtu}` : ''} up type bridge${s.vlanFiltering ? ' vlan_filtering 1' : ''}`
    case 'veth': {
      const a = netnsOf(topo, s.a.host)
      const b = netnsOf(topo, s.b.host)
      const mtu = s.mtu ? ` mtu ${s.mtu}` : ''
      const mac = (m?: string) => (m ? ` address ${q(m)}` : '')
      const first =
        a === null
          ? `${q(s.a.ifname)}${mtu}${mac(s.a.mac)}${s.a.master ? ` master ${q(s.a.master)}` : ''} up`
          : `${q(s.a.ifname)} netns ${q(a)}${mtu}${mac(s.a.mac)} up`
      return `ip link add ${first} type veth peer name ${q(s.b.ifname)}${b === null ? '' : ` netns ${q(b)}`}${mtu}${mac(s.b.mac)}`
    }
    case 'port': {
      const set = `ip ${dashN(topo, s.host)}link set ${q(s.ifname)}${s.master ? ` master ${q(s.master)}` : ''} up`
      if (s.switch) return `${set} && ${ovsPortCommand(q(s.switch), q(s.ifname), s.vlans)}`
      return [set, ...bridgeVlanCommands(q(s.ifname), s.vlans).map((c) => `${inNs(topo, s.host)}${c}`)].join(' && ')
    }
    case 'address':
      return `ip ${dashN(topo, s.host)}addr add ${s.cidr} dev ${q(s.ifname)}${s.cidr.includes(':') ? ' nodad' : ''}`
    case 'route':
      return `ip ${dashN(topo, s.host)}${s.route.family === 6 ? '-6 ' : ''}route add ${routeArgs(s.route)}`
    case 'nat': {
      if (s.nat.backend === 'iptables') return `${inNs(topo, s.host)}iptables ${iptablesArgs(s.nat).map(q).join(' ')}`
      return `${inNs(topo, s.host)}nft -f - <<'EOF'\n${nftScript(s.nat)}\nEOF`
    }
    case 'process': {
      const env = Object.entries(s.process.env ?? {}).map(([k, v]) => q(`${k}=${v}`))
      return `${inNs(topo, s.host)}${env.length ? `env ${env.join(' ')} ` : ''}${s.process.command.map(q).join(' ')} &`
    }
    case 'shape':
      return shapeCommands(inNs(topo, s.host), s.ifname, s.shaping, q).join('\n')
    case 'ingress':
      return ingressCommands(inNs(topo, s.host), s.ifname, s.ingress, q).join('\n')
  }
}

/** The whole build as a shell script (one command per step, in phase order). */
export function shellScript(topo: ResolvedTopology): string {
  return (
    plan(topo)
      .flatMap((p) => [`# ${p.name}`, ...p.steps.map((s) => ipCommand(topo, s))])
      .join('\n') + '\n'
  )
}

/** The commands that remove it again (what `down()` does). */
export function teardownScript(topo: ResolvedTopology): string {
  const lines: string[] = []
  for (const b of topo.bridges) if (netnsOf(topo, b.host) === null) lines.push(b.kind === 'ovs' ? `ovs-vsctl del-br ${q(b.node)}` : `ip link del ${q(b.node)}`)
  for (const v of topo.veths) {
    for (const e of [v.a, v.b]) {
      if (netnsOf(topo, e.host) === null) {
        lines.push(`ip link del ${q(e.ifname)}`)
        break
      }
    }
  }
  for (const h of topo.hosts) if (h.netns !== null) lines.push(`ip netns del ${q(h.netns)}`)
  for (const h of topo.hosts) if (h.dns && h.netns !== null) lines.push(`rm -rf ${q(`/etc/netns/${h.netns}`)}`)
  return lines.join('\n') + '\n'
}

/**
 * The `bridge vlan` commands that give a Linux bridge port its VLANs: the tagged ones, the pvid
 * (untagged unless said otherwise), and VLAN 1 (every port's default) taken away unless wanted.
 * Topology.up() makes the same calls through rt.bridge.vlans.
 */
export function bridgeVlanCommands(ifname: string, v: PortVlansSpec | undefined): string[] {
  if (!v) return []
  const out = (v.tagged ?? []).map((vid) => `bridge vlan add vid ${vid} dev ${ifname}`)
  if (v.pvid !== undefined) out.push(`bridge vlan add vid ${v.pvid} dev ${ifname} pvid${v.untagged === false ? '' : ' untagged'}`)
  if (v.pvid !== 1 && !(v.tagged ?? []).includes(1)) out.push(`bridge vlan del vid 1 dev ${ifname}`)
  return out
}
