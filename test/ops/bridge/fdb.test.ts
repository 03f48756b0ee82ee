// Bridge fdb entries against `bridge -j fdb show` as the oracle, both directions.
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isNsnetError } from '../../../src/netlink/errors.js'
import type { FdbEntry } from '../../../src/ops/bridge/index.js'
import { Rtnl } from '../../../src/rtnl.js'

const run = (cmd: string, ...args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8' })
const bridgeJson = (...args: string[]): Array<Record<string, unknown>> => JSON.parse(run('bridge', '-j', ...args) || '[]')

/** Our entry in `bridge -j fdb show` shape: ifindex is ours only, undefined keys go. */
function asBridge(e: FdbEntry): Record<string, unknown> {
  const o: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(e)) if (v !== undefined && k !== 'ifindex') o[k] = v
  return o
}
const key = (o: Record<string, unknown>) => JSON.stringify([o.ifname, o.mac, o.dst, o.vlan, o.master, o.flags])
const sorted = (a: Array<Record<string, unknown>>) => [...a].sort((x, y) => key(x).localeCompare(key(y)))

let rt: Rtnl

beforeAll(async () => {
  rt = await Rtnl.open()
  // Learning off and no IPv6 on the peer: no dynamic entries appear between two dumps.
  run('ip', 'link', 'add', 'fbr0', 'type', 'bridge')
  run('ip', 'link', 'add', 'fv0', 'type', 'veth', 'peer', 'name', 'fv1')
  writeFileSync('/proc/sys/net/ipv6/conf/fv1/disable_ipv6', '1')
  run('ip', 'link', 'set', 'fv0', 'master', 'fbr0')
  run('bridge', 'link', 'set', 'dev', 'fv0', 'learning', 'off')
  for (const l of ['fbr0', 'fv0', 'fv1']) run('ip', 'link', 'set', l, 'up')
  run('ip', 'addr', 'add', '10.7.0.1/24', 'dev', 'fv1')
  run('ip', 'link', 'add', 'fvx0', 'type', 'vxlan', 'id', '42', 'dstport', '4789', 'local', '10.7.0.1')
  run('ip', 'link', 'set', 'fvx0', 'up')
})

afterAll(async () => {
  for (const l of ['fvx0', 'fv0', 'fbr0'])
    try {
      run('ip', 'link', 'del', l)
    } catch {}
  await rt?.close()
})

