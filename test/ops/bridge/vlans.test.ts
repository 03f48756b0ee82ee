// Bridge VLANs against the kernel. This kernel may lack VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING
// needs 802.1Q): then `bridge vlan add` is EOPNOTSUPP, nsnet says EUNSUPPORTED naming the feature,
// and the differential test against `bridge -compressvlans -j vlan show` skips with that reason.
// The encoding is checked byte for byte against bridge's own requests in golden.test.ts.
import { execFileSync, spawnSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isNsnetError } from '../../../src/netlink/errors.js'
import { NO_VLAN_FILTERING } from '../../../src/ops/bridge/index.js'
import { Rtnl } from '../../../src/rtnl.js'

const run = (cmd: string, ...args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8' })
const theirs = (): unknown => JSON.parse(run('bridge', '-compressvlans', '-j', 'vlan', 'show') || '[]')

run('ip', 'link', 'add', 'vbr0', 'type', 'bridge')
run('ip', 'link', 'add', 'vv0', 'type', 'veth', 'peer', 'name', 'vv1')
run('ip', 'link', 'set', 'vv0', 'master', 'vbr0')
/** Whether the kernel can filter VLANs on a bridge: ask it the way bridge does. */
const probe = spawnSync('bridge', ['vlan', 'add', 'vid', '4000', 'dev', 'vv0'], { encoding: 'utf8' })
const vlanFiltering = probe.status === 0
if (vlanFiltering) run('bridge', 'vlan', 'del', 'vid', '4000', 'dev', 'vv0')
const SKIP = `skipped: ${NO_VLAN_FILTERING} (bridge vlan add: ${probe.stderr.trim()})`

let rt: Rtnl
beforeAll(async () => {
  rt = await Rtnl.open()
})
afterAll(async () => {
  for (const l of ['vv0', 'vbr0'])
    try {
      run('ip', 'link', 'del', l)
    } catch {}
  await rt?.close()
})

describe('bridge vlan', () => {
  it.runIf(!vlanFiltering)('without VLAN filtering, add is EUNSUPPORTED naming the feature; list() is empty as bridge shows it', async () => {
    const e = await rt.bridge.vlans.add('vv0', { vid: 10, pvid: true, untagged: true }).catch((x) => x)
    expect(isNsnetError(e, 'EUNSUPPORTED'), String(e)).toBe(true)
    expect(e.message).toContain('CONFIG_BRIDGE_VLAN_FILTERING')
    expect(e.object).toBe('vlan 10 dev vv0')
    expect(await rt.bridge.vlans.list()).toEqual(theirs())
    expect(theirs()).toEqual([])
  })

  it.skipIf(!vlanFiltering)(`nsnet adds, bridge -compressvlans -j vlan show agrees; bridge adds, nsnet agrees ${vlanFiltering ? '' : SKIP}`, async () => {
    await rt.bridge.vlans.add('vv0', { vid: 10, pvid: true, untagged: true })
    await rt.bridge.vlans.add('vv0', { vid: '100-110' })
    await rt.bridge.vlans.add('vbr0', { vid: 20, self: true })
    run('bridge', 'vlan', 'add', 'vid', '30', 'dev', 'vv0', 'untagged')
    expect(await rt.bridge.vlans.list()).toEqual(theirs())
    const port = (await rt.bridge.vlans.list({ dev: 'vv0' }))[0]!
    expect(port.vlans).toContainEqual({ vlan: 100, vlanEnd: 110 })
    for (const v of port.vlans) await rt.bridge.vlans.delete('vv0', v)
    expect(await rt.bridge.vlans.list({ dev: 'vv0' })).toEqual([])
  })

  it('bad input is EINVAL_ARGUMENT naming the field, before anything is sent', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ vid: 0 }, /vid must be an integer from 1 to 4094/],
      [{ vid: 4095 }, /vid must be an integer from 1 to 4094/],
      [{ vid: '20-10' }, /ends before it starts/],
      [{ vid: '10-' }, /vid must be a VLAN id or a range/],
      [{ vid: '10-20', pvid: true }, /pvid cannot be set on a VLAN range/],
      [{ vid: 10, tagged: true }, /unknown field "tagged"/],
      [{ vid: 10, untagged: 'yes' }, /untagged must be true or false/],
      [{}, /vid is required/],
      [{ vid: '1-2', vidEnd: 3 }, /not both/],
    ]
    for (const [spec, msg] of cases) {
      const e = await rt.bridge.vlans.add('vv0', spec as never).catch((x) => x)
      expect(isNsnetError(e, 'EINVAL_ARGUMENT'), String(e)).toBe(true)
      expect(e.message).toMatch(msg)
      expect(e.operation).toBe('bridge.vlans.add')
    }
    const d = await rt.bridge.vlans.add('no such/dev', { vid: 1 }).catch((x) => x)
    expect(isNsnetError(d, 'EINVAL_ARGUMENT')).toBe(true)
  })
})
