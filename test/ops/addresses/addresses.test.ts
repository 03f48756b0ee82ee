// Addresses against `ip -j addr show` as the oracle, both directions, plus delete round trips,
// flush, waiting for IPv6 DAD, and the error paths.
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { isNsnetError, type NsnetError } from '../../../src/netlink/errors.js'
import type { Address, AddressOptions } from '../../../src/ops/addresses/operations.js'
import { Rtnl } from '../../../src/rtnl.js'

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' })
type Json = Record<string, unknown>
/** The addr_info entries `ip -j addr show ...` prints, of every link it lists. */
const ipAddrs = (...args: string[]): Json[] =>
  (JSON.parse(ip('-j', ...args) || '[]') as Array<{ addr_info?: Json[] }>)
    .flatMap((l) => l.addr_info ?? [])
    // ip prints `{}` for the addresses a `label` selector skipped.
    .filter((a) => Object.keys(a).length > 0)

/**
 * Our Address in `ip -j` addr_info shape. Documented differences: we add ifindex and ifname,
 * and `protocol` (IFA_PROTO), which iproute2 6.1 does not print.
 */
function asIp(a: Address): Json {
  const { ifindex: _i, ifname: _n, protocol: _p, ...rest } = a
  return rest
}
// Lifetimes of dynamic addresses count down between two reads: round them to 10 s on both sides.
const settle = (o: Json): Json =>
  o.dynamic ? { ...o, valid_life_time: Math.round(Number(o.valid_life_time) / 10), preferred_life_time: Math.round(Number(o.preferred_life_time) / 10) } : o
const key = (o: Json) => `${o.family} ${o.local} ${o.prefixlen} ${o.address ?? ''}`
const sorted = (a: Json[]) => [...a].map(settle).sort((x, y) => key(x).localeCompare(key(y)))
const same = (ours: Address[], theirs: Json[]) => expect(sorted(ours.map(asIp))).toEqual(sorted(theirs))

const dad = (link: string, on: boolean) => writeFileSync(`/proc/sys/net/ipv6/conf/${link}/accept_dad`, on ? '1' : '0')

let rt: Rtnl
const A = 'adA0',
  A1 = 'adA1',
  B = 'adB0',
  B1 = 'adB1'

beforeAll(async () => {
  rt = await Rtnl.open()
  for (const [x, y] of [
    [A, A1],
    [B, B1],
  ] as const) {
    ip('link', 'add', x, 'type', 'veth', 'peer', 'name', y)
    // No DAD unless a test asks for it: a tentative flag that clears between two reads
    // would make the comparisons below flaky.
    for (const l of [x, y]) dad(l, false)
    ip('link', 'set', x, 'up')
    ip('link', 'set', y, 'up')
  }
})

afterAll(async () => {
  for (const l of [A, B])
    try {
      ip('link', 'del', l)
    } catch {}
  await rt?.close()
})

afterEach(() => {
  for (const l of [A, A1, B, B1]) ip('addr', 'flush', 'dev', l)
  ip('link', 'set', A, 'up')
  ip('link', 'set', A1, 'up')
})

async function failure(p: Promise<unknown>): Promise<NsnetError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  )
  expect(isNsnetError(e), `expected an NsnetError, got ${String(e)}`).toBe(true)
  return e as NsnetError
}

const snapshot = () => sorted([...ipAddrs('addr', 'show', 'dev', A), ...ipAddrs('addr', 'show', 'dev', B)])

