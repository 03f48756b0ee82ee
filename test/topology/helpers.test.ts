// Issue 13, part 1: a lab's helper processes. up() starts one only for a namespace with work
// inside it, at most maxHelpers at once, and none is left running when up() returns unless
// the caller keeps them; lab.rtnl(node) starts one on demand, under the same bound. Counted by
// the pids this process started (helperCounts), and checked in /proc.
import { existsSync } from 'node:fs'
import { afterEach, describe, expect, test } from 'vitest'
import { helperCounts, resetHelperPeak } from '../../src/netns/helper/client.js'
import type { TopologySpec } from '../../src/topology/spec.js'
import { Topology } from '../../src/topology/topology.js'
import { ensureHelperBundle, ipj, runNetnsEntries } from '../netns/support.js'

await ensureHelperBundle()

const labs: Topology[] = []
afterEach(async () => {
  for (const l of labs.splice(0).reverse()) await l.down().catch(() => undefined)
  expect(runNetnsEntries()).toEqual([])
  expect(helperCounts().live).toBe(0)
})

/** n hosts hp1..hpN on bridge br-hp (here, 10.6.0.1/24), each with an address and a default route. */
function spec(n: number, extra: Partial<TopologySpec> = {}): TopologySpec {
  const hosts = Array.from({ length: n }, (_, i) => ({ name: `hp${i + 1}`, gateway: '10.6.0.1' }))
  return {
    name: 'helpers',
    hosts,
    bridges: [{ name: 'br-hp', addresses: ['10.6.0.1/24'] }],
    links: hosts.map((h, i) => ({ a: { node: h.name, addresses: [`10.6.0.${i + 2}/24`] }, b: 'br-hp' })),
    ...extra,
  }
}

const alive = (pids: readonly number[]) => pids.filter((p) => existsSync(`/proc/${p}`))

describe('helpers of a lab', () => {
  test('up() of 6 hosts with maxHelpers 2: never more than 2 alive, none left after', async () => {
    const before = helperCounts()
    resetHelperPeak()
    const lab = await Topology.up(spec(6), { maxHelpers: 2 })
    labs.push(lab)
    const after = helperCounts()
    expect(after.started - before.started).toBe(6)
    expect(after.peak).toBeLessThanOrEqual(2)
    expect(after.live).toBe(0)
    // What the helpers made is there (ip -j as the oracle): lo up, the address, the default route.
    for (let i = 1; i <= 6; i++) {
      const ns = lab.netns(`hp${i}`)!
      const links = ipj<Array<{ ifname: string; flags: string[]; operstate: string }>>('-n', ns, 'link')
      expect(links.find((l) => l.ifname === 'lo')!.flags).toContain('UP')
      const addrs = ipj<Array<{ addr_info: Array<{ local: string }> }>>('-n', ns, 'addr').flatMap((a) => a.addr_info.map((x) => x.local))
      expect(addrs).toContain(`10.6.0.${i + 1}`)
      expect(ipj<Array<{ dst: string; gateway?: string }>>('-n', ns, 'route')).toContainEqual(expect.objectContaining({ dst: 'default', gateway: '10.6.0.1' }))
    }
    // The bridge's ports were enslaved and raised from here, without a helper.
    const ports = ipj<Array<{ ifname: string; master?: string; flags: string[] }>>('link').filter((l) => l.master === 'br-hp')
    expect(ports).toHaveLength(6)
    for (const p of ports) expect(p.flags).toContain('UP')
  })

  test('lab.rtnl(node) starts a helper on demand, and the bound holds for those too', async () => {
    const lab = await Topology.up(spec(4), { maxHelpers: 2 })
    labs.push(lab)
    resetHelperPeak()
    const started = helperCounts().started
    const routes = await Promise.all([1, 2, 3, 4, 1, 3].map(async (i) => (await lab.rtnl(`hp${i}`)).routes.list()))
    for (const r of routes) expect(r).toContainEqual(expect.objectContaining({ dst: 'default', gateway: '10.6.0.1' }))
    const c = helperCounts()
    expect(c.peak).toBeLessThanOrEqual(2)
    expect(c.started).toBeGreaterThan(started)
    expect(alive(c.pids)).toHaveLength(c.live)
    await lab.down()
    expect(alive(c.pids)).toEqual([])
  })

  test('keepHelpers: the helpers stay (up to the bound) and serve lab.rtnl()', async () => {
    const lab = await Topology.up(spec(3), { maxHelpers: 4, keepHelpers: true })
    labs.push(lab)
    const c = helperCounts()
    expect(c.live).toBe(3)
    expect(alive(c.pids)).toHaveLength(3)
    const started = c.started
    expect(await (await lab.rtnl('hp2')).links.get('lo')).toMatchObject({ ifname: 'lo' })
    expect(helperCounts().started).toBe(started) // the kept one answered
  })

  test('a namespace with nothing to do inside gets no helper', async () => {
    const started = helperCounts().started
    // hp2: no address, no route, lo left down: its veth end is made and raised from outside.
    const lab = await Topology.up({
      name: 'helpers-idle',
      hosts: [
        { name: 'hp1', gateway: '10.6.0.1' },
        { name: 'hp2', lo: false },
      ],
      bridges: [{ name: 'br-hp', addresses: ['10.6.0.1/24'] }],
      links: [
        { a: { node: 'hp1', addresses: ['10.6.0.2/24'] }, b: 'br-hp' },
        { a: { node: 'hp2' }, b: 'br-hp' },
      ],
    })
    labs.push(lab)
    expect(helperCounts().started - started).toBe(1)
    const inHp2 = ipj<Array<{ ifname: string; flags: string[] }>>('-n', lab.netns('hp2')!, 'link')
    expect(inHp2.find((l) => l.ifname !== 'lo')!.flags).toContain('UP')
  })
})
