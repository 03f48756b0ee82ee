// The selectors of `ip route show` (table, dev, exact/root/match prefixes, proto, type, scope, via),
// checked once and applied to decoded routes in user space.
import { parseCidr, parseIP, type Cidr, type Family } from '../../netlink/codec.js'
import { invalidArgument } from '../../netlink/errors.js'
import { checkLinkName } from '../context.js'
import { familyNumber } from '../rtnl.js'
import { tables, protocols, scopes, routeTypes, RT_TABLE_MAIN } from './tables.js'
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

const KEYS = new Set(['table', 'family', 'dev', 'dst', 'root', 'match', 'protocol', 'type', 'scope', 'gateway', 'timeoutMs', 'signal'])

export function routeFilter(f: RouteFilter, where: { operation: string; namespace: string | undefined }): CheckedRouteFilter {
  const bad = (summary: string): never => { throw invalidArgument(summary, where) }
  if (!f || typeof f !== 'object') bad(`filter must be an object, got ${JSON.stringify(f)}`)
  for (const k of Object.keys(f)) if (!KEYS.has(k)) bad(`unknown route filter ${JSON.stringify(k)}`)
  let table: number | undefined = RT_TABLE_MAIN
  if (f.table === 'all') table = undefined
  else if (f.table !== undefined) {
    table = tables.number(f.table as string | number)
    if (table === undefined) bad(`unknown table ${JSON.stringify(f.table)} (use 'all', 'main', 'local', 'default' or a number)`)
  }
  let family: Family | undefined = familyNumber(f.family, bad)
  const prefix = (v: unknown, what: string): Cidr | undefined => {
    if (v === undefined) return undefined
    if (v === 'default') return parseCidr(family === 6 ? '::/0' : '0.0.0.0/0')
    const c = typeof v === 'string' ? parseCidr(v) : undefined
    if (!c) return bad(`${what} ${JSON.stringify(v)} is not a prefix`)
    if (family !== undefined && c.family !== family) bad(`${what} ${v} is not IPv${family}`)
    family ??= c.family
    return c
  }
  const exact = prefix(f.dst, 'dst')
  const root = prefix(f.root, 'root')
  const match = prefix(f.match, 'match')
  const name = (tbl: { number(v: string | number): number | undefined; name(n: number): string }, v: unknown, what: string) => {
    if (v === undefined) return undefined
    const n = typeof v === 'string' || typeof v === 'number' ? tbl.number(v) : undefined
    return n === undefined ? bad(`unknown ${what} ${JSON.stringify(v)}`) : tbl.name(n)
  }
  let gateway: string | undefined
  if (f.gateway !== undefined) {
    const ip = typeof f.gateway === 'string' ? parseIP(f.gateway) : undefined
    if (!ip) bad(`gateway ${JSON.stringify(f.gateway)} is not an address`)
    gateway = parseCidr(f.gateway as string)!.address
  }
  let dev: string | number | undefined
  if (typeof f.dev === 'number') {
    if (!Number.isInteger(f.dev) || f.dev <= 0) bad(`dev index must be a positive integer, got ${f.dev}`)
    dev = f.dev
  } else if (f.dev !== undefined) {
    dev = checkLinkName(f.dev, where, where.operation, 'dev')
  }
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
