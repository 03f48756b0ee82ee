// Walkthrough: a veth between "the host" (the namespace this script runs in; with
// --sandbox a throwaway one) and a namespace called blue, an address on each end, a
// default route in blue, and the two routing tables side by side. With --ovs the veth's outer
// end and a stand-in "physical" link (to a namespace lan) are ports of an Open vSwitch
// bridge br-blue, which carries the host's address.
//
//   tsx scripts/blue.ts [--ovs] [--sandbox|--no-sandbox] [--keep] [--quiet]
import { netns } from '../src/netns/index.js'
import type { Route } from '../src/ops/routes/types.js'
import { ovsInstalled } from '../src/ovs/service.js'
import type { TopologySpec } from '../src/topology/spec.js'
import { Topology } from '../src/topology/topology.js'
import { routeLine, sideBySide } from './lib/format.js'
import { walkthrough } from './lib/walkthrough.js'

const ovs = process.argv.includes('--ovs')
if (ovs && !ovsInstalled()) {
  process.stdout.write('blue --ovs: Open vSwitch is not installed (apt-get install openvswitch-switch)\n')
  process.exit(1)
}
const spec: TopologySpec = ovs
  ? {
      name: 'blue-ovs',
      hosts: [{ name: 'blue', gateway: '10.1.1.1' }, { name: 'lan' }],
      switches: [{ name: 'br-blue', kind: 'ovs', addresses: ['10.1.1.1/24'] }],
      links: [
        { a: { node: 'br-blue', ifname: 'veth0' }, b: { node: 'blue', ifname: 'veth1', addresses: ['10.1.1.2/24'] } },
        // The stand-in for a physical NIC on the bridge, with a machine behind it.
        { a: { node: 'br-blue', ifname: 'phys0' }, b: { node: 'lan', ifname: 'eth0', addresses: ['10.1.1.3/24'] } },
      ],
    }
  : {
      name: 'blue',
      hosts: [{ name: 'blue', gateway: '10.1.1.1' }],
      links: [{ a: { node: 'host', ifname: 'veth0', addresses: ['10.1.1.1/24'] }, b: { node: 'blue', ifname: 'veth1', addresses: ['10.1.1.2/24'] } }],
    }
/** The host's interface on 10.1.1.0/24: the veth, or the OVS bridge's own port. */
const hostDev = ovs ? 'br-blue' : 'veth0'

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

  await w.check(`host: 10.1.1.0/24 is connected on ${hostDev}`, async () =>
    hostRoutes.some((r) => r.dst === '10.1.1.0/24' && r.dev === hostDev && r.protocol === 'kernel' && r.scope === 'link' && r.prefsrc === '10.1.1.1'),
  )
  await w.check(
    'blue: 10.1.1.0/24 on veth1 and default via 10.1.1.1',
    async () =>
      blueRoutes.some((r) => r.dst === '10.1.1.0/24' && r.dev === 'veth1' && r.prefsrc === '10.1.1.2') &&
      blueRoutes.some((r) => r.dst === 'default' && r.gateway === '10.1.1.1' && r.dev === 'veth1'),
  )
  await w.check('nsnet reads the same tables as `ip -j route`', async () => {
    const ipj = async (node: string) =>
      JSON.parse((await lab.exec(node, ['ip', '-j', 'route'])).stdout) as Array<{ dst: string; dev?: string; gateway?: string }>
    const key = (l: Array<{ dst: string; dev?: string; gateway?: string }>) =>
      l
        .map((r) => `${r.dst} ${r.gateway ?? ''} ${r.dev ?? ''}`)
        .sort()
        .join('|')
    const [a, b] = await Promise.all([ipj('host'), ipj('blue')])
    return key(a) === key(hostRoutes) && key(b) === key(blueRoutes)
  })

  w.section('ping both ways')
  w.print('$ ping -c 1 10.1.1.2')
  await w.checkPing('the host reaches blue (10.1.1.2)', () => lab.ping('host', 'blue'))
  w.print('$ ip netns exec blue ping -c 1 10.1.1.1')
  await w.checkPing('blue reaches the host (10.1.1.1)', () => lab.ping('blue', 'host'))

  if (!ovs) return
  w.section('through the OVS bridge')
  const sw = await lab.ovs('br-blue')
  await w.show('ovs-vsctl list-ports br-blue', async () => [...(await sw.listPorts('br-blue'))])
  await w.check('veth0 and phys0 are ports of br-blue', async () => (await sw.listPorts('br-blue')).join(',') === 'phys0,veth0')
  w.print('$ ip netns exec blue ping -c 1 10.1.1.3')
  await w.checkPing('blue reaches lan (10.1.1.3) through the bridge', () => lab.ping('blue', 'lan'))
  await lab.echoServer('lan', { tcp: 7 })
  await w.check('a TCP echo from blue to lan comes back whole (64 KiB)', async () => (await lab.echo('blue', 'tcp', 'lan', 7, 'b'.repeat(65536))).ok)
  await lab.echoServer('host', { tcp: 7 })
  await w.check(
    'a TCP echo from blue to the host (the bridge port) comes back whole',
    async () => (await lab.echo('blue', 'tcp', 'host', 7, 'h'.repeat(65536))).ok,
  )
})