// The same addresses, once as nsnet calls and once as ip commands.
const variety: Array<[string, string, AddressOptions]> = [
  [A, '10.20.0.1/24', { broadcast: '+', label: `${A}:a` }],
  [A, '10.20.0.2/24', { label: `${A}:b` }],
  [A, '10.20.9.1/32', { peer: '10.20.9.2' }],
  [A, '10.20.8.1/16', { validLifetime: 1000, preferredLifetime: 500, flags: ['noprefixroute'], metric: 77 }],
  [A, '10.20.7.1/24', { broadcast: '10.20.7.99', scope: 'link' }],
  [A, '2001:db8:20::1/64', { flags: ['nodad', 'home', 'noprefixroute'] }],
  [A, '2001:db8:21::1/64', { flags: ['nodad'], validLifetime: 2000, preferredLifetime: 0 }],
  [A, '2001:db8:22::1/64', { flags: ['nodad', 'mngtmpaddr'] }],
  [B, '10.21.0.1/30', { broadcast: '-' }],
  [B, '2001:db8:23::1/64', { flags: ['nodad'], metric: 5 }],
]
const varietyByIp: string[][] = [
  ['10.20.0.1/24', 'dev', A, 'brd', '+', 'label', `${A}:a`],
  ['10.20.0.2/24', 'dev', A, 'label', `${A}:b`],
  ['10.20.9.1', 'peer', '10.20.9.2/32', 'dev', A],
  ['10.20.8.1/16', 'dev', A, 'valid_lft', '1000', 'preferred_lft', '500', 'noprefixroute', 'metric', '77'],
  ['10.20.7.1/24', 'brd', '10.20.7.99', 'dev', A, 'scope', 'link'],
  ['2001:db8:20::1/64', 'dev', A, 'nodad', 'home', 'noprefixroute'],
  ['2001:db8:21::1/64', 'dev', A, 'nodad', 'valid_lft', '2000', 'preferred_lft', '0'],
  ['2001:db8:22::1/64', 'dev', A, 'nodad', 'mngtmpaddr'],
  ['10.21.0.1/30', 'dev', B, 'brd', '-'],
  ['2001:db8:23::1/64', 'dev', B, 'nodad', 'metric', '5'],
]

