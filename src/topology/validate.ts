// Checks a whole TopologySpec before anything is touched and resolves it: defaults
// filled in, pool addresses handed out, gateways named by node turned into addresses.
// Every problem is reported with the path of the offending entry (`links[2].a`).
import { parseCidr, parseIP, parseMac, type Cidr } from '../netlink/codec.js'
import { NsnetError } from '../netlink/errors.js'
import { resolveProgram } from '../netns/exec.js'
import { checkLinkName } from '../ops/context.js'
import { Pool, contains, networkText } from './addressing.js'
import {
  CURRENT_NODE,
  type PortVlansSpec, type ResolvedBridge, type ResolvedEnd, type ResolvedHost, type ResolvedNat, type ResolvedProcess,
  type ResolvedRoute, type ResolvedTopology, type ResolvedVeth, type TopologySpec,
} from './spec.js'
import { resolveShaping, SHAPING_KEYS, type ResolvedShaping } from './shaping.js'
import { nftSafeIfname } from './plan.js'

export interface SpecProblem {
  /** Where: `links[2].a`, `hosts[0].routes[1].via`. */
  readonly path: string
  readonly message: string
}

/** A topology spec that cannot be built; `problems` lists every issue found, first one in the message. */
export class SpecError extends NsnetError {
  readonly problems: readonly SpecProblem[]

  constructor(problems: readonly SpecProblem[]) {
    const first = problems[0]!
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : ''
    super(`${first.message}${more}`, {
      code: 'EINVAL_ARGUMENT', operation: 'topology.validate', object: first.path,
    })
    this.name = 'SpecError'
    this.problems = problems
  }

  override toJSON() {
    return { ...super.toJSON(), problems: this.problems }
  }
}

const NETNS_NAME = /^[A-Za-z0-9_.+-]+$/
const SYSCTL_KEY = /^net(\.[A-Za-z0-9_@:+-]+)+$/
const ifnameCtx = { namespace: undefined }

/** Edit distance, for "did you mean" hints. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
      prev = cur
    }
  }
  return row[b.length]!
}

function suggest(name: string, candidates: Iterable<string>): string {
  let best: string | undefined
  let bestD = Infinity
  for (const c of candidates) {
    const d = distance(name, c)
    if (d < bestD) { bestD = d; best = c }
  }
  return best !== undefined && bestD < name.length && bestD <= Math.max(1, Math.floor(name.length / 3)) ? ` (did you mean "${best}"?)` : ''
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Why `prog` cannot be started (as execvp would look it up, inside a namespace: same files), or undefined. */
function programProblem(prog: string, path: string | undefined): string | undefined {
  try {
    resolveProgram(prog, undefined, 'topology.validate', path === undefined ? process.env : { ...process.env, PATH: path })
    return undefined
  } catch (e) {
    return (e as NsnetError).summary + (prog.includes('/') ? '' : ' in PATH')
  }
}

/** Internal, mutable form of a link end while resolving. */
interface EndDraft {
  path: string
  node: string
  host: string
  ifname: string
  master?: string
  addresses: Array<{ path: string; text?: string; pool?: string; cidr?: Cidr }>
  mac?: string
  shaping?: ResolvedShaping
  vlans?: PortVlansSpec
}

interface HostDraft {
  node: string
  path: string
  netns: string | null
  spec: Record<string, unknown>
  ifnames: Map<string, string> // ifname → path that defined it
}

class Checker {
  readonly problems: SpecProblem[] = []

  fail(path: string, message: string): void {
    this.problems.push({ path, message })
  }

  fields(path: string, v: unknown, allowed: readonly string[], required: readonly string[] = []): v is Record<string, unknown> {
    if (!isObject(v)) {
      this.fail(path, `must be an object, got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}`)
      return false
    }
    for (const k of Object.keys(v)) {
      if (!allowed.includes(k)) this.fail(`${path}.${k}`, `unknown field${suggest(k, allowed)}`)
    }
    for (const k of required) if (v[k] === undefined) this.fail(`${path}.${k}`, 'is required')
    return true
  }

  array(path: string, v: unknown): readonly unknown[] {
    if (v === undefined) return []
    if (!Array.isArray(v)) { this.fail(path, 'must be an array'); return [] }
    return v
  }

  string(path: string, v: unknown): v is string {
    if (typeof v === 'string' && v.length > 0) return true
    this.fail(path, `must be a non-empty string, got ${JSON.stringify(v)}`)
    return false
  }

