// Routes against `ip -d -j route` as the oracle, both directions, plus delete round trips,
// route lookups, batches and the error paths.
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { forEachAttr, parseMessages, Writer } from '../../../src/netlink/codec.js'
import { NLM_F_ACK, NLM_F_REQUEST } from '../../../src/netlink/constants.js'
import { BatchError, isNsnetError, type NsnetError } from '../../../src/netlink/errors.js'
import type { OpsContext } from '../../../src/ops/context.js'
import { encodeRoutes, ROUTE_MODES, type RouteMode } from '../../../src/ops/routes/encode.js'
import { checkRouteQuery, writeRouteQuery } from '../../../src/ops/routes/get.js'
import type { Route, RouteSpec } from '../../../src/ops/routes/operations.js'
import { RTM_GETROUTE } from '../../../src/ops/rtnl.js'
import { Rtnl } from '../../../src/rtnl.js'

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8', maxBuffer: 256 << 20 })
type Json = Record<string, unknown>
const ipJson = (...args: string[]): Json[] => JSON.parse(ip('-j', ...args) || '[]')
/** `ip -d` spells out type, table, protocol and scope, as nsnet always does. */
const ipRoutes = (...args: string[]): Json[] => ipJson('-d', 'route', 'show', ...args)

/**
 * Our Route in `ip -d -j` shape. The documented differences: ip has no `family`, prints
 * metrics as a one-element array without locks, and tos as hex text; absent fields are undefined.
 */
function asIp(r: Route): Json {
  const o: Json = {}
  for (const [k, v] of Object.entries(r)) {
    if (v === undefined || k === 'family') continue
    if (k === 'metrics') {
      const { lock: _lock, ...m } = v as Json
      o.metrics = [m]
    } else if (k === 'tos') {
      o.tos = `0x${(v as number).toString(16)}`
    } else {
      o[k] = v
    }
  }
  return o
}

/** JSON with keys sorted, so lists can be compared as sets. */
function canon(v: unknown): string {
  return JSON.stringify(v, (_k, x) =>
    x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x,
  )
}
const sorted = (a: Json[]) => [...a].sort((x, y) => canon(x).localeCompare(canon(y)))
/**
 * Compares as sets. ip leaves out what a selector fixed (`show table X` omits table, `dev D`
 * omits dev, `proto P` protocol, `type T` type, `via G` gateway): `omit` does the same to ours.
 */
function same(ours: Route[], theirs: Json[], omit: readonly string[] = []): void {
  const mine = ours.map(asIp).map((o) => {
    for (const k of omit) delete o[k]
    return o
  })
  expect(sorted(mine)).toEqual(sorted(theirs))
}
/** Routes in one table by ip's count; a table the kernel has not made yet holds none. */
function ipCount(table: string): number {
  try {
    return ipJson('route', 'show', 'table', table).length
  } catch (e) {
    if (/table does not exist/.test(String((e as { stderr?: string }).stderr))) return 0
    throw e
  }
}

let rt: Rtnl
const A = 'rtA0',
  A1 = 'rtA1',
  B = 'rtB0',
  B1 = 'rtB1'

beforeAll(async () => {
  rt = await Rtnl.open()
  for (const [x, y] of [
    [A, A1],
    [B, B1],
  ] as const) {
    ip('link', 'add', x, 'type', 'veth', 'peer', 'name', y)
    // No DAD on the link-local addresses: their local routes would appear a second later,
    // in the middle of the before/after comparisons below.
    for (const l of [x, y]) writeFileSync(`/proc/sys/net/ipv6/conf/${l}/accept_dad`, '0')
    ip('link', 'set', x, 'up')
    ip('link', 'set', y, 'up')
  }
  ip('addr', 'add', '10.1.0.1/24', 'dev', A)
  ip('addr', 'add', '10.2.0.1/24', 'dev', B)
  ip('addr', 'add', '2001:db8:1::1/64', 'dev', A, 'nodad')
  ip('addr', 'add', '2001:db8:2::1/64', 'dev', B, 'nodad')
})

afterAll(async () => {
  for (const l of [A, B])
    try {
      ip('link', 'del', l)
    } catch {}
  await rt?.close()
})

/** Removes every route that is not the kernel's own, in every table and family. */
function flushOurs(): void {
  const protos = new Set(
    ipRoutes('table', 'all')
      .map((r) => String(r.protocol))
      .filter((p) => p !== 'kernel'),
  )
  for (const fam of ['-4', '-6']) for (const p of protos) ip(fam, 'route', 'flush', 'table', 'all', 'proto', p)
}
afterEach(flushOurs)

const snapshot = () => sorted(ipRoutes('table', 'all'))

async function kernelError(p: Promise<unknown>): Promise<NsnetError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  )
  expect(isNsnetError(e), `expected an NsnetError, got ${String(e)}`).toBe(true)
  return e as NsnetError
}

