// The selectors of `ip route show` (table, dev, exact/root/match prefixes, proto, type, scope, via),
// checked once and applied to decoded routes in user space.
import { type Cidr, type Family, parseCidr } from '../../netlink/codec.js'
import { familyNumber } from '../rtnl.js'
import { SpecCheck, show } from '../spec-check.js'
import { protocols, RT_TABLE_MAIN, routeTypes, scopes, tables } from './tables.js'
import type { Route, RouteFilter } from './types.js'

export interface CheckedRouteFilter {
  /** undefined means every table. */
  readonly table: number | undefined
  readonly family: Family | undefined
  readonly dev: string | number | undefined
  readonly exact: Cidr | undefined
  readonly root: Cidr | undefined
  readonly match: Cidr | undefined
  readonly protocol: string | undefined
  readonly type: string | undefined
  readonly scope: string | undefined
  readonly gateway: string | undefined
  /** Nothing to check but the table. */
  readonly onlyTable: boolean
}

const KEYS = new Set(['table', 'family', 'dev', 'dst', 'root', 'match', 'protocol', 'type', 'scope', 'gateway'])

export function routeFilter(input: RouteFilter, where: { operation: string; namespace: string | undefined }): CheckedRouteFilter {
  const c: SpecCheck = new SpecCheck(where)
  const f = c.optional(input, 'filter', KEYS) as RouteFilter
  let table: number | undefined = RT_TABLE_MAIN
  if (f.table === 'all') table = undefined
  else if (f.table !== undefined) table = c.named(tables, f.table, 'table')
  let family: Family | undefined = familyNumber(f.family, (m) => c.fail(m))
  const prefix = (v: unknown, what: string): Cidr | undefined => {
    if (v === undefined) return undefined
    if (v === 'default') return parseCidr(family === 6 ? '::/0' : '0.0.0.0/0')
    const p = typeof v === 'string' ? parseCidr(v) : undefined
    if (!p) c.fail(`${what} ${show(v)} is not a prefix`)
    if (family !== undefined && p.family !== family) c.fail(`${what} ${show(v)} is not IPv${family}`)
    family ??= p.family
    return p
  }
  const exact = prefix(f.dst, 'dst')
  const root = prefix(f.root, 'root')
  const match = prefix(f.match, 'match')
  const name = (tbl: { number(v: string | number): number | undefined; name(n: number): string; names(): string[] }, v: unknown, what: string) =>
    v === undefined ? undefined : tbl.name(c.named(tbl, v, what))
  const gateway = f.gateway === undefined ? undefined : parseCidr(c.ip(f.gateway, 'gateway') && (f.gateway as string))!.address
  const dev = f.dev === undefined ? undefined : c.linkRef(f.dev, 'dev')
  const protocol = name(protocols, f.protocol, 'protocol')
  const type = name(routeTypes, f.type, 'route type')
  const scope = name(scopes, f.scope, 'scope')
  const onlyTable = [family, dev, exact, root, match, gateway, protocol, type, scope].every((x) => x === undefined)
  return { table, family, dev, exact, root, match, gateway, protocol, type, scope, onlyTable }
}

/** Network bytes and length of a decoded route's dst. */
function dstOf(r: Route): Cidr {
  if (r.dst === 'default') return parseCidr(r.family === 'inet6' ? '::/0' : '0.0.0.0/0')!
  return parseCidr(r.dst)!
}

/** True when the first `bits` bits of a and b agree. */
function samePrefix(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  let i = 0
  for (; bits >= 8; bits -= 8, i++) if (a[i] !== b[i]) return false
  if (bits === 0) return true
  const mask = (0xff << (8 - bits)) & 0xff
  return (a[i]! & mask) === (b[i]! & mask)
}

export function matchRoute(r: Route, f: CheckedRouteFilter, names: Map<number, string>): boolean {
  if (f.table !== undefined && tables.number(r.table) !== f.table) return false
  if (f.family !== undefined && r.family !== (f.family === 4 ? 'inet' : 'inet6')) return false
  if (f.protocol !== undefined && r.protocol !== f.protocol) return false
  if (f.type !== undefined && r.type !== f.type) return false
  if (f.scope !== undefined && r.scope !== f.scope) return false
  if (f.gateway !== undefined && r.gateway !== f.gateway && !r.nexthops?.some((n) => n.gateway === f.gateway)) return false
  if (f.dev !== undefined) {
    const dev = typeof f.dev === 'number' ? names.get(f.dev) : f.dev
    if (r.dev !== dev && !r.nexthops?.some((n) => n.dev === dev)) return false
  }
  if (f.exact || f.root || f.match) {
    const d = dstOf(r)
    if (f.exact && (d.family !== f.exact.family || d.prefixLength !== f.exact.prefixLength || !samePrefix(d.bytes, f.exact.bytes, d.prefixLength))) return false
    if (f.root && (d.family !== f.root.family || d.prefixLength < f.root.prefixLength || !samePrefix(d.bytes, f.root.bytes, f.root.prefixLength))) return false
    if (f.match && (d.family !== f.match.family || d.prefixLength > f.match.prefixLength || !samePrefix(d.bytes, f.match.bytes, d.prefixLength))) return false
  }
  return true
}