  boolean(path: string, v: unknown): boolean | undefined {
    if (v === undefined || typeof v === 'boolean') return v
    this.fail(path, `must be true or false, got ${JSON.stringify(v)}`)
    return undefined
  }

  integer(path: string, v: unknown, min: number, max: number): number | undefined {
    if (v === undefined) return undefined
    if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return v
    this.fail(path, `must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`)
    return undefined
  }

  ifname(path: string, v: unknown): v is string {
    try {
      checkLinkName(v, ifnameCtx, 'topology.validate', 'interface name')
      return true
    } catch (e) {
      this.fail(path, (e as NsnetError).summary)
      return false
    }
  }

  ip(path: string, v: unknown): { family: 4 | 6; text: string } | undefined {
    if (typeof v === 'string') {
      const p = parseIP(v)
      if (p) return { family: p.family, text: parseCidr(v)!.address }
    }
    this.fail(path, `${JSON.stringify(v)} is not an IP address`)
    return undefined
  }
}

/** Parses `10.0.0.1/24` strictly (prefix length required). */
function interfaceCidr(c: Checker, path: string, v: unknown): Cidr | undefined {
  if (typeof v === 'string' && v.includes('/')) {
    const cidr = parseCidr(v)
    if (cidr) return cidr
  }
  c.fail(path, `${JSON.stringify(v)} is not an address with a prefix length (like 10.0.0.1/24)`)
  return undefined
}

/**
 * Validates `spec` completely and returns its resolved form. Throws a SpecError
 * listing every problem; nothing on the system is read or changed.
 */