// A spread of what `ip route add` can make; each also written with ip in the next test.
const variety: RouteSpec[] = [
  { dst: '198.51.100.0/24', gateway: '10.1.0.2' },
  { dst: '198.51.100.7', dev: A, scope: 'link', prefsrc: '10.1.0.1', protocol: 'static' },
  { dst: '192.0.2.0/24', type: 'blackhole' },
  { dst: '192.0.2.128/25', type: 'unreachable', table: 1000 },
  { dst: '203.0.113.64/26', type: 'prohibit', metric: 10 },
  { dst: '203.0.113.0/26', gateway: '10.1.0.2', metric: 7, metrics: { mtu: 1400, advmss: 1300, hoplimit: 5, window: 65535, initcwnd: 10, rtt: 12 } },
  {
    dst: '203.0.113.128/25',
    nexthops: [
      { gateway: '10.1.0.2', weight: 2 },
      { gateway: '10.2.0.2', dev: B, weight: 1 },
    ],
  },
  { dst: '198.18.1.0/24', gateway: '10.9.9.9', dev: A, onlink: true },
  { dst: 'default', gateway: '10.1.0.254', table: 1000 },
  { dst: '198.18.2.0/24', type: 'throw', table: 100 },
  { dst: '198.18.3.1', type: 'local', dev: A, table: 100 },
  { dst: '198.18.4.0/24', gateway: '10.2.0.2', protocol: 'bird', table: 'main' },
  { dst: '198.18.5.0/24', gateway: '10.1.0.2', tos: 0x10 },
  { dst: '2001:db8:10::/64', gateway: '2001:db8:1::2', metric: 5 },
  { dst: '2001:db8:11::/64', dev: A, metrics: { mtu: 1300 }, pref: 'high', table: 1000 },
  {
    dst: '2001:db8:12::/64',
    nexthops: [
      { gateway: '2001:db8:1::2', dev: A, weight: 3 },
      { gateway: '2001:db8:2::2', dev: B },
    ],
  },
  { dst: '2001:db8:13::/64', type: 'blackhole' },
  { family: 'inet6', dst: 'default', gateway: '2001:db8:1::fe' },
]

const varietyByIp: string[][] = [
  ['route', 'add', '198.51.100.0/24', 'via', '10.1.0.2'],
  ['route', 'add', '198.51.100.7', 'dev', A, 'scope', 'link', 'src', '10.1.0.1', 'proto', 'static'],
  ['route', 'add', 'blackhole', '192.0.2.0/24'],
  ['route', 'add', 'unreachable', '192.0.2.128/25', 'table', '1000'],
  ['route', 'add', 'prohibit', '203.0.113.64/26', 'metric', '10'],
  [
    'route',
    'add',
    '203.0.113.0/26',
    'via',
    '10.1.0.2',
    'metric',
    '7',
    'mtu',
    '1400',
    'advmss',
    '1300',
    'hoplimit',
    '5',
    'window',
    '65535',
    'initcwnd',
    '10',
    'rtt',
    '12ms',
  ],
  ['route', 'add', '203.0.113.128/25', 'nexthop', 'via', '10.1.0.2', 'weight', '2', 'nexthop', 'via', '10.2.0.2', 'dev', B, 'weight', '1'],
  ['route', 'add', '198.18.1.0/24', 'via', '10.9.9.9', 'dev', A, 'onlink'],
  ['route', 'add', 'default', 'via', '10.1.0.254', 'table', '1000'],
  ['route', 'add', 'throw', '198.18.2.0/24', 'table', '100'],
  ['route', 'add', 'local', '198.18.3.1', 'dev', A, 'table', '100'],
  ['route', 'add', '198.18.4.0/24', 'via', '10.2.0.2', 'proto', 'bird', 'table', 'main'],
  ['route', 'add', '198.18.5.0/24', 'via', '10.1.0.2', 'tos', '0x10'],
  ['-6', 'route', 'add', '2001:db8:10::/64', 'via', '2001:db8:1::2', 'metric', '5'],
  ['-6', 'route', 'add', '2001:db8:11::/64', 'dev', A, 'mtu', '1300', 'pref', 'high', 'table', '1000'],
  ['-6', 'route', 'add', '2001:db8:12::/64', 'nexthop', 'via', '2001:db8:1::2', 'dev', A, 'weight', '3', 'nexthop', 'via', '2001:db8:2::2', 'dev', B],
  ['-6', 'route', 'add', 'blackhole', '2001:db8:13::/64'],
  ['-6', 'route', 'add', 'default', 'via', '2001:db8:1::fe'],
]

