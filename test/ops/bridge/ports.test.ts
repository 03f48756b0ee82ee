// Bridge port options against `bridge -d -j link show` as the oracle, both directions.
import { execFileSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isNsnetError } from '../../../src/netlink/errors.js'
import type { BridgePort } from '../../../src/ops/bridge/index.js'
import { Rtnl } from '../../../src/rtnl.js'

const run = (cmd: string, ...args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8' })
const bridgeJson = (...args: string[]): Array<Record<string, unknown>> => JSON.parse(run('bridge', '-d', '-j', ...args) || '[]')

/** Our port in bridge's shape: undefined keys go (bridge prints `link: null` for iflink 0; we leave it out). */
function asBridge(p: BridgePort): Record<string, unknown> {
  const o: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(p)) if (v !== undefined) o[k] = v
  return o
}
const theirs = (...args: string[]) =>
  bridgeJson('link', 'show', ...args).map((p) => {
    const o = { ...p }
    if (o.link === null) delete o.link
    return o
  })

let rt: Rtnl

beforeAll(async () => {
  rt = await Rtnl.open()
  run('ip', 'link', 'add', 'pbr0', 'type', 'bridge')
  run('ip', 'link', 'add', 'pbr1', 'type', 'bridge')
  for (const [a, b] of [
    ['pv0', 'pv1'],
    ['pv2', 'pv3'],
    ['pv4', 'pv5'],
  ])
    run('ip', 'link', 'add', a!, 'type', 'veth', 'peer', 'name', b!)
  run('ip', 'link', 'set', 'pv0', 'master', 'pbr0')
  run('ip', 'link', 'set', 'pv2', 'master', 'pbr0')
  run('ip', 'link', 'set', 'pv4', 'master', 'pbr1')
  for (const l of ['pbr0', 'pv0', 'pv1', 'pv2', 'pv3']) run('ip', 'link', 'set', l, 'up')
  // Carrier comes up asynchronously and moves the ports to forwarding: wait for it to settle.
  for (let i = 0; i < 200; i++) {
    const states = theirs()
      .filter((p) => p.master === 'pbr0')
      .map((p) => p.state)
    if (states.length === 2 && states.every((s) => s === 'forwarding')) break
    await new Promise((r) => setTimeout(r, 25))
  }
})

afterAll(async () => {
  for (const l of ['pv0', 'pv2', 'pv4', 'pbr0', 'pbr1'])
    try {
      run('ip', 'link', 'del', l)
    } catch {}
  await rt?.close()
})

describe('bridge link', () => {
  it('list() equals bridge -d -j link show, whole and filtered (M-DOWN, state, every option)', async () => {
    expect((await rt.bridge.links.list()).map(asBridge)).toEqual(theirs())
    // bridge 6.1 has no `master` filter for link show: filter its full list instead.
    expect((await rt.bridge.links.list({ master: 'pbr1' })).map(asBridge)).toEqual(theirs().filter((p) => p.master === 'pbr1'))
    expect((await rt.bridge.links.list({ dev: 'pv2' })).map(asBridge)).toEqual(theirs('dev', 'pv2'))
    expect((await rt.bridge.links.get('pv4')).flags).toContain('M-DOWN')
  })

  it('what nsnet sets, bridge shows; what bridge sets, nsnet reads', async () => {
    await rt.bridge.links.set('pv0', {
      cost: 7,
      priority: 3,
      learning: false,
      flood: false,
      hairpin: true,
      isolated: true,
      neigh_suppress: true,
      mcast_flood: false,
      bcast_flood: false,
      mcast_router: 2,
      guard: true,
      root_block: true,
      fastleave: true,
      mcast_to_unicast: true,
      vlan_tunnel: false,
    })
    const [p] = theirs('dev', 'pv0')
    expect(p).toMatchObject({
      cost: 7,
      priority: 3,
      learning: false,
      flood: false,
      hairpin: true,
      isolated: true,
      neigh_suppress: true,
      mcast_flood: false,
      bcast_flood: false,
      mcast_router: 2,
      guard: true,
      root_block: true,
      fastleave: true,
      mcast_to_unicast: true,
    })
    expect(asBridge(await rt.bridge.links.get('pv0'))).toEqual(p)
    run('bridge', 'link', 'set', 'dev', 'pv2', 'cost', '19', 'priority', '9', 'learning', 'off', 'isolated', 'on', 'state', 'disabled')
    const ours = await rt.bridge.links.get('pv2')
    expect(ours).toMatchObject({ cost: 19, priority: 9, learning: false, isolated: true, state: 'disabled' })
    expect(asBridge(ours)).toEqual(theirs('dev', 'pv2')[0])
    await rt.bridge.links.set('pv2', { state: 'forwarding', isolated: false, learning: true })
    expect(theirs('dev', 'pv2')[0]).toMatchObject({ state: 'forwarding', isolated: false, learning: true })
    await rt.bridge.links.set('pv2', { backup_port: 'pv0' })
    expect(theirs('dev', 'pv2')[0]).toMatchObject({ backup_port: 'pv0' })
    await rt.bridge.links.set('pv2', { backup_port: null })
    expect(theirs('dev', 'pv2')[0]?.backup_port).toBeUndefined()
  })

  it('a listed port handed back to set() keeps its options', async () => {
    const { ifindex: _i, ifname: _n, link: _l, flags: _f, mtu: _m, master: _ms, ...opts } = await rt.bridge.links.get('pv0')
    const before = theirs('dev', 'pv0')
    await rt.bridge.links.set('pv0', opts as never)
    expect(theirs('dev', 'pv0')).toEqual(before)
  })

  it("bad input is EINVAL_ARGUMENT naming the field; a link outside a bridge is the kernel's error", async () => {
    const before = theirs()
    const cases: Array<[unknown, RegExp]> = [
      [{ cost: 0 }, /cost must be an integer from 1/],
      [{ priority: 64 }, /priority must be an integer from 0 to 63/],
      [{ state: 'sleeping' }, /state must be one of 'disabled'/],
      [{ state: 7 }, /state must be an integer from 0 to 4/],
      [{ learning: 'off' }, /learning must be true or false/],
      [{ mcast_router: 4 }, /mcast_router must be an integer from 0 to 3/],
      [{ colour: 'red' }, /unknown field "colour"/],
      [{ backup_port: 'bad name' }, /backup_port/],
      ['cost 5', /bridge port options must be an object/],
    ]
    for (const [spec, msg] of cases) {
      const e = await rt.bridge.links.set('pv0', spec as never).catch((x) => x)
      expect(isNsnetError(e, 'EINVAL_ARGUMENT'), String(e)).toBe(true)
      expect(e.message).toMatch(msg)
    }
    expect(theirs()).toEqual(before)
    const e = await rt.bridge.links.set('pv1', { cost: 5 }).catch((x) => x)
    expect(e.code).toMatch(/^E(OPNOTSUPP|INVAL)$/)
    expect(e.object).toBe('bridge port pv1')
    const g = await rt.bridge.links.get('pv1').catch((x) => x)
    expect(isNsnetError(g, 'ENODEV')).toBe(true)
  })
})
