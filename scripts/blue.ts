// Walkthrough: a veth between "the host" (the namespace this script runs in; with
// --sandbox a throwaway one) and a namespace called blue, an address on each end, a
// default route in blue, and the two routing tables side by side.
//
//   tsx scripts/blue.ts [--sandbox|--no-sandbox] [--keep] [--quiet]
import { netns } from '../src/netns/index.js'
import type { Route } from '../src/ops/routes/types.js'
import type { TopologySpec } from '../src/topology/spec.js'
import { Topology } from '../src/topology/topology.js'
import { routeLine, sideBySide } from './lib/format.js'
import { walkthrough } from './lib/walkthrough.js'

const spec: TopologySpec = {
  name: 'blue',
  hosts: [{ name: 'blue', gateway: '10.1.1.1' }],
  links: [{ a: { node: 'host', ifname: 'veth0', addresses: ['10.1.1.1/24'] }, b: { node: 'blue', ifname: 'veth1', addresses: ['10.1.1.2/24'] } }],
}

await walkthrough('the host and namespace blue', async (w) => {
  w.section('the topology')
  w.print(Topology.draw(spec).trimEnd())

  w.section('build it')
  const lab = await w.up(spec)

  await w.show('ip netns list', async () => (await netns.list()).map((n) => `${n.name}${n.id !== undefined ? ` (id: ${n.id})` : ''}`))
  await w.check('blue is listed by ip netns list', async () => (await netns.list()).some((n) => n.name === 'blue'))

  w.section('routing tables side by side')
  const host = await lab.rtnl('host')
  const blue = await lab.rtnl('blue')
  const hostRoutes = (await host.routes.list({ family: 4 })) as Route[]
  const blueRoutes = (await blue.routes.list({ family: 4 })) as Route[]
  w.print('$ ip route            $ ip -n blue route')
  w.print(sideBySide({ title: 'host', lines: hostRoutes.map(routeLine) }, { title: 'blue', lines: blueRoutes.map(routeLine) }))

  await w.check('host: 10.1.1.0/24 is connected on veth0', async () =>
    hostRoutes.some((r) => r.dst === '10.1.1.0/24' && r.dev === 'veth0' && r.protocol === 'kernel' && r.scope === 'link' && r.prefsrc === '10.1.1.1'))
  await w.check('blue: 10.1.1.0/24 on veth1 and default via 10.1.1.1', async () =>
    blueRoutes.some((r) => r.dst === '10.1.1.0/24' && r.dev === 'veth1' && r.prefsrc === '10.1.1.2') &&
    blueRoutes.some((r) => r.dst === 'default' && r.gateway === '10.1.1.1' && r.dev === 'veth1'))
  await w.check('nsnet reads the same tables as `ip -j route`', async () => {
    const ipj = async (node: string) => JSON.parse((await lab.exec(node, ['ip', '-j', 'route'])).stdout) as Array<{ dst: string; dev?: string; gateway?: string }>
    const key = (l: Array<{ dst: string; dev?: string; gateway?: string }>) => l.map((r) => `${r.dst} ${r.gateway ?? ''} ${r.dev ?? ''}`).sort().join('|')
    const [a, b] = await Promise.all([ipj('host'), ipj('blue')])
    return key(a) === key(hostRoutes) && key(b) === key(blueRoutes)
  })

  w.section('ping both ways')
  w.print('$ ping -c 1 10.1.1.2')
  await w.checkPing('the host reaches blue (10.1.1.2)', () => lab.ping('host', 'blue'))
  w.print('$ ip netns exec blue ping -c 1 10.1.1.1')
  await w.checkPing('blue reaches the host (10.1.1.1)', () => lab.ping('blue', 'host'))
})