describe('routes: ip as the oracle', () => {
  it('what nsnet adds, ip -d -j route show table all reports identically (and the whole table matches)', async () => {
    for (const r of variety) await rt.routes.add(r)
    const theirs = ipRoutes('table', 'all')
    same(await rt.routes.list({ table: 'all' }), theirs)
    // Spot checks that do not rely on the projection.
    const byDst = new Map(theirs.map((r) => [`${r.table} ${r.dst}`, r]))
    expect(byDst.get('main 203.0.113.128/25')?.nexthops).toEqual([
      { gateway: '10.1.0.2', dev: A, weight: 2, flags: [] },
      { gateway: '10.2.0.2', dev: B, weight: 1, flags: [] },
    ])
    expect(byDst.get('main 203.0.113.0/26')?.metrics).toEqual([{ mtu: 1400, advmss: 1300, hoplimit: 5, window: 65535, initcwnd: 10, rtt: 12 }])
    expect(byDst.get('1000 192.0.2.128/25')?.type).toBe('unreachable')
    expect(byDst.get('main 198.18.1.0/24')?.flags).toEqual(['onlink'])
    expect(byDst.get('main 198.51.100.7')).toMatchObject({ protocol: 'static', scope: 'link', prefsrc: '10.1.0.1' })
    expect(byDst.get('main 2001:db8:12::/64')?.nexthops).toEqual([
      { gateway: '2001:db8:1::2', dev: A, weight: 3, flags: [] },
      { gateway: '2001:db8:2::2', dev: B, weight: 1, flags: [] },
    ])
  })

  it('what ip adds, nsnet decodes identically', async () => {
    for (const args of varietyByIp) ip(...args)
    same(await rt.routes.list({ table: 'all' }), ipRoutes('table', 'all'))
  })

  it('adding the same routes with ip and with nsnet gives the same kernel state', async () => {
    for (const args of varietyByIp) ip(...args)
    const byIp = snapshot()
    flushOurs()
    for (const r of variety) await rt.routes.add(r)
    expect(snapshot()).toEqual(byIp)
  })

  it('lists one table by default (main), like ip route show, and filters as ip does', async () => {
    for (const r of variety) await rt.routes.add(r)
    const v4 = (rs: Route[]) => rs.filter((r) => r.family === 'inet')
    const T = ['table']
    same(v4(await rt.routes.list()), ipRoutes(), T)
    same(await rt.routes.list({ family: 'inet6' }), ipJson('-d', '-6', 'route', 'show'), T)
    same(await rt.routes.list({ table: 1000 }), ipRoutes('table', '1000').concat(ipJson('-d', '-6', 'route', 'show', 'table', '1000')), T)
    same(await rt.routes.list({ table: 'local', family: 4 }), ipRoutes('table', 'local'), T)
    // dev also selects a multipath route with a path through it; ip's `dev` looks at RTA_OIF only.
    const viaB = v4(await rt.routes.list({ dev: B }))
    expect(viaB.filter((r) => r.nexthops).map((r) => r.dst)).toEqual(['203.0.113.128/25'])
    same(
      viaB.filter((r) => !r.nexthops),
      ipRoutes('dev', B),
      [...T, 'dev'],
    )
    same(await rt.routes.list({ protocol: 'static' }), ipRoutes('proto', 'static'), [...T, 'protocol'])
    same(await rt.routes.list({ type: 'blackhole', family: 'inet' }), ipRoutes('type', 'blackhole'), T)
    same(await rt.routes.list({ dst: '203.0.113.0/26' }), ipRoutes('exact', '203.0.113.0/26'), T)
    same(await rt.routes.list({ root: '203.0.113.0/24' }), ipRoutes('root', '203.0.113.0/24'), T)
    same(await rt.routes.list({ match: '203.0.113.70' }), ipRoutes('match', '203.0.113.70'), T)
    const viaGw = await rt.routes.list({ gateway: '10.1.0.2', family: 4 })
    same(
      viaGw.filter((r) => !r.nexthops),
      ipRoutes('via', '10.1.0.2'),
      [...T, 'gateway'],
    )
    // The filters did select something, so the comparisons above were not of empty lists.
    expect((await rt.routes.list({ root: '203.0.113.0/24' })).length).toBe(3)
  })

  it('decodes expires, from (source prefix), via of the other family and locked metrics as ip shows them', async () => {
    ip('-6', 'route', 'add', '2001:db8:20::/64', 'dev', A, 'expires', '300')
    ip('route', 'add', '198.18.6.0/24', 'via', 'inet6', '2001:db8:1::2', 'dev', A)
    ip('route', 'add', '198.18.7.0/24', 'via', '10.1.0.2', 'mtu', 'lock', '1280')
    let from = true
    try {
      ip('-6', 'route', 'add', '2001:db8:21::/64', 'from', '2001:db8:22::/64', 'dev', A)
    } catch {
      from = false
    }
    const ours = await rt.routes.list({ table: 'all' })
    const theirs = ipRoutes('table', 'all')
    // expires counts down: compare it within a second, then the rest exactly.
    const exp = ours.find((r) => r.dst === '2001:db8:20::/64')!
    const expIp = theirs.find((r) => r.dst === '2001:db8:20::/64')!
    expect(Math.abs(exp.expires! - (expIp.expires as number))).toBeLessThanOrEqual(1)
    expect(exp.expires).toBeGreaterThan(290)
    same(
      ours.filter((r) => r !== exp),
      theirs.filter((r) => r !== expIp),
    )
    expect(ours.find((r) => r.dst === '198.18.6.0/24')?.via).toEqual({ family: 'inet6', host: '2001:db8:1::2' })
    expect(ours.find((r) => r.dst === '198.18.7.0/24')?.metrics).toEqual({ mtu: 1280, lock: ['mtu'] })
    if (from) expect(ours.find((r) => r.dst === '2001:db8:21::/64')?.from).toBe('2001:db8:22::/64')
  })

  it('routes nsnet adds with via, from, locked metrics and expires read back the same through ip', async () => {
    await rt.routes.add({ dst: '198.18.6.0/24', via: { family: 'inet6', host: '2001:db8:1::2' }, dev: A })
    await rt.routes.add({ dst: '198.18.7.0/24', gateway: '10.1.0.2', metrics: { mtu: 1280, lock: ['mtu'] } })
    await rt.routes.add({ dst: '2001:db8:20::/64', dev: A, expires: 300 })
    const theirs = ipRoutes('table', 'all')
    expect(theirs.find((r) => r.dst === '198.18.6.0/24')?.via).toEqual({ family: 'inet6', host: '2001:db8:1::2' })
    expect(ip('route', 'show', '198.18.7.0/24')).toMatch(/mtu lock 1280/)
    expect(theirs.find((r) => r.dst === '2001:db8:20::/64')?.expires).toBeGreaterThan(290)
  })
})

