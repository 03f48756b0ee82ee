// Nexthop objects against `ip -d -j nexthop show` as the oracle, both directions, and routes through them.
import { execFileSync } from 'node:child_process'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { isNsnetError } from '../../../src/netlink/errors.js'
import type { NexthopObject } from '../../../src/ops/nexthops/codec.js'
import { Rtnl } from '../../../src/rtnl.js'

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' })
const ipJson = (...args: string[]): Array<Record<string, unknown>> => JSON.parse(ip('-d', '-j', ...args) || '[]')

/** Our object in ip's shape: blackhole/fdb become ip's nulls, family (ours only) and undefined keys go. */
function asIp(n: NexthopObject): Record<string, unknown> {
  const o: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(n)) {
    if (v === undefined || k === 'family') continue
    o[k] = v === true && (k === 'blackhole' || k === 'fdb') ? null : v
  }
  return o
}
const byId = (a: Array<Record<string, unknown>>) => [...a].sort((x, y) => Number(x.id) - Number(y.id))

let rt: Rtnl

beforeAll(async () => {
  rt = await Rtnl.open()
  ip('link', 'add', 'nh0', 'type', 'veth', 'peer', 'name', 'nh1')
  ip('link', 'set', 'nh0', 'up')
  ip('link', 'set', 'nh1', 'up')
  ip('addr', 'add', '10.5.0.1/24', 'dev', 'nh0')
  ip('addr', 'add', '2001:db8:5::1/64', 'dev', 'nh0', 'nodad')
})

afterEach(() => {
  ip('nexthop', 'flush')
})

afterAll(async () => {
  try {
    ip('link', 'del', 'nh0')
  } catch {}
  await rt?.close()
})