describe('addresses: ip as the oracle', () => {
  it('what nsnet adds, ip -j addr show reports identically', async () => {
    for (const [link, a, o] of variety) await rt.addresses.add(link, a, o)
    same(await rt.addresses.list({ link: A }), ipAddrs('addr', 'show', 'dev', A))
    same(await rt.addresses.list({ link: B }), ipAddrs('addr', 'show', 'dev', B))
    // Spot checks that do not go through the projection.
    const byLocal = new Map(ipAddrs('addr', 'show', 'dev', A).map((x) => [x.local, x]))
    expect(byLocal.get('10.20.0.1')).toMatchObject({ broadcast: '10.20.0.255', label: `${A}:a` })
    expect(byLocal.get('10.20.0.2')).toMatchObject({ secondary: true, label: `${A}:b` })
    expect(byLocal.get('10.20.9.1')).toMatchObject({ address: '10.20.9.2', prefixlen: 32 })
    expect(byLocal.get('10.20.8.1')).toMatchObject({ dynamic: true, noprefixroute: true, metric: 77 })
    expect(byLocal.get('2001:db8:21::1')).toMatchObject({ deprecated: true, dynamic: true, preferred_life_time: 0 })
    expect(ipAddrs('addr', 'show', 'dev', B).find((x) => x.local === '10.21.0.1')?.broadcast).toBe('10.21.0.0')
  })

  it('what ip adds, nsnet decodes identically', async () => {
    for (const args of varietyByIp) ip('addr', 'add', ...args)
    same(await rt.addresses.list({ link: A }), ipAddrs('addr', 'show', 'dev', A))
    same(await rt.addresses.list({ link: B }), ipAddrs('addr', 'show', 'dev', B))
    // The whole namespace too (lo, the peers' link-local addresses...).
    same(await rt.addresses.list(), ipAddrs('addr', 'show'))
  })

  it('adding with ip and with nsnet gives the same kernel state', async () => {
    for (const args of varietyByIp) ip('addr', 'add', ...args)
    const byIp = snapshot()
    for (const l of [A, B]) ip('addr', 'flush', 'dev', l)
    for (const [link, a, o] of variety) await rt.addresses.add(link, a, o)
    expect(snapshot()).toEqual(byIp)
  })

  it('filters by link, family, label pattern and scope as ip addr show does', async () => {
    for (const [link, a, o] of variety) await rt.addresses.add(link, a, o)
    same(await rt.addresses.list({ family: 'inet' }), ipAddrs('-4', 'addr', 'show'))
    same(await rt.addresses.list({ family: 6, link: A }), ipAddrs('-6', 'addr', 'show', 'dev', A))
    same(await rt.addresses.list({ label: `${A}:*` }), ipAddrs('addr', 'show', 'label', `${A}:*`))
    same(await rt.addresses.list({ label: A }), ipAddrs('addr', 'show', 'label', A))
    same(await rt.addresses.list({ scope: 'link' }), ipAddrs('addr', 'show', 'scope', 'link'))
    expect((await rt.addresses.list({ label: `${A}:*` })).map((a) => a.local).sort()).toEqual(['10.20.0.1', '10.20.0.2'])
  })

  it('what list() returns, add() and replace() take back: flushed and re-added, the kernel holds the same', async () => {
    for (const args of varietyByIp) ip('addr', 'add', ...args)
    const before = snapshot()
    const listed = [...(await rt.addresses.list({ link: A })), ...(await rt.addresses.list({ link: B }))].filter((a) => a.scope !== 'link') // the kernel's own link-local addresses come back by themselves
    for (const a of listed) await rt.addresses.replace(a.ifname, a)
    expect(snapshot()).toEqual(before)
    for (const l of [A, B]) ip('addr', 'flush', 'dev', l, 'scope', 'global')
    // Primaries before secondaries, as they were made.
    for (const a of [...listed].sort((x, y) => Number(!!x.secondary) - Number(!!y.secondary))) await rt.addresses.add(a.ifname, a)
    expect(snapshot()).toEqual(before)
  })

  it('replace() changes lifetimes of an existing address as ip addr replace does', async () => {
    await rt.addresses.add(A, '10.20.5.1/24')
    await rt.addresses.replace(A, '10.20.5.1/24', { validLifetime: 900, preferredLifetime: 800 })
    expect(ipAddrs('addr', 'show', 'dev', A).find((x) => x.local === '10.20.5.1')).toMatchObject({ dynamic: true })
    const ours = (await rt.addresses.list({ link: A })).find((x) => x.local === '10.20.5.1')!
    expect(ours.valid_life_time).toBeGreaterThan(890)
    expect(ours.preferred_life_time).toBeLessThanOrEqual(800)
  })
})