describe('routes: delete, replace, append', () => {
  it('every object list() returns, passed back to delete(), removes exactly that route', async () => {
    for (const r of variety) await rt.routes.add(r)
    const mine = (await rt.routes.list({ table: 'all' })).filter((r) => r.protocol !== 'kernel')
    expect(mine.length).toBe(variety.length)
    for (const r of mine) {
      const before = snapshot()
      await rt.routes.delete(r)
      const after = snapshot()
      // Exactly this one vanished (the kernel may add link-local routes meanwhile, as DAD ends).
      const gone = before.filter((x) => !after.some((y) => canon(y) === canon(x)))
      expect(gone, `deleting ${JSON.stringify(r)}`).toEqual([asIp(r)])
    }
  })

  it('deletes a kernel route from list() too (the local table entry of an address), and only it', async () => {
    ip('addr', 'add', '10.3.0.1/24', 'dev', A)
    try {
      const local = (await rt.routes.list({ table: 'local' })).find((r) => r.dst === '10.3.0.1')!
      expect(local).toMatchObject({ type: 'local', protocol: 'kernel', scope: 'host', prefsrc: '10.3.0.1', dev: A })
      const before = snapshot()
      await rt.routes.delete(local)
      const after = snapshot()
      expect(before.filter((x) => !after.some((y) => canon(y) === canon(x)))).toEqual([asIp(local)])
    } finally {
      ip('addr', 'del', '10.3.0.1/24', 'dev', A)
    }
  })

  it('routes through nexthop objects (nhid): add, and list() objects replace and delete themselves', async () => {
    ip('nexthop', 'add', 'id', '10', 'via', '10.1.0.2', 'dev', A)
    ip('nexthop', 'add', 'id', '11', 'blackhole')
    try {
      await rt.routes.add({ dst: '198.18.30.0/24', nhid: 10 })
      ip('route', 'add', '198.18.31.0/24', 'nhid', '11')
      const theirs = ipRoutes('table', 'all').filter((r) => r.nhid !== undefined)
      const ours = (await rt.routes.list({ table: 'all' })).filter((r) => r.nhid !== undefined)
      // ip -d adds nh_info, which it reads with a separate nexthop request.
      same(
        ours,
        theirs.map(({ nh_info: _n, ...r }) => r),
      )
      expect(ours.find((r) => r.dst === '198.18.30.0/24')).toMatchObject({ nhid: 10, gateway: '10.1.0.2', dev: A })
      const before = snapshot()
      for (const r of ours) await rt.routes.replace(r)
      expect(snapshot()).toEqual(before)
      for (const r of ours) {
        await rt.routes.delete(r)
        expect(ipRoutes('exact', r.dst)).toEqual([])
      }
    } finally {
      ip('nexthop', 'flush')
    }
  })

  it('delete with only dst removes the route like ip route del does; a missing route is ESRCH', async () => {
    await rt.routes.add({ dst: '198.18.8.0/24', gateway: '10.1.0.2' })
    await rt.routes.delete({ dst: '198.18.8.0/24' })
    expect(ipRoutes('exact', '198.18.8.0/24')).toEqual([])
    const e = await kernelError(rt.routes.delete({ dst: '198.18.8.0/24' }))
    expect(e.code).toBe('ESRCH')
    expect(e.object).toBe('route 198.18.8.0/24')
  })

  it('replace() overwrites and creates; list() objects replace themselves without change', async () => {
    await rt.routes.add({ dst: '198.18.9.0/24', gateway: '10.1.0.2' })
    await rt.routes.replace({ dst: '198.18.9.0/24', gateway: '10.2.0.2' })
    expect(ipRoutes('exact', '198.18.9.0/24')).toMatchObject([{ gateway: '10.2.0.2', dev: B }])
    await rt.routes.replace({ dst: '198.18.10.0/24', type: 'blackhole' })
    expect(ipRoutes('exact', '198.18.10.0/24')).toMatchObject([{ type: 'blackhole' }])
    for (const r of variety) await rt.routes.add(r)
    const before = snapshot()
    for (const r of (await rt.routes.list({ table: 'all' })).filter((x) => x.protocol !== 'kernel')) await rt.routes.replace(r)
    expect(snapshot()).toEqual(before)
  })

  it('append() adds a second IPv4 route with the same key and an IPv6 path, as ip route append', async () => {
    await rt.routes.add({ dst: '198.18.11.0/24', gateway: '10.1.0.2' })
    await rt.routes.append({ dst: '198.18.11.0/24', gateway: '10.2.0.2' })
    ip('route', 'add', '198.18.12.0/24', 'via', '10.1.0.2')
    ip('route', 'append', '198.18.12.0/24', 'via', '10.2.0.2')
    const strip = (rs: Json[]) => rs.map((r) => ({ ...r, dst: 'x' }))
    expect(strip(ipRoutes('exact', '198.18.11.0/24'))).toEqual(strip(ipRoutes('exact', '198.18.12.0/24')))
    expect(ipRoutes('exact', '198.18.11.0/24')).toHaveLength(2)
    await rt.routes.add({ dst: '2001:db8:30::/64', gateway: '2001:db8:1::2' })
    await rt.routes.append({ dst: '2001:db8:30::/64', gateway: '2001:db8:2::2', dev: B })
    expect(ipJson('-d', '-6', 'route', 'show', 'exact', '2001:db8:30::/64')[0]?.nexthops).toEqual([
      { gateway: '2001:db8:1::2', dev: A, weight: 1, flags: [] },
      { gateway: '2001:db8:2::2', dev: B, weight: 1, flags: [] },
    ])
  })
})

