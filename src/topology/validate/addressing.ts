// Phase 4: addresses. Explicit ones are reserved first, then pools hand out the rest in
// spec order; an address used twice on one network (segment) is a problem. The result says
// what each host is connected to, for routing.
import { type Cidr, parseCidr } from '../../netlink/codec.js'
import { contains, networkText } from '../addressing.js'
import { type Checker, isObject, suggest } from './checker.js'
import { type AddressDraft, type Drafts, endKey } from './drafts.js'

/** An address of a host, with the network (segment) it sits on. */
export interface Attachment {
  cidr: Cidr
  segment: string
}

export interface Connections {
  /** Each host's own addresses. */
  readonly hostAddrs: ReadonlyMap<string, ReadonlyArray<Attachment & { ifname: string }>>
  /** The addresses a node exposes (for `gateway: "<node>"`): a host's own, or a bridge's. */
  readonly nodeAddrs: (node: string) => Attachment[]
}

/** The addresses[] list of a bridge or link end: CIDRs, or `{ pool }` to be handed out later. */
export function addressDrafts(c: Checker, path: string, v: unknown, pools: Map<string, unknown>): AddressDraft[] {
  const out: AddressDraft[] = []
  c.array(path, v).forEach((a, i) => {
    const p = `${path}[${i}]`
    if (isObject(a)) {
      if (!c.fields(p, a, ['pool'], ['pool'])) return
      if (typeof a.pool !== 'string' || !pools.has(a.pool))
        return c.fail(`${p}.pool`, `unknown pool "${String(a.pool)}"${suggest(String(a.pool), pools.keys())}`)
      out.push({ path: p, pool: a.pool })
      return
    }
    const cidr = c.interfaceCidr(p, a)
    if (cidr) out.push({ path: p, cidr })
  })
  return out
}

export function assignAddresses(d: Drafts): Connections {
  const { c, pools, bridges, ends, veths } = d
  const addressOwners: Array<{ drafts: AddressDraft[]; host: string; segment: string }> = []
  const segments = new UnionFind()
  for (const v of veths) if (v.a && v.b) segments.union(endKey(v.a), endKey(v.b))
  for (const e of ends) if (e.master) segments.union(endKey(e), `bridge:${e.master}`)
  for (const b of bridges.values()) addressOwners.push({ drafts: b.addresses, host: b.host.node, segment: segments.find(`bridge:${b.node}`) })
  for (const e of ends) if (!e.master) addressOwners.push({ drafts: e.addresses, host: e.host, segment: segments.find(endKey(e)) })
  for (const o of addressOwners)
    for (const a of o.drafts) if (a.cidr) for (const p of pools.values()) if (contains(p.cidr, a.cidr.address)) p.pool.reserve(a.cidr.address)
  for (const o of addressOwners) {
    for (const a of o.drafts) {
      if (a.pool === undefined) continue
      const p = pools.get(a.pool)!
      const text = p.pool.take()
      if (!text) {
        c.fail(a.path, `pool "${a.pool}" (${networkText(p.cidr)}) has no free address left`)
        continue
      }
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

  const hostAddrs = new Map<string, Array<Attachment & { ifname: string }>>()
  const addAddr = (host: string, cidr: Cidr, segment: string, ifname: string) => {
    let l = hostAddrs.get(host)
    if (!l) hostAddrs.set(host, (l = []))
    l.push({ cidr, segment, ifname })
  }
  for (const b of bridges.values()) for (const a of b.addresses) if (a.cidr) addAddr(b.host.node, a.cidr, segments.find(`bridge:${b.node}`), b.node)
  for (const e of ends) if (!e.master) for (const a of e.addresses) if (a.cidr) addAddr(e.host, a.cidr, segments.find(endKey(e)), e.ifname)
  const nodeAddrs = (node: string): Attachment[] => {
    const b = bridges.get(node)
    if (b) return b.addresses.filter((a) => a.cidr).map((a) => ({ cidr: a.cidr!, segment: segments.find(`bridge:${node}`) }))
    return hostAddrs.get(node) ?? []
  }
  return { hostAddrs, nodeAddrs }
}

/** Network segments: link ends and bridges joined by veths and ports. */
class UnionFind {
  private readonly parent = new Map<string, string>()
  find(x: string): string {
    let root = x
    for (;;) {
      const p = this.parent.get(root)
      if (p === undefined) {
        this.parent.set(root, root)
        break
      }
      if (p === root) break
      root = p
    }
    while (x !== root) {
      const next = this.parent.get(x)!
      this.parent.set(x, root)
      x = next
    }
    return root
  }
  union(a: string, b: string): void {
    const ra = this.find(a),
      rb = this.find(b)
    if (ra !== rb) this.parent.set(ra, rb)
  }
}
