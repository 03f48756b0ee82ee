// Phase 5: per-host settings, host by host in spec order: loopback, forwarding and
// sysctls here, then routes, NAT, DNS and processes (each in its own file).
import type { ResolvedHost } from '../spec.js'
import type { Connections } from './addressing.js'
import { type Checker, isObject } from './checker.js'
import type { Drafts, HostDraft } from './drafts.js'
import { resolveNat } from './nat.js'
import { resolveRoutes } from './routing.js'
import { resolveDns, resolveProcesses } from './services.js'

const SYSCTL_KEY = /^net(\.[A-Za-z0-9_@:+-]+)+$/

export function resolveHosts(d: Drafts, net: Connections): ResolvedHost[] {
  const { c } = d
  const resolved: ResolvedHost[] = []
  for (const h of d.hosts.values()) {
    const lo = c.boolean(`${h.path}.lo`, h.spec.lo) ?? h.netns !== null
    const sysctls = resolveSysctls(c, h)
    const routes = resolveRoutes(c, h, net.hostAddrs.get(h.node) ?? [], net.nodeAddrs, d.hosts, d.bridges)
    const nat = resolveNat(c, h)
    const dns = resolveDns(c, h)
    const processes = resolveProcesses(c, h)
    resolved.push({ node: h.node, netns: h.netns, lo, sysctls, routes, nat, ...(dns ? { dns } : {}), processes })
  }
  return resolved
}

/** `forwarding: true` and `sysctls`, as key/value pairs to write; only net.* keys. */
function resolveSysctls(c: Checker, h: HostDraft): Array<readonly [string, string]> {
  const path = h.path
  const hs = h.spec
  const sysctls: Array<readonly [string, string]> = []
  if (c.boolean(`${path}.forwarding`, hs.forwarding)) sysctls.push(['net.ipv4.ip_forward', '1'], ['net.ipv6.conf.all.forwarding', '1'])
  if (hs.sysctls === undefined) return sysctls
  if (!isObject(hs.sysctls)) {
    c.fail(`${path}.sysctls`, 'must be an object of key: value')
    return sysctls
  }
  for (const [k, v] of Object.entries(hs.sysctls)) {
    const kp = `${path}.sysctls["${k}"]`
    const key = k.replace(/\//g, '.')
    if (!SYSCTL_KEY.test(key)) {
      c.fail(kp, 'only net.* sysctls belong to a network namespace; nsnet will not change others')
      continue
    }
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      c.fail(kp, 'value must be a string, number or boolean')
      continue
    }
    // One write of one line: a newline would end the value early (and `sysctl -w` in script()).
    if (typeof v === 'string' && /[\n\r\0]/.test(v)) {
      c.fail(kp, `value ${JSON.stringify(v)} must be one line`)
      continue
    }
    if (typeof v === 'number' && !Number.isFinite(v)) {
      c.fail(kp, `value ${v} is not a number a sysctl takes`)
      continue
    }
    sysctls.push([key, typeof v === 'boolean' ? (v ? '1' : '0') : String(v)])
  }
  return sysctls
}