describe('routes.get', () => {
  /** `ip -d -j route get`: ip leaves protocol/scope out for IPv4 answers and adds a cache array. */
  function sameAsGet(r: Route, theirs: Json): void {
    const ours = asIp(r)
    const { cache: _cache, ...rest } = theirs
    for (const k of Object.keys(ours)) if (!(k in rest)) expect(['protocol', 'scope'], `field ${k}`).toContain(k)
    for (const [k, v] of Object.entries(rest)) expect(ours[k], `field ${k}`).toEqual(v)
  }

  it('answers as ip route get, for IPv4 and IPv6, with from / oif / mark', async () => {
    await rt.routes.add({ dst: '198.18.20.0/24', gateway: '10.1.0.2', metrics: { mtu: 1400 } })
    await rt.routes.add({ dst: '198.18.21.0/24', gateway: '10.2.0.2', table: 1000 })
    await rt.routes.add({ dst: '2001:db8:40::/64', gateway: '2001:db8:2::2' })
    sameAsGet(await rt.routes.get('198.18.20.5'), ipJson('-d', 'route', 'get', '198.18.20.5')[0]!)
    sameAsGet(await rt.routes.get('198.18.20.5', { from: '10.1.0.1' }), ipJson('-d', 'route', 'get', '198.18.20.5', 'from', '10.1.0.1')[0]!)
    sameAsGet(await rt.routes.get('10.2.0.9', { oif: B }), ipJson('-d', 'route', 'get', '10.2.0.9', 'oif', B)[0]!)
    sameAsGet(await rt.routes.get('198.18.20.5', { mark: 7 }), ipJson('-d', 'route', 'get', '198.18.20.5', 'mark', '7')[0]!)
    // As if a packet from 10.1.0.2 came in on A: delivered locally.
    const input = await rt.routes.get('10.1.0.1', { from: '10.1.0.2', iif: A })
    expect(input).toMatchObject({ type: 'local', iif: A, from: '10.1.0.2' })
    sameAsGet(input, ipJson('-d', 'route', 'get', '10.1.0.1', 'from', '10.1.0.2', 'iif', A)[0]!)
    sameAsGet(await rt.routes.get('2001:db8:40::1'), ipJson('-d', '-6', 'route', 'get', '2001:db8:40::1')[0]!)
    sameAsGet(await rt.routes.get('198.18.20.5', { fibmatch: true }), ipJson('-d', 'route', 'get', '198.18.20.5', 'fibmatch')[0]!)
    const r = await rt.routes.get('198.18.20.5')
    expect(r).toMatchObject({ dst: '198.18.20.5', gateway: '10.1.0.2', dev: A, prefsrc: '10.1.0.1', table: 'main', metrics: { mtu: 1400 } })
    // Not in main and no rule sends us to table 1000: unreachable, as ip says.
    const e = await kernelError(rt.routes.get('198.18.21.1'))
    expect(e.code).toBe('ENETUNREACH')
    expect(() => ip('route', 'get', '198.18.21.1')).toThrow(/unreachable/i)
  })

  it('refuses bad input before asking', async () => {
    expect((await kernelError(rt.routes.get('10.1.0.300'))).code).toBe('EINVAL_ARGUMENT')
    expect((await kernelError(rt.routes.get('10.1.0.3', { from: '2001:db8::1' }))).code).toBe('EINVAL_ARGUMENT')
    expect((await kernelError(rt.routes.get('10.1.0.3', { oif: 'nosuchdev0' }))).code).toBe('ENODEV')
  })
})

