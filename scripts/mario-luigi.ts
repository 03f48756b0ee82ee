// Walkthrough: two namespaces, mario and luigi, each on a veth to a Linux bridge named
// my_switch, 10.0.0.1/24 and 10.0.0.2/24; mario pings luigi; `ip -all netns exec` runs
// a command in every namespace.
//
//   tsx scripts/mario-luigi.ts [--sandbox|--no-sandbox] [--keep] [--quiet]
import { netns } from '../src/netns/index.js'
import type { TopologySpec } from '../src/topology/spec.js'
import { Topology } from '../src/topology/topology.js'
import { walkthrough } from './lib/walkthrough.js'

const spec: TopologySpec = {
  name: 'mario-luigi',
  hosts: [{ name: 'mario' }, { name: 'luigi' }],
  bridges: [{ name: 'my_switch' }],
  links: [
    { a: { node: 'mario', ifname: 'veth-mario', addresses: ['10.0.0.1/24'] }, b: { node: 'my_switch', ifname: 'veth-mario-br' } },
    { a: { node: 'luigi', ifname: 'veth-luigi', addresses: ['10.0.0.2/24'] }, b: { node: 'my_switch', ifname: 'veth-luigi-br' } },
  ],
}

await walkthrough('mario and luigi on my_switch', async (w) => {
  w.section('the topology')
  w.print(Topology.draw(spec).trimEnd())

  w.section('build it')
  const lab = await w.up(spec)

  w.section('mario pings luigi')
  w.print('$ ip netns exec mario ping -c 1 10.0.0.2')
  await w.checkPing('mario reaches luigi (10.0.0.2)', () => lab.ping('mario', 'luigi'))
  w.print('$ ip netns exec luigi ping -c 1 10.0.0.1')
  await w.checkPing('luigi reaches mario (10.0.0.1)', () => lab.ping('luigi', 'mario'))

  w.section('one command in every namespace')
  const all = await netns.execAll(['ip', '-br', 'addr', 'show', 'scope', 'global'])
  w.print('$ ip -all netns exec ip -br addr show scope global')
  for (const r of all) {
    w.print(`netns: ${r.name}`)
    w.print(r.stdout.trimEnd().split('\n').map((l) => `  ${l}`).join('\n'))
  }
  await w.check('ip -all netns exec reached mario and luigi with their addresses', async () => {
    const by = new Map(all.map((r) => [r.name, r.stdout]))
    const ok = all.every((r) => r.code === 0) && /10\.0\.0\.1\/24/.test(by.get('mario') ?? '') && /10\.0\.0\.2\/24/.test(by.get('luigi') ?? '')
    return { ok, detail: `${all.length} namespaces: ${all.map((r) => r.name).join(', ')}` }
  })

  w.section('the bridge and its ports')
  const rt = await lab.rtnl('host')
  await w.show('ip -br link show master my_switch', async () => {
    const links = (await rt.links.list()) as ReadonlyArray<{ ifname: string; master?: string; operstate?: string }>
    return links.filter((l) => l.master === 'my_switch').map((l) => `${l.ifname.padEnd(16)} ${l.operstate ?? ''}`)
  })
  await w.check('both veth ends are ports of my_switch', async () => {
    const links = (await rt.links.list()) as ReadonlyArray<{ ifname: string; master?: string }>
    const ports = links.filter((l) => l.master === 'my_switch').map((l) => l.ifname).sort()
    return { ok: ports.join(',') === 'veth-luigi-br,veth-mario-br', detail: ports.join(', ') }
  })
})