describe('addresses: delete and flush', () => {
  it('every object list() returns, passed back to delete(), removes exactly that address', async () => {
    // Down and up again: the kernel adds A's link-local address back (afterEach flushed it).
    ip('link', 'set', A, 'down')
    ip('link', 'set', A, 'up')
    for (const [link, a, o] of variety) await rt.addresses.add(link, a, o)
    // Secondaries first: deleting a primary may take its secondaries along.
    const mine = (await rt.addresses.list()).filter((a) => a.ifname === A || a.ifname === B).sort((x, y) => Number(!x.secondary) - Number(!y.secondary))
    expect(mine.filter((a) => a.scope === 'link' && a.family === 'inet6')).toHaveLength(1) // the kernel's fe80::
    expect(mine).toHaveLength(variety.length + 1)
    for (const a of mine) {
      const before = snapshot()
      await rt.addresses.delete(a.ifname, a)
      const after = snapshot()
      const gone = before.filter((x) => !after.some((y) => key(y) === key(x)))
      expect(gone.map(key), `deleting ${JSON.stringify(a)}`).toEqual([key(asIp(a))])
    }
  })

  it('deletes by text, with or without the prefix length; a missing address is EADDRNOTAVAIL', async () => {
    await rt.addresses.add(A, '10.20.1.1/24')
    await rt.addresses.add(A, '10.20.2.1/24')
    await rt.addresses.add(A, '2001:db8:24::1/64', { flags: ['nodad'] })
    await rt.addresses.delete(A, '10.20.1.1/24')
    await rt.addresses.delete(A, '10.20.2.1')
    await rt.addresses.delete(A, '2001:db8:24::1/64')
    expect(ipAddrs('addr', 'show', 'dev', A).filter((x) => x.scope === 'global')).toEqual([])
    const e = await failure(rt.addresses.delete(A, '10.20.1.1/24'))
    expect(e.code).toBe('EADDRNOTAVAIL')
    expect(e.object).toBe(`address 10.20.1.1/24 dev ${A}`)
    expect((await failure(rt.addresses.delete(A, '10.20.1.1'))).code).toBe('EADDRNOTAVAIL')
  })

  it('flush(link) removes every address of that link only; flush({ link, label }) only those labels', async () => {
    for (const [link, a, o] of variety) await rt.addresses.add(link, a, o)
    const onB = ipAddrs('addr', 'show', 'dev', B)
    const n = await rt.addresses.flush({ link: A, label: `${A}:*` })
    expect(n).toBe(2)
    expect(ipAddrs('addr', 'show', 'label', `${A}:*`)).toEqual([])
    expect(ipAddrs('addr', 'show', 'dev', A).some((x) => x.local === '10.20.9.1')).toBe(true)
    expect(await rt.addresses.flush(A)).toBeGreaterThan(4)
    expect(ipAddrs('addr', 'show', 'dev', A)).toEqual([])
    expect(ipAddrs('addr', 'show', 'dev', B)).toEqual(onB)
    expect(await rt.addresses.flush(A)).toBe(0)
  })
})

describe('addresses.waitReady', () => {
  beforeAll(() => dad(A, true))
  afterAll(() => dad(A, false))

  it('resolves once IPv6 DAD is over (ip saw it tentative, then not)', async () => {
    await rt.addresses.add(A, '2001:db8:30::1/64')
    expect(ipAddrs('addr', 'show', 'dev', A).find((x) => x.local === '2001:db8:30::1')?.tentative).toBe(true)
    const a = await rt.addresses.waitReady(A, '2001:db8:30::1/64', { timeoutMs: 10_000 })
    expect(a.tentative).toBeUndefined()
    expect(ipAddrs('addr', 'show', 'dev', A).find((x) => x.local === '2001:db8:30::1')?.tentative).toBeUndefined()
    // IPv4 has no DAD: ready at once.
    await rt.addresses.add(A, '10.20.3.1/24')
    expect((await rt.addresses.waitReady(A, '10.20.3.1', { timeoutMs: 1000 })).local).toBe('10.20.3.1')
  })

  it('rejects with EDADFAILED when the peer already has the address', async () => {
    ip('addr', 'add', '2001:db8:31::1/64', 'dev', A1, 'nodad')
    await rt.addresses.add(A, '2001:db8:31::1/64')
    const e = await failure(rt.addresses.waitReady(A, '2001:db8:31::1', { timeoutMs: 10_000 }))
    expect(e.code).toBe('EDADFAILED')
    expect(e.object).toBe(`address 2001:db8:31::1 dev ${A}`)
    expect(ipAddrs('addr', 'show', 'dev', A).find((x) => x.local === '2001:db8:31::1')?.dadfailed).toBe(true)
  })

  it('times out with ETIMEDOUT while DAD cannot run (no carrier), and when the address is absent', async () => {
    ip('link', 'set', A1, 'down')
    await rt.addresses.add(A, '2001:db8:32::1/64')
    const t = Date.now()
    const e = await failure(rt.addresses.waitReady(A, '2001:db8:32::1', { timeoutMs: 400 }))
    expect(e.code).toBe('ETIMEDOUT')
    expect(e.message).toMatch(/still tentative/)
    expect(Date.now() - t).toBeLessThan(2000)
    expect((await failure(rt.addresses.waitReady(A, '2001:db8:33::1', { timeoutMs: 200 }))).message).toMatch(/not on the link/)
  })
})

