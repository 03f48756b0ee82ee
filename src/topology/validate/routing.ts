// Phase 5b: a host's routes[] and gateway: each gateway must be reachable from the
// host's own networks; `gateway: "<node>"` becomes that node's address on a shared network.
import { type Cidr, parseCidr, parseIP } from '../../netlink/codec.js'
import { contains, networkText } from '../addressing.js'
import type { ResolvedRoute } from '../spec.js'
import type { Attachment } from './addressing.js'
import { type Checker, suggest } from './checker.js'
import { describeHost, type HostDraft } from './drafts.js'

export function resolveRoutes(
  c: Checker,
  h: HostDraft,
  connected: readonly Attachment[],
  nodeAddrs: (node: string) => Attachment[],
  hosts: Map<string, HostDraft>,
  bridges: Map<string, unknown>,
): ResolvedRoute[] {
  const path = h.path
  const hs = h.spec
  const routes: ResolvedRoute[] = []
  const onLink: Cidr[] = [] // dst of routes without a gateway: their addresses are reachable too
  const reachable = (ip: string) => connected.some((a) => contains(a.cidr, ip)) || onLink.some((n) => contains(n, ip))
  const keys = new Set<string>()
  const push = (p: string, r: ResolvedRoute) => {
    const key = `${r.family}|${r.dst}|${r.table ?? 254}|${r.metric ?? 0}`
    if (keys.has(key)) return c.fail(p, `duplicate route to ${r.dst}${r.table ? ` in table ${r.table}` : ''}`)
    keys.add(key)
    routes.push(r)
  }
  c.array(`${path}.routes`, hs.routes).forEach((r, i) => {
    const p = `${path}.routes[${i}]`
    if (!c.fields(p, r, ['dst', 'via', 'dev', 'scope', 'src', 'metric', 'table'], ['dst'])) return
    let family: 4 | 6 | undefined
    let dst: string | undefined
    if (r.dst === 'default') dst = 'default'
    else if (typeof r.dst === 'string' && parseCidr(r.dst)) {
      const cidr = parseCidr(r.dst)!
      if (networkText(cidr) !== `${cidr.address}/${cidr.prefixLength}`) {
        return c.fail(`${p}.dst`, `${r.dst} has host bits set for its prefix length (did you mean ${networkText(cidr)}?)`)
      }
      family = cidr.family
      dst = `${cidr.address}/${cidr.prefixLength}`
    } else return c.fail(`${p}.dst`, `${JSON.stringify(r.dst)} is not a destination (a CIDR, an address or "default")`)
    let via: string | undefined
    if (r.via !== undefined) {
      const ip = c.ip(`${p}.via`, r.via)
      if (!ip) return
      if (family !== undefined && ip.family !== family) return c.fail(`${p}.via`, `gateway ${ip.text} is IPv${ip.family} but the destination is IPv${family}`)
      family = ip.family
      via = ip.text
    }
    if (r.dev !== undefined && (typeof r.dev !== 'string' || !h.ifnames.has(r.dev))) {
      return c.fail(`${p}.dev`, `unknown interface "${String(r.dev)}" in ${describeHost(h)}${suggest(String(r.dev), h.ifnames.keys())}`)
    }
    if (r.dev === undefined && via === undefined) return c.fail(p, 'needs a gateway (via) or a device (dev)')
    if (r.scope !== undefined && r.scope !== 'global' && r.scope !== 'link' && r.scope !== 'host') return c.fail(`${p}.scope`, 'must be global, link or host')
    let src: string | undefined
    if (r.src !== undefined) {
      const ip = c.ip(`${p}.src`, r.src)
      if (!ip) return
      if (!connected.some((a) => a.cidr.address === ip.text)) return c.fail(`${p}.src`, `${ip.text} is not an address of ${describeHost(h)}`)
      src = ip.text
    }
    const metric = c.integer(`${p}.metric`, r.metric, 0, 0xffffffff)
    let table: number | undefined
    if (r.table !== undefined && r.table !== 'main') table = c.integer(`${p}.table`, r.table, 1, 0xffffffff)
    if (via !== undefined && r.dev === undefined && !reachable(via)) {
      return c.fail(`${p}.via`, `gateway ${via} is not on any subnet of ${describeHost(h)}; give it an address in that subnet or add a link-scope route first`)
    }
    family ??= 4
    if (via === undefined && dst !== 'default') onLink.push(parseCidr(dst)!)
    push(p, {
      family,
      dst,
      ...(via ? { via } : {}),
      ...(r.dev ? { dev: r.dev as string } : {}),
      ...(r.scope ? { scope: r.scope as ResolvedRoute['scope'] } : {}),
      ...(src ? { src } : {}),
      ...(metric !== undefined ? { metric } : {}),
      ...(table !== undefined && table !== 254 ? { table } : {}),
    })
  })
  if (hs.gateway !== undefined) {
    const p = `${path}.gateway`
    if (typeof hs.gateway !== 'string') {
      c.fail(p, 'must be an address or a node name')
    } else if (parseIP(hs.gateway)) {
      const ip = parseCidr(hs.gateway)!
      if (!reachable(ip.address)) c.fail(p, `gateway ${ip.address} is not on any subnet of ${describeHost(h)}`)
      else push(p, { family: ip.family, dst: 'default', via: ip.address })
    } else if (hosts.has(hs.gateway) || bridges.has(hs.gateway)) {
      // The gateway node's address on a segment this host is attached to.
      const mine = new Set(connected.map((a) => a.segment))
      const found = nodeAddrs(hs.gateway).find((a) => mine.has(a.segment))
      if (!found) c.fail(p, `node "${hs.gateway}" has no address on a network ${describeHost(h)} is attached to`)
      else push(p, { family: found.cidr.family, dst: 'default', via: found.cidr.address })
    } else {
      c.fail(p, `"${hs.gateway}" is neither an address nor a node${suggest(hs.gateway, [...hosts.keys(), ...bridges.keys()])}`)
    }
  }
  return routes
}