describe('bridge fdb', () => {
  it('what nsnet adds, bridge -j fdb show lists identically', async () => {
    await rt.bridge.fdb.add({ mac: '02:00:00:00:0f:01', dev: 'fv0', master: true, state: 'static' })
    await rt.bridge.fdb.add({ lladdr: '02:00:00:00:0f:02', dev: 'fv0', master: true })
    await rt.bridge.fdb.add({ mac: '02:00:00:00:0f:03', dev: 'fv0', master: true, state: 'dynamic' })
    await rt.bridge.fdb.add({ mac: '02:00:00:00:0f:04', dev: 'fbr0', self: true })
    await rt.bridge.fdb.add({ mac: '00:00:00:00:00:00', dev: 'fvx0', dst: '10.7.0.5' })
    await rt.bridge.fdb.append({ mac: '00:00:00:00:00:00', dev: 'fvx0', dst: '10.7.0.6' })
    await rt.bridge.fdb.add({ mac: '02:00:00:00:0f:05', dev: 'fvx0', dst: '10.7.0.7', port: 4790, vni: 43, self: true })
    const theirs = bridgeJson('fdb', 'show')
    const byMac = (mac: string) => theirs.filter((e) => e.mac === mac)
    expect(byMac('02:00:00:00:0f:01')).toEqual([{ mac: '02:00:00:00:0f:01', ifname: 'fv0', flags: [], master: 'fbr0', state: 'static' }])
    expect(byMac('02:00:00:00:0f:02')).toEqual([{ mac: '02:00:00:00:0f:02', ifname: 'fv0', flags: [], master: 'fbr0', state: 'permanent' }])
    expect(byMac('02:00:00:00:0f:03')).toEqual([{ mac: '02:00:00:00:0f:03', ifname: 'fv0', flags: [], master: 'fbr0', state: '' }])
    expect(byMac('02:00:00:00:0f:05')).toEqual([
      { mac: '02:00:00:00:0f:05', ifname: 'fvx0', dst: '10.7.0.7', port: 4790, vni: 43, flags: ['self'], state: 'permanent' },
    ])
    expect(
      byMac('00:00:00:00:00:00')
        .map((e) => e.dst)
        .sort(),
    ).toEqual(['10.7.0.5', '10.7.0.6'])
    expect(sorted((await rt.bridge.fdb.list()).map(asBridge))).toEqual(sorted(theirs))
  })

  it('what bridge adds, nsnet lists identically, with the filters bridge fdb show has', async () => {
    run('bridge', 'fdb', 'add', '02:00:00:00:0f:11', 'dev', 'fv0', 'master', 'static')
    run('bridge', 'fdb', 'add', '02:00:00:00:0f:12', 'dev', 'fv0', 'master', 'dynamic', 'sticky')
    run('bridge', 'fdb', 'add', '02:00:00:00:0f:13', 'dev', 'fvx0', 'dst', '10.7.0.13', 'vni', '9', 'port', '4800', 'self')
    run('bridge', 'fdb', 'add', '02:00:00:00:0f:14', 'dev', 'fvx0', 'dst', '10.7.0.14', 'via', 'fv1', 'self')
    expect(sorted((await rt.bridge.fdb.list()).map(asBridge))).toEqual(sorted(bridgeJson('fdb', 'show')))
    // bridge leaves ifname out when filtering by device; ours keeps it, so compare the rest.
    const dropName = (a: Array<Record<string, unknown>>) => a.map(({ ifname: _n, ...rest }) => rest)
    expect(sorted(dropName((await rt.bridge.fdb.list({ dev: 'fvx0' })).map(asBridge)))).toEqual(sorted(bridgeJson('fdb', 'show', 'dev', 'fvx0')))
    expect(sorted((await rt.bridge.fdb.list({ br: 'fbr0' })).map(asBridge))).toEqual(sorted(bridgeJson('fdb', 'show', 'br', 'fbr0')))
    expect(sorted((await rt.bridge.fdb.list({ state: 'static' })).map(asBridge))).toEqual(sorted(bridgeJson('fdb', 'show', 'state', 'static')))
    expect(sorted((await rt.bridge.fdb.list({ dynamic: true })).map(asBridge))).toEqual(sorted(bridgeJson('fdb', 'show', 'dynamic')))
    const via = (await rt.bridge.fdb.list({ dev: 'fvx0' })).find((e) => e.mac === '02:00:00:00:0f:14')
    expect(via).toMatchObject({ dst: '10.7.0.14', viaIf: 'fv1', flags: ['self'] })
  })

  it('replace changes an entry in place; delete takes what list() returned', async () => {
    await rt.bridge.fdb.add({ mac: '02:00:00:00:0f:21', dev: 'fv0', master: true, state: 'static' })
    await rt.bridge.fdb.replace({ mac: '02:00:00:00:0f:21', dev: 'fv0', master: true, state: 'permanent' })
    expect(bridgeJson('fdb', 'show', 'br', 'fbr0').filter((e) => e.mac === '02:00:00:00:0f:21')).toEqual([
      { mac: '02:00:00:00:0f:21', ifname: 'fv0', flags: [], master: 'fbr0', state: 'permanent' },
    ])
    const again = await rt.bridge.fdb.add({ mac: '02:00:00:00:0f:21', dev: 'fv0', master: true }).catch((e) => e)
    expect(isNsnetError(again, 'EEXIST')).toBe(true)
    // Everything tests made (02:00:00:00:0f:*, the vxlan flood entries): delete from list() objects.
    const made = (await rt.bridge.fdb.list()).filter((e) => e.mac.startsWith('02:00:00:00:0f:') || e.mac === '00:00:00:00:00:00')
    expect(made.length).toBeGreaterThan(5)
    for (const e of made) await rt.bridge.fdb.delete(e)
    const left = bridgeJson('fdb', 'show').filter((e) => String(e.mac).startsWith('02:00:00:00:0f:') || e.mac === '00:00:00:00:00:00')
    expect(left).toEqual([])
    const gone = await rt.bridge.fdb.delete({ mac: '02:00:00:00:0f:21', dev: 'fv0', master: true }).catch((e) => e)
    expect(isNsnetError(gone, 'ENOENT')).toBe(true)
  })

  it('bad input is EINVAL_ARGUMENT naming the field, and nothing is sent', async () => {
    const before = bridgeJson('fdb', 'show')
    const cases: Array<[unknown, RegExp]> = [
      [{ dev: 'fv0' }, /mac is required/],
      [{ mac: '02:00:00:00:0f:31' }, /dev is required/],
      [{ mac: 'nope', dev: 'fv0' }, /mac must be a MAC/],
      [{ mac: '02:00:00:00:0f:31', dev: 'fv0', vlan: 4095 }, /vlan must be an integer from 1 to 4094/],
      [{ mac: '02:00:00:00:0f:31', dev: 'fv0', state: 'sometimes' }, /state must be one of/],
      [{ mac: '02:00:00:00:0f:31', dev: 'fv0', dst: '10.7.0.999' }, /dst must be an IPv/],
      [{ mac: '02:00:00:00:0f:31', dev: 'fv0', port: 70000 }, /port must be an integer/],
      [{ mac: '02:00:00:00:0f:31', dev: 'fv0', vni: 1 << 24 }, /vni must be an integer/],
      [{ mac: '02:00:00:00:0f:31', dev: 'fv0', nhid: 3, dst: '10.7.0.1' }, /nhid cannot be combined/],
      [{ mac: '02:00:00:00:0f:31', dev: 'fv0', colour: 'red' }, /unknown field "colour"/],
      [{ mac: '02:00:00:00:0f:31', dev: 'fv0', flags: ['fast'] }, /unknown flag "fast"/],
      [{ mac: '02:00:00:00:0f:31', dev: 'fv0', master: 1 }, /master must be true or false/],
      [null, /fdb entry must be an object/],
    ]
    for (const [spec, msg] of cases) {
      const e = await rt.bridge.fdb.add(spec as never).catch((x) => x)
      expect(isNsnetError(e, 'EINVAL_ARGUMENT'), String(e)).toBe(true)
      expect(e.message).toMatch(msg)
      expect(e.operation).toBe('bridge.fdb.add')
    }
    const o = await rt.bridge.fdb.add({ mac: '02:00:00:00:0f:31', dev: 'fv0' }, { colour: 1 } as never).catch((x) => x)
    expect(isNsnetError(o, 'EINVAL_ARGUMENT')).toBe(true)
    const f = await rt.bridge.fdb.list({ vlan: 0 }).catch((x) => x)
    expect(isNsnetError(f, 'EINVAL_ARGUMENT')).toBe(true)
    expect(bridgeJson('fdb', 'show')).toEqual(before)
  })
})