export function validate(spec: TopologySpec | unknown): ResolvedTopology {
  const c = new Checker()
  if (!c.fields('spec', spec, ['name', 'prefix', 'pools', 'hosts', 'bridges', 'switches', 'links'])) throw new SpecError(c.problems)
  const s = spec as Record<string, unknown>

  const name = s.name === undefined ? 'lab' : c.string('name', s.name) ? s.name : 'lab'
  let prefix = ''
  if (s.prefix !== undefined) {
    if (typeof s.prefix === 'string' && (s.prefix === '' || NETNS_NAME.test(s.prefix))) prefix = s.prefix
    else c.fail('prefix', `${JSON.stringify(s.prefix)} may hold only letters, digits and _ . + -`)
  }

  // ---- pools ----
  const pools = new Map<string, { pool: Pool; cidr: Cidr; path: string }>()
  c.array('pools', s.pools).forEach((p, i) => {
    const path = `pools[${i}]`
    if (!c.fields(path, p, ['name', 'subnet'], ['name', 'subnet'])) return
    const subnet = interfaceCidr(c, `${path}.subnet`, p.subnet)
    if (!c.string(`${path}.name`, p.name) || !subnet) return
    if (pools.has(p.name)) return c.fail(`${path}.name`, `duplicate pool "${p.name}" (also ${pools.get(p.name)!.path})`)
    pools.set(p.name, { pool: new Pool(subnet), cidr: subnet, path })
  })

  // ---- hosts ----
  const hosts = new Map<string, HostDraft>()
  c.array('hosts', s.hosts).forEach((h, i) => {
    const path = `hosts[${i}]`
    if (!c.fields(path, h, ['name', 'lo', 'forwarding', 'sysctls', 'gateway', 'routes', 'nat', 'dns', 'processes'], ['name'])) return
    if (!c.string(`${path}.name`, h.name)) return
    const current = h.name === CURRENT_NODE
    const netns = current ? null : prefix + h.name
    if (netns !== null && (!NETNS_NAME.test(netns) || netns === '.' || netns === '..' || Buffer.byteLength(netns) > 255)) {
      return c.fail(`${path}.name`, `namespace name "${netns}" may hold only letters, digits and _ . + - (at most 255 bytes)`)
    }
    if (hosts.has(h.name)) return c.fail(`${path}.name`, `duplicate host "${h.name}" (also ${hosts.get(h.name)!.path})`)
    hosts.set(h.name, { node: h.name, path, netns, spec: h, ifnames: new Map([['lo', 'the loopback device']]) })
  })
  const implicitCurrent = (): HostDraft => {
    let d = hosts.get(CURRENT_NODE)
    if (!d) {
      d = { node: CURRENT_NODE, path: '(the current namespace)', netns: null, spec: { name: CURRENT_NODE, lo: false }, ifnames: new Map([['lo', 'the loopback device']]) }
      hosts.set(CURRENT_NODE, d)
    }
    return d
  }
  const claimIfname = (host: HostDraft, ifname: string, path: string): void => {
    const prev = host.ifnames.get(ifname)
    if (prev) c.fail(path, `interface "${ifname}" is already used in ${describeHost(host)} by ${prev}`)
    else host.ifnames.set(ifname, path)
  }

  // ---- bridges ----
  interface BridgeDraft { node: string; host: HostDraft; path: string; addresses: EndDraft['addresses']; mtu?: number; ovs?: true; vlanFiltering?: true }
  const bridges = new Map<string, BridgeDraft>()
  const bridgeLike = [
    ...c.array('bridges', s.bridges).map((b, i) => ({ b, path: `bridges[${i}]`, ovs: false })),
    ...c.array('switches', s.switches).map((b, i) => ({ b, path: `switches[${i}]`, ovs: true })),
  ]
  bridgeLike.forEach(({ b, path, ovs: isSwitch }) => {
    if (!c.fields(path, b, ['name', 'in', 'addresses', 'mtu', 'kind', ...(isSwitch ? ['datapathType'] : ['vlanFiltering'])], ['name'])) return
    const ovs = switchKind(c, path, b, isSwitch)
    if (ovs === undefined) return
    if (!c.ifname(`${path}.name`, b.name)) return
    if (hosts.has(b.name) || b.name === CURRENT_NODE) return c.fail(`${path}.name`, `"${b.name}" is already the name of a host (node names are shared by hosts and bridges)`)
    if (bridges.has(b.name)) return c.fail(`${path}.name`, `duplicate bridge "${b.name}" (also ${bridges.get(b.name)!.path})`)
    let host: HostDraft | undefined
    if (b.in === undefined || b.in === CURRENT_NODE) host = hosts.get(CURRENT_NODE) ?? implicitCurrent()
    else if (typeof b.in === 'string' && hosts.has(b.in)) host = hosts.get(b.in)
    else return c.fail(`${path}.in`, `unknown host "${String(b.in)}"${suggest(String(b.in), hosts.keys())}`)
    claimIfname(host!, b.name, path)
    const mtu = c.integer(`${path}.mtu`, b.mtu, 68, 65535)
    const addresses = addressDrafts(c, `${path}.addresses`, b.addresses, pools)
    const vlanFiltering = c.boolean(`${path}.vlanFiltering`, b.vlanFiltering)
    if (vlanFiltering && ovs) return c.fail(`${path}.vlanFiltering`, 'an Open vSwitch bridge filters VLANs by its ports\' vlans (tag/trunks); leave vlanFiltering out')
    bridges.set(b.name, { node: b.name, host: host!, path, addresses, mtu, ...(ovs ? { ovs: true as const } : {}), ...(vlanFiltering ? { vlanFiltering: true as const } : {}) })
  })

  // ---- links ----
  const nodeNames = () => [...hosts.keys(), ...bridges.keys()]
  const ends: EndDraft[] = []
  interface VethDraft { index: number; a?: EndDraft; b?: EndDraft; mtu?: number }
  const veths: VethDraft[] = []
  const perHostCount = new Map<string, number>()
  c.array('links', s.links).forEach((l, i) => {
    const path = `links[${i}]`
    if (!c.fields(path, l, ['a', 'b', 'mtu', ...SHAPING_KEYS], ['a', 'b'])) return
    const draft: VethDraft = { index: i, mtu: c.integer(`${path}.mtu`, l.mtu, 68, 65535) }
    const raw = { a: l.a, b: l.b }
    const parsed: Record<'a' | 'b', { node: string; ifname?: string; addresses?: unknown; mac?: unknown; vlans?: unknown; path: string } | undefined> = { a: undefined, b: undefined }
    for (const side of ['a', 'b'] as const) {
      const v = raw[side]
      const p = `${path}.${side}`
      if (typeof v === 'string') {
        parsed[side] = { node: v, path: p }
      } else if (c.fields(p, v, ['node', 'ifname', 'addresses', 'mac', 'vlans', ...SHAPING_KEYS], ['node'])) {
        if (typeof v.node !== 'string') { c.fail(`${p}.node`, 'must be a node name'); continue }
        if (v.ifname !== undefined && !c.ifname(`${p}.ifname`, v.ifname)) continue
        parsed[side] = { node: v.node, ifname: v.ifname as string | undefined, addresses: v.addresses, mac: v.mac, vlans: v.vlans, path: p }
      }
    }
    for (const side of ['a', 'b'] as const) {
      const e = parsed[side]
      if (!e) continue
      const nodePath = typeof raw[side] === 'string' ? e.path : `${e.path}.node`
      if (e.node === CURRENT_NODE) implicitCurrent()
      const bridge = bridges.get(e.node)
      const host = bridge ? bridge.host : hosts.get(e.node)
      if (!host) { c.fail(nodePath, `unknown node "${e.node}"${suggest(e.node, nodeNames())}`); continue }
      const other = parsed[side === 'a' ? 'b' : 'a']
      let ifname = e.ifname
      if (ifname === undefined) {
        if (!bridge && host.netns !== null) {
          const k = perHostCount.get(host.node) ?? 0
          ifname = `eth${k}`
        } else {
          ifname = `v-${other?.node ?? 'x'}`
          if (Buffer.byteLength(ifname) > 15 || host.ifnames.has(ifname)) ifname = `v${i}-${(other?.node ?? 'x')}`.slice(0, 15)
        }
      }
      if (!bridge && host.netns !== null) perHostCount.set(host.node, (perHostCount.get(host.node) ?? 0) + 1)
      if (!c.ifname(e.ifname !== undefined ? `${e.path}.ifname` : nodePath, ifname)) continue
      claimIfname(host, ifname, e.ifname !== undefined ? `${e.path}.ifname` : e.path)
      const addresses = addressDrafts(c, `${e.path}.addresses`, e.addresses, pools)
      if (bridge && addresses.length) c.fail(`${e.path}.addresses`, `a port of bridge "${bridge.node}" carries no address; put it on the bridge (bridges[].addresses)`)
      let mac: string | undefined
      if (e.mac !== undefined) {
        if (typeof e.mac === 'string' && parseMac(e.mac)) mac = e.mac.toLowerCase()
        else c.fail(`${e.path}.mac`, `${JSON.stringify(e.mac)} is not a MAC address`)
      }
      const shaping = resolveShaping(l, typeof raw[side] === 'object' ? raw[side] as Record<string, unknown> : undefined, path, e.path, (p, m) => c.fail(p, m))
      const vlans = e.vlans === undefined ? undefined : portVlans(c, `${e.path}.vlans`, e.vlans, bridge)
      const end: EndDraft = { path: e.path, node: e.node, host: host.node, ifname, master: bridge?.node, addresses, mac, shaping, ...(vlans ? { vlans } : {}) }
      draft[side] = end
      ends.push(end)
    }
    veths.push(draft)
  })

  // ---- addresses: explicit ones reserved first, then pools hand out the rest in spec order ----
  const addressOwners: Array<{ drafts: EndDraft['addresses']; host: string; segment: string }> = []
  const segments = new UnionFind()
  for (const v of veths) if (v.a && v.b) segments.union(endKey(v.a), endKey(v.b))
  for (const e of ends) if (e.master) segments.union(endKey(e), `bridge:${e.master}`)
  for (const b of bridges.values()) addressOwners.push({ drafts: b.addresses, host: b.host.node, segment: segments.find(`bridge:${b.node}`) })
  for (const e of ends) if (!e.master) addressOwners.push({ drafts: e.addresses, host: e.host, segment: segments.find(endKey(e)) })
  for (const o of addressOwners) for (const a of o.drafts) if (a.cidr) for (const p of pools.values()) if (contains(p.cidr, a.cidr.address)) p.pool.reserve(a.cidr.address)
  for (const o of addressOwners) {
    for (const a of o.drafts) {
      if (a.pool === undefined) continue
      const p = pools.get(a.pool)!
      const text = p.pool.take()
      if (!text) { c.fail(a.path, `pool "${a.pool}" (${networkText(p.cidr)}) has no free address left`); continue }
      a.text = text
      a.cidr = parseCidr(text)
    }
  }
  const seen = new Map<string, string>()
  for (const o of addressOwners) {
    for (const a of o.drafts) {
      if (!a.cidr) continue
      const key = `${o.segment}|${a.cidr.address}`
      const prev = seen.get(key)
      if (prev) c.fail(a.path, `address ${a.cidr.address} is already used on the same network by ${prev}`)
      else seen.set(key, a.path)
    }
  }

  // What each host is connected to: its addresses (with the segment they sit on).
  const hostAddrs = new Map<string, Array<{ cidr: Cidr; segment: string; ifname: string }>>()
  const addAddr = (host: string, cidr: Cidr, segment: string, ifname: string) => {
    let l = hostAddrs.get(host)
    if (!l) hostAddrs.set(host, l = [])
    l.push({ cidr, segment, ifname })
  }
  for (const b of bridges.values()) for (const a of b.addresses) if (a.cidr) addAddr(b.host.node, a.cidr, segments.find(`bridge:${b.node}`), b.node)
  for (const e of ends) if (!e.master) for (const a of e.addresses) if (a.cidr) addAddr(e.host, a.cidr, segments.find(endKey(e)), e.ifname)
  // The addresses a node exposes (for `gateway: "<node>"`): a host's own, or a bridge's.
  const nodeAddrs = (node: string): Array<{ cidr: Cidr; segment: string }> => {
    const b = bridges.get(node)
    if (b) return b.addresses.filter((a) => a.cidr).map((a) => ({ cidr: a.cidr!, segment: segments.find(`bridge:${node}`) }))
    return hostAddrs.get(node) ?? []
  }

  // ---- per-host settings ----
  const resolvedHosts: ResolvedHost[] = []
  for (const h of hosts.values()) {
    const hs = h.spec
    const path = h.path
    const current = h.netns === null
    const lo = c.boolean(`${path}.lo`, hs.lo) ?? !current
    const sysctls: Array<readonly [string, string]> = []
    if (c.boolean(`${path}.forwarding`, hs.forwarding)) sysctls.push(['net.ipv4.ip_forward', '1'], ['net.ipv6.conf.all.forwarding', '1'])
    if (hs.sysctls !== undefined) {
      if (!isObject(hs.sysctls)) c.fail(`${path}.sysctls`, 'must be an object of key: value')
      else for (const [k, v] of Object.entries(hs.sysctls)) {
        const kp = `${path}.sysctls["${k}"]`
        const key = k.replace(/\//g, '.')
        if (!SYSCTL_KEY.test(key)) { c.fail(kp, 'only net.* sysctls belong to a network namespace; nsnet will not change others'); continue }
        if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') { c.fail(kp, 'value must be a string, number or boolean'); continue }
        // One write of one line: a newline would end the value early (and `sysctl -w` in script()).
        if (typeof v === 'string' && /[\n\r\0]/.test(v)) { c.fail(kp, `value ${JSON.stringify(v)} must be one line`); continue }
        if (typeof v === 'number' && !Number.isFinite(v)) { c.fail(kp, `value ${v} is not a number a sysctl takes`); continue }
        sysctls.push([key, typeof v === 'boolean' ? (v ? '1' : '0') : String(v)])
      }
    }
    const routes = resolveRoutes(c, h, hostAddrs.get(h.node) ?? [], nodeAddrs, hosts, bridges)
    const nat: ResolvedNat[] = []
    c.array(`${path}.nat`, hs.nat).forEach((n, i) => {
      const p = `${path}.nat[${i}]`
      if (!c.fields(p, n, ['masquerade', 'out', 'backend'], ['masquerade', 'out'])) return
      if (current) return c.fail(p, 'NAT in the current namespace is refused: nsnet never touches the firewall of a namespace it did not make')
      const m = interfaceCidr(c, `${p}.masquerade`, n.masquerade)
      if (typeof n.out !== 'string' || !h.ifnames.has(n.out) || n.out === 'lo') c.fail(`${p}.out`, `unknown interface "${String(n.out)}" in ${describeHost(h)}${suggest(String(n.out), h.ifnames.keys())}`)
      else if (!nftSafeIfname(n.out)) c.fail(`${p}.out`, `interface "${n.out}" holds a character (" \\ *) that an nft rule's interface string cannot hold as itself; rename it`)
      const backend = n.backend ?? 'auto'
      if (backend !== 'auto' && backend !== 'nsnet' && backend !== 'nft' && backend !== 'iptables') c.fail(`${p}.backend`, 'must be auto, nsnet, nft or iptables')
      if (m) nat.push({ masquerade: networkText(m), out: n.out as string, backend: backend as ResolvedNat['backend'] })
    })
    let dns: ResolvedHost['dns']
    if (hs.dns !== undefined && c.fields(`${path}.dns`, hs.dns, ['nameservers', 'search'], ['nameservers'])) {
      const d = hs.dns
      if (current) c.fail(`${path}.dns`, 'resolv.conf is per named namespace (/etc/netns/<name>/); the current namespace has none')
      const ns = c.array(`${path}.dns.nameservers`, d.nameservers).map((v, i) => c.ip(`${path}.dns.nameservers[${i}]`, v)?.text).filter((x): x is string => !!x)
      if (Array.isArray(d.nameservers) && d.nameservers.length === 0) c.fail(`${path}.dns.nameservers`, 'needs at least one address')
      const search = c.array(`${path}.dns.search`, d.search).filter((v, i) => c.string(`${path}.dns.search[${i}]`, v) && (/^[A-Za-z0-9.-]+$/.test(v as string) || (c.fail(`${path}.dns.search[${i}]`, 'is not a domain name'), false))) as string[]
      dns = { nameservers: ns, search }
    }
    const processes: ResolvedProcess[] = []
    const pnames = new Set<string>()
    c.array(`${path}.processes`, hs.processes).forEach((pr, i) => {
      const p = `${path}.processes[${i}]`
      if (!c.fields(p, pr, ['name', 'command', 'env', 'readyTcpPort', 'readyText'], ['name', 'command'])) return
      if (!c.string(`${p}.name`, pr.name)) return
      if (pnames.has(pr.name)) return c.fail(`${p}.name`, `duplicate process "${pr.name}" in ${describeHost(h)}`)
      pnames.add(pr.name)
      if (!Array.isArray(pr.command) || pr.command.length === 0 || !pr.command.every((a) => typeof a === 'string' && !a.includes('\0')) || pr.command[0] === '') {
        return c.fail(`${p}.command`, 'must be a non-empty array of strings without NUL (argv)')
      }
      if (pr.env !== undefined) {
        if (!isObject(pr.env)) c.fail(`${p}.env`, 'must map names to strings')
        else for (const [k, v] of Object.entries(pr.env)) {
          if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) c.fail(`${p}.env`, `${JSON.stringify(k)} is not an environment variable name`)
          else if (typeof v !== 'string' || v.includes('\0')) c.fail(`${p}.env.${k}`, 'must be a string without NUL')
        }
      }
      // A program missing from PATH is found now, not after the namespaces exist.
      const program = programProblem(pr.command[0] as string, isObject(pr.env) && typeof pr.env.PATH === 'string' ? pr.env.PATH : undefined)
      if (program) c.fail(`${p}.command[0]`, program)
      const readyTcpPort = c.integer(`${p}.readyTcpPort`, pr.readyTcpPort, 1, 65535)
      if (pr.readyText !== undefined) c.string(`${p}.readyText`, pr.readyText)
      processes.push({
        name: pr.name, command: pr.command as string[],
        ...(pr.env ? { env: pr.env as Record<string, string> } : {}),
        ...(readyTcpPort ? { readyTcpPort } : {}),
        ...(typeof pr.readyText === 'string' ? { readyText: pr.readyText } : {}),
      })
    })
    resolvedHosts.push({ node: h.node, netns: h.netns, lo, sysctls, routes, nat, ...(dns ? { dns } : {}), processes })
  }

  if (c.problems.length) throw new SpecError(c.problems)

  const texts = (l: EndDraft['addresses']) => l.map((a) => `${a.cidr!.address}/${a.cidr!.prefixLength}`)
  const resolveEnd = (e: EndDraft): ResolvedEnd => ({
    node: e.node, host: e.host, ifname: e.ifname, addresses: texts(e.addresses),
    ...(e.master ? (bridges.get(e.master)?.ovs ? { switch: e.master } : { master: e.master }) : {}), ...(e.mac ? { mac: e.mac } : {}),
    ...(e.shaping ? { shaping: e.shaping } : {}),
    ...(e.vlans ? { vlans: e.vlans } : {}),
  })
  const resolvedBridges: ResolvedBridge[] = [...bridges.values()].map((b) => ({
    node: b.node, host: b.host.node, addresses: texts(b.addresses), ...(b.mtu ? { mtu: b.mtu } : {}), ...(b.ovs ? { kind: 'ovs' as const } : {}),
    ...(b.vlanFiltering ? { vlanFiltering: true as const } : {}),
  }))
  const resolvedVeths: ResolvedVeth[] = veths.map((v) => ({
    index: v.index, a: resolveEnd(v.a!), b: resolveEnd(v.b!), ...(v.mtu ? { mtu: v.mtu } : {}),
  }))
  // The current namespace first: things in it are made before anything points at them.
  resolvedHosts.sort((x, y) => (x.netns === null ? -1 : 0) - (y.netns === null ? -1 : 0))
  return { name, prefix, hosts: resolvedHosts, bridges: resolvedBridges, veths: resolvedVeths }
}

