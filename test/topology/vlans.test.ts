// VLANs in topologies: switch ports with { pvid, untagged, tagged }. On an Open vSwitch switch
// they are the ports' tag/trunks (ovs-vsctl is the oracle) and isolate hosts by VLAN; on a
// Linux bridge they need vlanFiltering, which this kernel may lack (then up() is EUNSUPPORTED
// naming it, and nothing is left behind).
import { spawnSync } from 'node:child_process'
import { afterEach, describe, expect, test } from 'vitest'
import { isNsnetError } from '../../src/netlink/errors.js'
import { NO_VLAN_FILTERING } from '../../src/ops/bridge/index.js'
import type { TopologySpec } from '../../src/topology/spec.js'
import { Topology } from '../../src/topology/topology.js'
import { ensureHelperBundle, runNetnsEntries } from '../netns/support.js'
import { haveOvs, skipReason, vsctl } from '../ovs/support.js'

await ensureHelperBundle()

const labs: Topology[] = []
afterEach(async () => {
  for (const l of labs.splice(0).reverse()) await l.down().catch(() => undefined)
  expect(runNetnsEntries()).toEqual([])
})

/** Three hosts on one switch: va and vb on VLAN 10, vc on VLAN 20, one trunk port unused. */
const spec = (sw: { name: string; kind?: 'ovs'; vlanFiltering?: boolean }, asSwitch: boolean): TopologySpec => ({
  name: 'vlan-lab',
  hosts: [{ name: 'va' }, { name: 'vb' }, { name: 'vc' }, { name: 'vt' }],
  ...(asSwitch ? { switches: [sw as { name: string; kind?: 'ovs' }] } : { bridges: [sw] }),
  links: [
    { a: { node: 'va', addresses: ['10.9.0.1/24'] }, b: { node: sw.name, ifname: 'va-p', vlans: { pvid: 10 } } },
    { a: { node: 'vb', addresses: ['10.9.0.2/24'] }, b: { node: sw.name, ifname: 'vb-p', vlans: { pvid: 10 } } },
    { a: { node: 'vc', addresses: ['10.9.0.3/24'] }, b: { node: sw.name, ifname: 'vc-p', vlans: { pvid: 20 } } },
    { a: 'vt', b: { node: sw.name, ifname: 'vt-p', vlans: { tagged: [10, 20] } } },
  ],
})

/** Whether the kernel's bridges filter VLANs (CONFIG_BRIDGE_VLAN_FILTERING). */
function kernelFiltersVlans(): boolean {
  const r = spawnSync('bash', ['-c', 'ip link add nsnet-vf type bridge vlan_filtering 1 && ip link del nsnet-vf'], { encoding: 'utf8' })
  return r.status === 0
}
const filtering = kernelFiltersVlans()

