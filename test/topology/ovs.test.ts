// Open vSwitch switches in topologies: up() starts a private OVS in the switch's namespace
// and makes each link end on the switch its port (ovs-vsctl is the oracle); ping and TCP
// work across it; down(), a rollback and reap() after a SIGKILLed owner leave no daemon,
// no bridge and no tap behind.
import { existsSync, rmSync } from 'node:fs'
import { afterEach, describe, expect, test } from 'vitest'
import { reap } from '../../src/topology/reap.js'
import type { TopologySpec } from '../../src/topology/spec.js'
import { Topology } from '../../src/topology/topology.js'
import { ensureHelperBundle, runNetnsEntries } from '../netns/support.js'
import { haveOvs, linkNames, ovsPids, ovsPidsHere, skipReason, vsctl } from '../ovs/support.js'
import { killAfterFirstLine } from '../support/child.js'

await ensureHelperBundle()

const labs: Topology[] = []
afterEach(async () => {
  for (const l of labs.splice(0).reverse()) await l.down().catch(() => undefined)
  expect(runNetnsEntries()).toEqual([])
})

const spec = (extra: Partial<TopologySpec> = {}): TopologySpec => ({
  name: 'ovs-lab',
  hosts: [{ name: 'om' }, { name: 'ol' }],
  switches: [{ name: 'osw', kind: 'ovs' }],
  links: [
    { a: { node: 'om', addresses: ['10.8.0.1/24'] }, b: { node: 'osw', ifname: 'om-ovs' } },
    { a: { node: 'ol', addresses: ['10.8.0.2/24'] }, b: { node: 'osw', ifname: 'ol-ovs' } },
  ],
  ...extra,
})

describe('switches in specs (no OVS needed)', () => {
  test('script() prints ovs-vsctl add-br / add-port; draw() shows the switch; bad kinds are refused', () => {
    const script = Topology.script(spec())
    expect(script).toContain('ovs-vsctl add-br osw -- set bridge osw datapath_type=netdev')
    expect(script).toContain('ip link set om-ovs up && ovs-vsctl add-port osw om-ovs')
    expect(script).not.toMatch(/master osw/)
    expect(Topology.draw(spec())).toMatch(/osw.*ovs switch; ports: om-ovs, ol-ovs/)
    expect(Topology.validate({ ...spec(), switches: undefined, bridges: [{ name: 'osw', kind: 'ovs' }] }).bridges[0]!.kind).toBe('ovs')
    expect(() => Topology.validate({ ...spec(), switches: [{ name: 'osw', kind: 'linux' as never }] })).toThrow(/switches\[0\]\.kind/)
    expect(() => Topology.validate({ ...spec(), switches: [{ name: 'osw', datapathType: 'system' as never }] })).toThrow(/datapathType/)
  })
})

describe.skipIf(!haveOvs)(`OVS switches in topologies${haveOvs ? '' : ` (skipped: ${skipReason})`}`, () => {
  test('up: the switch and its ports as ovs-vsctl sees them; ping and TCP across; down leaves nothing', async () => {
    const before = linkNames()
    const lab = await Topology.up(spec())
    labs.push(lab)
    const ovs = await lab.ovs('osw')
    const db = ovs.service!.dbSocket
    const dir = ovs.service!.dir
    expect(vsctl(db, 'list-br').trim()).toBe('osw')
    expect(vsctl(db, 'list-ports', 'osw').trim().split('\n')).toEqual(['ol-ovs', 'om-ovs'])
    expect(vsctl(db, 'get', 'Bridge', 'osw', 'datapath_type').trim()).toBe('netdev')
    // Whole results, so a failure shows what ping saw.
    expect(await lab.ping('om', 'ol')).toMatchObject({ ok: true })
    expect(await lab.ping('ol', 'om')).toMatchObject({ ok: true })
    await lab.echoServer('ol', { tcp: 7007 })
    const big = 'x'.repeat(100_000) // many full-size segments, each with a checksum to get right
    const r = await lab.echo('om', 'tcp', 'ol', 7007, big)
    expect({ ...r, reply: undefined }).toMatchObject({ ok: true })
    labs.pop()
    const report = await lab.down()
    expect(report.failed).toEqual([])
    expect(report.removed).toContain('ovs bridge osw in host')
    expect(ovsPids(dir)).toEqual([])
    expect(linkNames()).toEqual(before)
  })

  test('a switch inside another host: vswitchd runs in that namespace; TCP across it', async () => {
    const lab = await Topology.up({
      name: 'ovs-in-ns',
      hosts: [{ name: 'osx' }, { name: 'oa' }, { name: 'ob' }],
      switches: [{ name: 'nsw', in: 'osx' }],
      links: [
        { a: { node: 'oa', addresses: ['10.8.1.1/24'] }, b: 'nsw' },
        { a: { node: 'ob', addresses: ['10.8.1.2/24'] }, b: 'nsw' },
      ],
    })
    labs.push(lab)
    const ovs = await lab.ovs('nsw')
    expect(ovs.service!.namespace).toBe('osx')
    expect(vsctl(ovs.service!.dbSocket, 'list-ports', 'nsw').trim().split('\n')).toEqual(['v-oa', 'v-ob'])
    expect(linkNames('osx')).toEqual(expect.arrayContaining(['nsw', 'ovs-netdev', 'v-oa', 'v-ob']))
    expect(linkNames()).not.toContain('nsw')
    await lab.echoServer('ob', { tcp: 7008 })
    expect((await lab.echo('oa', 'tcp', 'ob', 7008, 'y'.repeat(50_000))).ok).toBe(true)
    const dir = ovs.service!.dir
    labs.pop()
    expect((await lab.down()).failed).toEqual([])
    expect(ovsPids(dir)).toEqual([])
  })

  test('a build that fails after the switch is up rolls the switch and its daemons back', async () => {
    const before = linkNames()
    const e = await Topology.up(spec({ name: 'ovs-fail' }), {
      onStep: (s) => {
        if (s.kind === 'address') throw new Error('injected failure')
      },
    }).catch((x) => x)
    expect(e.message).toMatch(/injected failure.*everything it made was removed/)
    expect(linkNames()).toEqual(before)
    expect(ovsPidsHere()).toEqual([])
  })

  test('reap stops the daemons and removes the taps of a SIGKILLed owner', async () => {
    const before = linkNames()
    const { runId, dir, pids } = await killAfterFirstLine<{ runId: string; dir: string; pids: number[] }>(`
      const { Topology } = await import(${JSON.stringify(new URL('../../src/topology/topology.ts', import.meta.url).href)})
      const lab = await Topology.up(${JSON.stringify(spec({ name: 'ovs-doomed' }))})
      const ovs = await lab.ovs('osw')
      console.log(JSON.stringify({ runId: lab.runId, dir: ovs.service.dir, pids: ovs.service.daemons.map((d) => d.pid) }))
      setInterval(() => {}, 1000)
    `)
    expect(ovsPids(dir).sort()).toEqual([...pids].sort())
    expect(linkNames()).toEqual(expect.arrayContaining(['osw', 'ovs-netdev']))
    const r = (await reap()).find((x) => x.runId === runId)!
    expect(r.status).toBe('removed')
    expect(ovsPids(dir)).toEqual([])
    expect(linkNames()).toEqual(before)
    const left = existsSync(dir)
    rmSync(dir, { recursive: true, force: true })
    expect(left).toBe(false) // the service's run directory goes with its daemons
  })
})