/** A port's VLANs, checked against what its bridge can do; undefined after a problem. */
function portVlans(c: Checker, path: string, v: unknown, bridge: { node: string; ovs?: true; vlanFiltering?: true } | undefined): PortVlansSpec | undefined {
  if (!c.fields(path, v, ['pvid', 'untagged', 'tagged'])) return undefined
  if (!bridge) { c.fail(path, 'only an end on a bridge or switch (a switch port) has VLANs'); return undefined }
  const pvid = c.integer(`${path}.pvid`, v.pvid, 1, 4094)
  const untagged = c.boolean(`${path}.untagged`, v.untagged)
  const tagged: number[] = []
  c.array(`${path}.tagged`, v.tagged ?? []).forEach((t, i) => {
    const vid = c.integer(`${path}.tagged[${i}]`, t, 1, 4094)
    if (vid === undefined) return
    if (tagged.includes(vid) || vid === pvid) c.fail(`${path}.tagged[${i}]`, `VLAN ${vid} is listed twice`)
    else tagged.push(vid)
  })
  if (pvid === undefined && !tagged.length) { c.fail(path, 'give a pvid (access VLAN) or tagged VLANs'); return undefined }
  if (untagged !== undefined && pvid === undefined) c.fail(`${path}.untagged`, 'says how the pvid leaves the port; there is no pvid')
  if (bridge.ovs) {
    if (pvid !== undefined && tagged.length) c.fail(path, 'an Open vSwitch port is an access port (pvid: tag=) or a trunk (tagged: trunks=), not both')
    if (untagged === false) c.fail(`${path}.untagged`, 'an Open vSwitch access port always sends its VLAN untagged')
  } else if (!bridge.vlanFiltering) {
    c.fail(path, `bridge "${bridge.node}" does not filter VLANs: give it vlanFiltering: true`)
  }
  return { ...(pvid !== undefined ? { pvid, untagged: untagged ?? true } : {}), ...(tagged.length ? { tagged } : {}) }
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

function describeHost(h: HostDraft): string {
  return h.netns === null ? 'the current namespace' : `"${h.node}"`
}

function endKey(e: EndDraft): string {
  return `if:${e.host}/${e.ifname}`
}

function addressDrafts(c: Checker, path: string, v: unknown, pools: Map<string, unknown>): EndDraft['addresses'] {
  const out: EndDraft['addresses'] = []
  c.array(path, v).forEach((a, i) => {
    const p = `${path}[${i}]`
    if (isObject(a)) {
      if (!c.fields(p, a, ['pool'], ['pool'])) return
      if (typeof a.pool !== 'string' || !pools.has(a.pool)) return c.fail(`${p}.pool`, `unknown pool "${String(a.pool)}"${suggest(String(a.pool), pools.keys())}`)
      out.push({ path: p, pool: a.pool })
      return
    }
    const cidr = interfaceCidr(c, p, a)
    if (cidr) out.push({ path: p, cidr })
  })
  return out
}

function resolveRoutes(
  c: Checker,
  h: HostDraft,
  connected: ReadonlyArray<{ cidr: Cidr; segment: string }>,
  nodeAddrs: (node: string) => Array<{ cidr: Cidr; segment: string }>,
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
      family, dst, ...(via ? { via } : {}), ...(r.dev ? { dev: r.dev as string } : {}),
      ...(r.scope ? { scope: r.scope as ResolvedRoute['scope'] } : {}), ...(src ? { src } : {}),
      ...(metric !== undefined ? { metric } : {}), ...(table !== undefined && table !== 254 ? { table } : {}),
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

class UnionFind {
  private readonly parent = new Map<string, string>()
  find(x: string): string {
    let root = x
    for (;;) {
      const p = this.parent.get(root)
      if (p === undefined) { this.parent.set(root, root); break }
      if (p === root) break
      root = p
    }
    while (x !== root) { const next = this.parent.get(x)!; this.parent.set(x, root); x = next }
    return root
  }
  union(a: string, b: string): void {
    const ra = this.find(a), rb = this.find(b)
    if (ra !== rb) this.parent.set(ra, rb)
  }
}