describe('routes: batches', () => {
  const many = (n: number, table: number): RouteSpec[] =>
    Array.from({ length: n }, (_, i) => ({ dst: `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`, gateway: '10.1.0.2', dev: A, table }))

  it('addMany of 10,000 routes: ip counts them; deleteMany removes them all', async () => {
    const routes = many(10_000, 2000)
    const res = await rt.routes.addMany(routes)
    expect(res.sent).toBe(10_000)
    expect(ipCount('2000')).toBe(10_000)
    expect(ipJson('route', 'show', 'table', '2000', 'exact', '10.100.39.15/32')).toEqual([{ dst: '10.100.39.15', gateway: '10.1.0.2', dev: A, flags: [] }])
    const listed = await rt.routes.list({ table: 2000 })
    same(listed, ipRoutes('table', '2000'), ['table'])
    await rt.routes.deleteMany(listed)
    expect(ipCount('2000')).toBe(0)
  })

  it("a batch with one duplicate reports that item's index; the others are added", async () => {
    const routes = many(100, 2001)
    await rt.routes.add(routes[42]!)
    const e = await kernelError(rt.routes.addMany(routes))
    expect(e).toBeInstanceOf(BatchError)
    const b = e as BatchError
    expect(b.failures.map((f) => [f.index, f.code])).toEqual([[42, 'EEXIST']])
    expect(b.failures[0]!.object).toBe(`route 10.100.0.42 via 10.1.0.2 dev ${A} table 2001`)
    expect(ipCount('2001')).toBe(100)
  })

  it('an invalid item fails the whole batch before anything is sent, naming its index', async () => {
    const routes: RouteSpec[] = many(50, 2002)
    const bad = [...routes.slice(0, 20), { dst: '10.1.2.300/32', gateway: '10.1.0.2' }, ...routes.slice(20)]
    const e = await kernelError(rt.routes.addMany(bad))
    expect(e.code).toBe('EINVAL_ARGUMENT')
    expect(e.index).toBe(20)
    expect(e.object).toBe('route 10.1.2.300/32 via 10.1.0.2')
    const noDev = [...routes.slice(0, 7), { dst: '10.1.3.0/24', dev: 'nosuchdev0' }, ...routes.slice(7)]
    const e2 = await kernelError(rt.routes.addMany(noDev))
    expect(e2.code).toBe('ENODEV')
    expect(e2.index).toBe(7)
    expect(e2.object).toBe('route 10.1.3.0/24 dev nosuchdev0')
    expect(ipCount('2002')).toBe(0)
  })
})