describe('nexthops', () => {
  it('what nsnet adds, ip -d -j nexthop show lists identically (single, blackhole, onlink, v6, groups, resilient, fdb)', async () => {
    await rt.nexthops.add({ id: 1, gateway: '10.5.0.2', dev: 'nh0' })
    await rt.nexthops.add({ id: 2, gateway: '10.5.0.3', dev: 'nh0', protocol: 'static' })
    await rt.nexthops.add({ id: 3, blackhole: true })
    await rt.nexthops.add({ id: 4, dev: 'nh0' })
    await rt.nexthops.add({ id: 5, gateway: '2001:db8:5::2', dev: 'nh0' })
    await rt.nexthops.add({ id: 6, gateway: '10.9.9.9', dev: 'nh0', onlink: true })
    await rt.nexthops.add({ id: 10, group: [{ id: 1, weight: 2 }, { id: 2 }] })
    await rt.nexthops.add({ id: 11, group: '1,3/2', type: 'resilient', resilient_args: { buckets: 8, idle_timer: 60, unbalanced_timer: 5 } })
    await rt.nexthops.add({ id: 20, gateway: '10.5.0.20', fdb: true })
    await rt.nexthops.add({ id: 21, group: [{ id: 20 }], fdb: true })
    const theirs = byId(ipJson('nexthop', 'show'))
    const get = (id: number) => theirs.find((n) => n.id === id)
    expect(get(1)).toEqual({ id: 1, gateway: '10.5.0.2', dev: 'nh0', scope: 'link', protocol: 'unspec', flags: [] })
    expect(get(2)).toMatchObject({ protocol: 'static' })
    expect(get(3)).toEqual({ id: 3, scope: 'global', blackhole: null, protocol: 'unspec', flags: [] })
    expect(get(6)).toMatchObject({ flags: ['onlink'] })
    expect(get(10)).toMatchObject({ group: [{ id: 1, weight: 2 }, { id: 2 }] })
    expect(get(11)).toMatchObject({
      group: [{ id: 1, weight: 3 }, { id: 2 }],
      type: 'resilient',
      resilient_args: { buckets: 8, idle_timer: 60, unbalanced_timer: 5 },
    })
    expect(get(21)).toMatchObject({ group: [{ id: 20 }], fdb: null })
    const ours = await rt.nexthops.list()
    expect(byId(ours.map(asIp))).toEqual(theirs)
    expect(ours.find((n) => n.id === 5)?.family).toBe('inet6')
  })

  it('what ip adds, nsnet decodes identically, with ip nexthop show filters', async () => {
    ip('nexthop', 'add', 'id', '31', 'via', '10.5.0.31', 'dev', 'nh0')
    ip('nexthop', 'add', 'id', '32', 'blackhole')
    ip('nexthop', 'add', 'id', '33', 'group', '31', 'type', 'resilient', 'buckets', '16')
    ip('nexthop', 'add', 'id', '34', 'via', '10.5.0.34', 'fdb')
    expect(byId((await rt.nexthops.list()).map(asIp))).toEqual(byId(ipJson('nexthop', 'show')))
    expect(byId((await rt.nexthops.list({ dev: 'nh0' })).map(asIp))).toEqual(byId(ipJson('nexthop', 'show', 'dev', 'nh0')))
    expect(byId((await rt.nexthops.list({ groups: true })).map(asIp))).toEqual(byId(ipJson('nexthop', 'show', 'groups')))
    // ip 6.1 takes `fdb` but still lists everything: filter its full list instead.
    expect(byId((await rt.nexthops.list({ fdb: true })).map(asIp))).toEqual(byId(ipJson('nexthop', 'show').filter((n) => 'fdb' in n)))
    expect((await rt.nexthops.list({ id: 33 })).map(asIp)).toEqual(ipJson('nexthop', 'show', 'id', '33'))
    const missing = await rt.nexthops.list({ id: 99 }).catch((e) => e)
    expect(isNsnetError(missing, 'ENOENT')).toBe(true)
  })

  it('routes through nhid; replace moves them; list() output goes back to add/replace/delete', async () => {
    await rt.nexthops.add({ id: 1, gateway: '10.5.0.2', dev: 'nh0' })
    await rt.nexthops.add({ id: 2, gateway: '10.5.0.3', dev: 'nh0' })
    await rt.nexthops.add({ id: 3, group: [{ id: 1 }, { id: 2, weight: 4 }] })
    await rt.routes.add({ dst: '10.66.0.0/24', nhid: 3 })
    const [route] = ip('-j', 'route', 'show', '10.66.0.0/24') && JSON.parse(ip('-j', 'route', 'show', '10.66.0.0/24'))
    expect(route).toMatchObject({ dst: '10.66.0.0/24', nhid: 3 })
    expect((await rt.routes.list({ dst: '10.66.0.0/24' } as never)).find((r) => r.dst === '10.66.0.0/24')?.nhid).toBe(3)
    await rt.nexthops.replace({ id: 1, gateway: '10.5.0.9', dev: 'nh0' })
    expect(ipJson('nexthop', 'show', 'id', '1')[0]).toMatchObject({ gateway: '10.5.0.9' })
    const listed = await rt.nexthops.list()
    // Flush by hand, then recreate from what list() returned: the same objects come back.
    const before = byId(ipJson('nexthop', 'show'))
    for (const n of [...listed].reverse()) await rt.nexthops.delete(n)
    expect(ipJson('nexthop', 'show')).toEqual([])
    expect(JSON.parse(ip('-j', 'route', 'show', '10.66.0.0/24') || '[]')).toEqual([])
    for (const n of byId(listed as never) as unknown as NexthopObject[]) await rt.nexthops.add(n)
    expect(byId(ipJson('nexthop', 'show'))).toEqual(before)
    for (const n of listed) await rt.nexthops.replace(n)
    expect(byId(ipJson('nexthop', 'show'))).toEqual(before)
    expect(await rt.nexthops.flush()).toBe(3)
    expect(ipJson('nexthop', 'show')).toEqual([])
  })

  it('bad input is EINVAL_ARGUMENT naming the field, before anything is sent; kernel refusals keep their errno', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ id: 0, blackhole: true }, /id must be an integer from 1/],
      [{ id: 1 }, /needs a gateway, a dev, blackhole or a group/],
      [{ id: 1, gateway: '10.5.0.999' }, /gateway must be an IPv/],
      [{ id: 1, gateway: '10.5.0.2', family: 'inet6' }, /gateway must be an IPv6/],
      [{ id: 1, blackhole: true, dev: 'nh0' }, /blackhole nexthop takes no gateway, dev/],
      [{ id: 1, group: [{ id: 2 }], dev: 'nh0' }, /a group takes no gateway, dev/],
      [{ id: 1, group: [] }, /at least one member/],
      [{ id: 1, group: '1,0/2' }, /weight must be an integer from 1 to 256/],
      [{ id: 1, group: '1//2' }, /is not of the form/],
      [{ id: 1, group: [{ id: 2 }, { id: 2 }] }, /lists nexthop 2 twice/],
      [{ id: 1, gateway: '10.5.0.2', type: 'resilient' }, /belong to groups/],
      [{ id: 1, group: '2/3', resilient_args: { buckets: 8 } }, /need type 'resilient'/],
      [{ id: 1, group: '2/3', type: 'resilient', resilient_args: { buckets: 0 } }, /buckets must be an integer from 1/],
      [{ id: 1, gateway: '10.5.0.2', dev: 'nh0', fdb: true }, /fdb nexthop takes no dev/],
      [{ id: 1, gateway: '10.5.0.2', onlink: true }, /onlink needs both/],
      [{ id: 1, gateway: '10.5.0.2', protocol: 'martian' }, /protocol must be/],
      [{ id: 1, blackhole: true, color: 'red' }, /unknown field "color"/],
    ]
    for (const [spec, msg] of cases) {
      const e = await rt.nexthops.add(spec as never).catch((x) => x)
      expect(isNsnetError(e, 'EINVAL_ARGUMENT'), `${JSON.stringify(spec)}: ${e}`).toBe(true)
      expect(e.message).toMatch(msg)
      expect(e.operation).toBe('nexthops.add')
    }
    expect(ipJson('nexthop', 'show')).toEqual([])
    const o = await rt.nexthops.add({ id: 1, blackhole: true }, { timeoutMs: -1 }).catch((x) => x)
    expect(isNsnetError(o, 'EINVAL_ARGUMENT')).toBe(true)
    expect(o.message).toMatch(/timeoutMs/)
    const d = await rt.nexthops.delete(0).catch((x) => x)
    expect(isNsnetError(d, 'EINVAL_ARGUMENT')).toBe(true)
    const missing = await rt.nexthops.add({ id: 1, group: [{ id: 42 }] }).catch((x) => x)
    expect(missing.code).toBe('EINVAL')
    expect(missing.object).toBe('nexthop id 1')
    await rt.nexthops.add({ id: 1, blackhole: true })
    const again = await rt.nexthops.add({ id: 1, blackhole: true }).catch((x) => x)
    expect(isNsnetError(again, 'EEXIST')).toBe(true)
  })
})