describe('port vlans in specs (no kernel needed)', () => {
  test('script() says tag=/trunks= for OVS, vlan_filtering and bridge vlan for Linux; draw still works', () => {
    const ovs = Topology.script(spec({ name: 'vsw', kind: 'ovs' }, true))
    expect(ovs).toContain('ovs-vsctl add-port vsw va-p tag=10')
    expect(ovs).toContain('ovs-vsctl add-port vsw vt-p trunks=10,20')
    const linux = Topology.script(spec({ name: 'vbr', vlanFiltering: true }, false))
    expect(linux).toContain('type bridge vlan_filtering 1')
    expect(linux).toContain('bridge vlan add vid 10 dev va-p pvid untagged')
    expect(linux).toContain('bridge vlan del vid 1 dev va-p')
    expect(linux).toContain('bridge vlan add vid 20 dev vt-p')
    expect(Topology.draw(spec({ name: 'vsw', kind: 'ovs' }, true))).toMatch(/vsw/)
  })

  test('bad vlans are refused naming the field', () => {
    const bad = (s: TopologySpec, re: RegExp) => expect(() => Topology.validate(s)).toThrow(re)
    const base = spec({ name: 'vsw', kind: 'ovs' }, true)
    const withEnd = (vlans: unknown, node = 'vsw') => ({ ...base, links: [{ a: 'va', b: { node, vlans } as never }] })
    bad(withEnd({ pvid: 0 }), /links\[0\]\.b\.vlans\.pvid.*from 1 to 4094/)
    bad(withEnd({ tagged: [10, 10] }), /tagged\[1\].*listed twice/)
    bad(withEnd({ pvid: 10, tagged: [20] }), /access port.*or a trunk/)
    bad(withEnd({ untagged: true, tagged: [5] }), /there is no pvid/)
    bad(withEnd({}), /give a pvid/)
    bad(withEnd({ pvid: 5, colour: 'red' }), /vlans\.colour.*unknown field/)
    bad({ ...base, links: [{ a: { node: 'va', vlans: { pvid: 5 } } as never, b: 'vsw' }] }, /only an end on a bridge or switch/)
    bad(spec({ name: 'vbr' }, false), /does not filter VLANs: give it vlanFiltering: true/)
    bad({ ...base, switches: [{ name: 'vsw', vlanFiltering: true } as never] }, /switches\[0\]\.vlanFiltering.*unknown field/)
    bad({ ...base, switches: undefined, bridges: [{ name: 'vsw', kind: 'ovs', vlanFiltering: true }] }, /filters VLANs by its ports/)
  })
})

describe('Linux bridge with vlanFiltering', () => {
  test.runIf(!filtering)(`without kernel VLAN filtering up() is EUNSUPPORTED naming it, and rolls back (${NO_VLAN_FILTERING})`, async () => {
    const e = await Topology.up(spec({ name: 'vbr', vlanFiltering: true }, false)).catch((x) => x)
    expect(isNsnetError(e, 'EUNSUPPORTED'), String(e)).toBe(true)
    expect(e.message).toContain('CONFIG_BRIDGE_VLAN_FILTERING')
    expect(e.object).toMatch(/vbr.*vlan_filtering 1/)
    expect(runNetnsEntries()).toEqual([])
  })

  test.skipIf(!filtering)(`hosts on VLAN 10 reach each other and not VLAN 20${filtering ? '' : ` (skipped: ${NO_VLAN_FILTERING})`}`, async () => {
    const lab = await Topology.up(spec({ name: 'vbr', vlanFiltering: true }, false))
    labs.push(lab)
    expect((await lab.ping('va', 'vb')).ok).toBe(true)
    expect((await lab.ping('va', 'vc', { count: 1, timeoutMs: 1500 })).ok).toBe(false)
  })
})

describe.skipIf(!haveOvs)(`OVS switch port vlans${haveOvs ? '' : ` (skipped: ${skipReason})`}`, () => {
  test('tag/trunks as ovs-vsctl shows them; VLAN 10 hosts reach each other and not the VLAN 20 host', async () => {
    const lab = await Topology.up(spec({ name: 'vsw', kind: 'ovs' }, true))
    labs.push(lab)
    const db = (await lab.ovs('vsw')).service!.dbSocket
    expect(vsctl(db, 'get', 'Port', 'va-p', 'tag').trim()).toBe('10')
    expect(vsctl(db, 'get', 'Port', 'vc-p', 'tag').trim()).toBe('20')
    expect(vsctl(db, 'get', 'Port', 'vt-p', 'trunks').trim()).toBe('[10, 20]')
    expect((await lab.ping('va', 'vb')).ok).toBe(true)
    expect((await lab.ping('vb', 'va')).ok).toBe(true)
    expect((await lab.ping('va', 'vc', { count: 1, timeoutMs: 1500 })).ok).toBe(false)
    expect((await lab.ping('vc', 'vb', { count: 1, timeoutMs: 1500 })).ok).toBe(false)
  })
})