describe('routes: errors', () => {
  const bad: Array<[string, RouteSpec, RegExp]> = [
    ['bad prefix', { dst: '10.0.0.300/24' }, /not 'default' or an IPv4\/IPv6 prefix/],
    ['prefix length too long', { dst: '10.0.0.0/33' }, /prefix/],
    ['ambiguous prefix length', { dst: '10.0.0.0/024' }, /prefix/],
    ['host bits', { dst: '10.0.2.7/24', gateway: '10.1.0.2' }, /host bits/],
    ['gateway of the wrong family', { dst: '10.0.2.0/24', gateway: '2001:db8:1::2' }, /IPv6 but the route is IPv4/],
    ['prefsrc of the wrong family', { dst: '2001:db8:50::/64', dev: A, prefsrc: '10.1.0.1' }, /IPv4 but the route is IPv6/],
    ['unknown table name', { dst: '10.0.2.0/24', gateway: '10.1.0.2', table: 'nosuchtable' }, /unknown table "nosuchtable"/],
    ['unknown protocol', { dst: '10.0.2.0/24', gateway: '10.1.0.2', protocol: 'nosuch' }, /unknown protocol/],
    ['unknown type', { dst: '10.0.2.0/24', type: 'teleport' }, /unknown route type/],
    ['unknown scope', { dst: '10.0.2.0/24', dev: A, scope: 'galaxy' }, /unknown scope/],
    ['unknown field', { dst: '10.0.2.0/24', gw: '10.1.0.2' } as unknown as RouteSpec, /unknown field "gw"/],
    ['unknown metric', { dst: '10.0.2.0/24', gateway: '10.1.0.2', metrics: { speed: 1 } as never }, /unknown metric/],
    ['metric out of range', { dst: '10.0.2.0/24', gateway: '10.1.0.2', metric: -1 }, /metric must be an integer/],
    ['weight out of range', { dst: '10.0.2.0/24', nexthops: [{ gateway: '10.1.0.2', weight: 300 }] }, /weight/],
    ['onlink without dev', { dst: '10.0.2.0/24', gateway: '10.1.0.2', onlink: true }, /needs a dev/],
    ['gateway both at top and in nexthops', { dst: '10.0.2.0/24', gateway: '10.1.0.2', nexthops: [{ gateway: '10.2.0.2' }] }, /not both/],
    ['pref on IPv4', { dst: '10.0.2.0/24', gateway: '10.1.0.2', pref: 'high' }, /IPv6 routes only/],
    ['bad dev name', { dst: '10.0.2.0/24', dev: 'a name with spaces' }, /dev/],
  ]
  for (const [what, spec, message] of bad) {
    it(`refuses ${what} with EINVAL_ARGUMENT before sending anything`, async () => {
      const before = snapshot()
      const e = await kernelError(rt.routes.add(spec))
      expect(e.code).toBe('EINVAL_ARGUMENT')
      expect(e.operation).toBe('routes.add')
      expect(e.message).toMatch(message)
      expect(snapshot()).toEqual(before)
    })
  }

  it('a duplicate is EEXIST naming the route; a missing device is ENODEV', async () => {
    await rt.routes.add({ dst: '10.5.2.0/24', gateway: '10.1.0.1', dev: A })
    const before = snapshot()
    const e = await kernelError(rt.routes.add({ dst: '10.5.2.0/24', gateway: '10.1.0.1', dev: A }))
    expect(e.code).toBe('EEXIST')
    expect(e.object).toBe(`route 10.5.2.0/24 via 10.1.0.1 dev ${A}`)
    expect(e.operation).toBe('routes.add')
    const e2 = await kernelError(rt.routes.add({ dst: '10.5.3.0/24', dev: 'nosuchdev0' }))
    expect(e2.code).toBe('ENODEV')
    expect(e2.object).toBe('route 10.5.3.0/24 dev nosuchdev0')
    const e3 = await kernelError(rt.routes.add({ dst: '10.5.4.0/24', gateway: '192.0.2.99' }))
    expect(e3.code).toBe('ENETUNREACH')
    expect(snapshot()).toEqual(before)
  })

  it('list() refuses unknown filters and tables', async () => {
    expect((await kernelError(rt.routes.list({ table: 'nosuchtable' }))).code).toBe('EINVAL_ARGUMENT')
    expect((await kernelError(rt.routes.list({ color: 'red' } as never))).code).toBe('EINVAL_ARGUMENT')
    expect((await kernelError(rt.routes.list({ dst: 'nonsense' }))).code).toBe('EINVAL_ARGUMENT')
  })
})

describe('routes: results', () => {
  it('are frozen and survive JSON unchanged (undefined fields drop out)', async () => {
    await rt.routes.add(variety[6]!)
    const r = (await rt.routes.list()).find((x) => x.dst === '203.0.113.128/25')!
    expect(Object.isFrozen(r)).toBe(true)
    expect(Object.isFrozen(r.nexthops)).toBe(true)
    expect(Object.isFrozen(r.nexthops![0])).toBe(true)
    const round = JSON.parse(JSON.stringify(r)) as Route
    expect(round).toEqual(r)
    await rt.routes.delete(round)
    expect(ipRoutes('exact', '203.0.113.128/25')).toEqual([])
  })
})