describe('addresses: errors', () => {
  const bad: Array<[string, string, string, AddressOptions, RegExp]> = [
    ['a bad address', A, '10.20.0.300/24', {}, /not an address/],
    ['a prefix too long', A, '10.20.0.1/33', {}, /not an address/],
    ['a peer of the other family', A, '10.20.0.1/24', { peer: '2001:db8::2' }, /peer .* is IPv6/],
    ['broadcast on IPv6', A, '2001:db8:40::1/64', { broadcast: '+' }, /IPv4 addresses only/],
    ['a label too long for the kernel', A, '10.20.0.1/24', { label: `${A}:0123456789ab` }, /label must be 1\.\.15 bytes/],
    ['a label on IPv6', A, '2001:db8:40::1/64', { label: `${A}:x` }, /IPv4 addresses only/],
    ['an unknown flag', A, '10.20.0.1/24', { flags: ['sparkly' as never] }, /unknown or read-only address flag/],
    ['a read-only flag', A, '2001:db8:40::1/64', { flags: ['tentative' as never] }, /read-only/],
    ['preferred longer than valid', A, '10.20.0.1/24', { validLifetime: 10, preferredLifetime: 20 }, /longer than validLifetime/],
    ['an unknown option', A, '10.20.0.1/24', { brd: '+' } as never, /unknown field "brd"/],
    ['an unknown scope', A, '10.20.0.1/24', { scope: 'galaxy' }, /unknown scope/],
    ['a bad link name', 'has space', '10.20.0.1/24', {}, /whitespace/],
  ]
  for (const [what, link, addr, o, message] of bad) {
    it(`refuses ${what} with EINVAL_ARGUMENT before sending anything`, async () => {
      const before = snapshot()
      const e = await failure(rt.addresses.add(link, addr, o))
      expect(e.code).toBe('EINVAL_ARGUMENT')
      expect(e.operation).toBe('addresses.add')
      expect(e.message).toMatch(message)
      expect(snapshot()).toEqual(before)
    })
  }

  it('a duplicate is EEXIST naming the address; a missing link is ENODEV', async () => {
    await rt.addresses.add(A, '10.20.4.1/24')
    const before = snapshot()
    const e = await failure(rt.addresses.add(A, '10.20.4.1/24'))
    expect(e.code).toBe('EEXIST')
    expect(e.object).toBe(`address 10.20.4.1/24 dev ${A}`)
    const e2 = await failure(rt.addresses.add('nosuchdev0', '10.20.4.1/24'))
    expect(e2.code).toBe('ENODEV')
    expect(snapshot()).toEqual(before)
  })

  it('list() refuses unknown filters', async () => {
    expect((await failure(rt.addresses.list({ colour: 'red' } as never))).code).toBe('EINVAL_ARGUMENT')
    expect((await failure(rt.addresses.list({ family: 5 as never }))).code).toBe('EINVAL_ARGUMENT')
  })
})

describe('addresses: results', () => {
  it('are frozen, survive JSON, and the JSON copy deletes the address', async () => {
    await rt.addresses.add(A, '10.20.6.1/24', { label: `${A}:j` })
    const a = (await rt.addresses.list({ link: A })).find((x) => x.local === '10.20.6.1')!
    expect(a).toMatchObject({ ifname: A, family: 'inet', prefixlen: 24, label: `${A}:j`, scope: 'global' })
    expect(Object.isFrozen(a)).toBe(true)
    const copy = JSON.parse(JSON.stringify(a)) as Address
    expect(copy).toEqual(a)
    await rt.addresses.delete(A, copy)
    expect(ipAddrs('addr', 'show', 'dev', A).some((x) => x.local === '10.20.6.1')).toBe(false)
  })
})
