// rt.bridge and rt.nexthops through a namespace handle: the same calls run inside the
// namespace by its helper, checked with `bridge -n` / `ip -n` there.

import { execFileSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isNsnetError } from '../../../src/netlink/errors.js'
import { type NetnsHandle, netns } from '../../../src/netns/index.js'
import { ensureHelperBundle, ip } from '../../netns/support.js'

const NS = 'obj-br'
const bridgeJson = (...args: string[]): Array<Record<string, unknown>> =>
  JSON.parse(execFileSync('bridge', ['-n', NS, '-d', '-j', ...args], { encoding: 'utf8' }) || '[]')
let h: NetnsHandle

beforeAll(async () => {
  await ensureHelperBundle()
  await netns.add(NS)
  ip('-n', NS, 'link', 'add', 'br0', 'type', 'bridge')
  ip('-n', NS, 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p1')
  ip('-n', NS, 'link', 'set', 'p0', 'master', 'br0')
  for (const l of ['br0', 'p0', 'p1']) ip('-n', NS, 'link', 'set', l, 'up')
  ip('-n', NS, 'addr', 'add', '10.8.0.1/24', 'dev', 'p1')
  h = await netns.open(NS)
})

afterAll(async () => {
  await h?.close()
  await netns.delete(NS, { kill: true })
})

describe('bridge and nexthops through netns.open()', () => {
  it('fdb, port options and nexthops change the namespace, as bridge -n / ip -n show', async () => {
    await h.bridge.fdb.add({ mac: '02:00:00:00:08:01', dev: 'p0', master: true, state: 'static' })
    expect(bridgeJson('fdb', 'show', 'br', 'br0').filter((e) => e.mac === '02:00:00:00:08:01')).toEqual([
      { mac: '02:00:00:00:08:01', ifname: 'p0', flags: [], master: 'br0', state: 'static' },
    ])
    const listed = (await h.bridge.fdb.list({ br: 'br0' })).find((e) => e.mac === '02:00:00:00:08:01')!
    await h.bridge.fdb.delete(listed)
    expect(bridgeJson('fdb', 'show').filter((e) => e.mac === '02:00:00:00:08:01')).toEqual([])

    await h.bridge.links.set('p0', { cost: 11, isolated: true })
    expect(bridgeJson('link', 'show', 'dev', 'p0')[0]).toMatchObject({ cost: 11, isolated: true })
    expect(await h.bridge.links.get('p0')).toMatchObject({ cost: 11, isolated: true, master: 'br0' })

    await h.nexthops.add({ id: 7, gateway: '10.8.0.2', dev: 'p1' })
    expect(JSON.parse(ip('-n', NS, '-j', 'nexthop', 'show'))).toEqual([{ id: 7, gateway: '10.8.0.2', dev: 'p1', scope: 'link', flags: [] }])
    expect((await h.nexthops.list()).map((n) => n.id)).toEqual([7])
    expect(await h.nexthops.flush()).toBe(1)
  })

  it('errors come back typed with the namespace named', async () => {
    const e = await h.bridge.vlans.add('p0', { vid: 0 }).catch((x) => x)
    expect(isNsnetError(e, 'EINVAL_ARGUMENT')).toBe(true)
    expect(e.namespace).toBe(NS)
    expect(e.operation).toBe('bridge.vlans.add')
    const u = await h.bridge.fdb.add({ mac: '02:00:00:00:08:02', dev: 'nope0', master: true }).catch((x) => x)
    expect(isNsnetError(u, 'ENODEV')).toBe(true)
    expect(u.namespace).toBe(NS)
  })
})