describe('routes: bytes against what ip sends (test/golden/routes, captured with strace)', () => {
  /** The first route message `ip` sent in a golden capture. */
  function ipMessage(name: string): Buffer {
    const v = JSON.parse(readFileSync(new URL(`../../golden/routes/${name}.json`, import.meta.url), 'utf8')) as {
      exchanges: Array<{ dir: string; hex: string }>
    }
    for (const e of v.exchanges.filter((x) => x.dir === 'send')) {
      for (const m of parseMessages(Buffer.from(e.hex, 'hex'))) if (m.type >= 24 && m.type <= 26) return m.buf.subarray(m.start - 16, m.end)
    }
    throw new Error(`no route message in ${name}`)
  }

  /**
   * Type, flags (ACK aside), rtmsg, and the attributes as a set: ip writes them in the order of its
   * arguments, nsnet in a fixed one; nested metrics are compared as sets too. The NLA_F_NESTED bit
   * is masked (ip leaves it off RTA_METRICS; the kernel accepts both).
   */
  function canonical(msg: Buffer): unknown {
    const attrs = (start: number, end: number, nestedTypes: number[]): string[] => {
      const out: string[] = []
      forEachAttr(msg, start, end, (t, o, l) => {
        out.push(nestedTypes.includes(t) ? `${t}:{${attrs(o, o + l, []).join(',')}}` : `${t}:${msg.toString('hex', o, o + l)}`)
      })
      return out.sort()
    }
    return {
      type: msg.readUInt16LE(4),
      flags: msg.readUInt16LE(6) & ~NLM_F_ACK,
      rtmsg: msg.toString('hex', 16, 28),
      attrs: attrs(28, msg.readUInt32LE(0), [8]),
    }
  }

  /** No device names below, so encoding needs no socket; rg0 was ifindex 3 in the capture. */
  const offline = { namespace: undefined, sock: undefined } as unknown as OpsContext
  async function ours(spec: RouteSpec, mode: RouteMode): Promise<Buffer> {
    const [m] = await encodeRoutes(offline, [spec], mode)
    const w = new Writer()
    const start = w.beginMessage(m!.type, NLM_F_REQUEST | NLM_F_ACK | m!.flags, 1)
    m!.body(w)
    w.endMessage(start)
    return w.toBuffer()
  }

  const rg0 = 3
  const cases: Array<[string, RouteSpec, RouteMode]> = [
    ['add-via', { dst: '10.9.0.0/16', gateway: '10.0.0.2' }, ROUTE_MODES.add],
    ['add-dev-scope-src', { dst: '10.9.1.0/24', dev: rg0, scope: 'link', prefsrc: '10.0.0.1', protocol: 'static', metric: 5 }, ROUTE_MODES.add],
    ['add-unreachable-table', { dst: '192.0.2.0/24', type: 'unreachable', table: 1000 }, ROUTE_MODES.add],
    ['add-blackhole-table100', { dst: '192.0.2.0/25', type: 'blackhole', table: 100 }, ROUTE_MODES.add],
    ['add-metrics', { dst: '10.9.2.0/24', gateway: '10.0.0.2', dev: rg0, metrics: { mtu: 1400, advmss: 1300, hoplimit: 5, rtt: 12 } }, ROUTE_MODES.add],
    [
      'add-multipath',
      {
        dst: '10.9.3.0/24',
        nexthops: [
          { gateway: '10.0.0.2', weight: 2 },
          { gateway: '10.0.0.3', dev: rg0 },
        ],
      },
      ROUTE_MODES.add,
    ],
    ['add-onlink', { dst: '10.9.4.0/24', gateway: '10.9.9.9', dev: rg0, onlink: true }, ROUTE_MODES.add],
    ['add-local', { dst: '10.9.5.1', type: 'local', dev: rg0, table: 100 }, ROUTE_MODES.add],
    ['add-v6', { dst: '2001:db8:1::/64', gateway: '2001:db8::2', metric: 5, pref: 'high' }, ROUTE_MODES.add],
    [
      'add-v6-multipath',
      {
        dst: '2001:db8:2::/64',
        nexthops: [
          { gateway: '2001:db8::2', dev: rg0, weight: 3 },
          { gateway: '2001:db8::3', dev: rg0 },
        ],
      },
      ROUTE_MODES.add,
    ],
    ['replace-default', { dst: 'default', gateway: '10.0.0.254', table: 100 }, ROUTE_MODES.replace],
    ['append-v4', { dst: '10.9.6.0/24', gateway: '10.0.0.2' }, ROUTE_MODES.append],
    ['del-dst', { dst: '10.9.0.0/16' }, ROUTE_MODES.delete],
    ['del-full', { dst: '10.9.7.0/24', gateway: '10.0.0.2', dev: rg0, table: 1000, metric: 9 }, ROUTE_MODES.delete],
  ]
  for (const [name, spec, mode] of cases) {
    it(`${name}: the same message as \`${JSON.parse(readFileSync(new URL(`../../golden/routes/${name}.json`, import.meta.url), 'utf8')).command}\``, async () => {
      expect(canonical(await ours(spec, mode))).toEqual(canonical(ipMessage(name)))
    })
  }

  const gets: Array<[string, string, { from?: string; mark?: number }]> = [
    ['get', '10.9.0.7', {}],
    ['get-from-mark', '10.9.0.7', { from: '10.0.0.1', mark: 7 }],
    ['get-v6', '2001:db8::99', {}],
  ]
  for (const [name, dst, opts] of gets) {
    it(`${name}: the same question as ip route get`, () => {
      const w = new Writer()
      const start = w.beginMessage(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_ACK, 1)
      writeRouteQuery(w, checkRouteQuery(dst, opts, {}))
      w.endMessage(start)
      expect(canonical(w.toBuffer())).toEqual(canonical(ipMessage(name)))
    })
  }
})
