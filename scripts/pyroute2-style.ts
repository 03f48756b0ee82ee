// Walkthrough in the style of pyroute2's examples: the imperative API, one call per step
// (no Topology). Namespace namespace1, a veth v01/vp01 with vp01 moved into it, addresses,
// a default route, and a bridge br0 on the host side as the gateway.
//
//   tsx scripts/pyroute2-style.ts [--sandbox|--no-sandbox] [--keep] [--quiet]
import { isNsnetError } from '../src/netlink/errors.js'
import { netns } from '../src/netns/index.js'
import type { Route } from '../src/ops/routes/types.js'
import { Rtnl } from '../src/rtnl.js'
import { ping } from '../src/topology/probes.js'
import { routeLine } from './lib/format.js'
import { walkthrough } from './lib/walkthrough.js'

interface LinkView {
  ifname: string
  flags: readonly string[]
  master?: string
}

await walkthrough('pyroute2-style: namespace1, v01/vp01 and a bridge', async (w) => {
  const say = (py: string) => w.print(`# pyroute2: ${py}`)
  const ipr = await Rtnl.open()
  w.onCleanup('ip link del br0', async () => {
    await ipr.links.delete('br0').catch((e: unknown) => {
      if (!isNsnetError(e, 'ENODEV')) throw e
    })
    await ipr.close()
  })

  w.section('a namespace')
  say("netns.create('namespace1')")
  await w.ip('ip netns add namespace1', () => netns.add('namespace1'))
  w.onCleanup('ip netns del namespace1', () => netns.delete('namespace1', { kill: true }))

  w.section('a veth pair, one end moved into the namespace')
  say("ipr.link('add', ifname='v01', kind='veth', peer='vp01')")
  await w.ip('ip link add v01 type veth peer name vp01', () => ipr.links.add({ name: 'v01', kind: 'veth', peer: { name: 'vp01' } }))
  say("ipr.link('set', index=ipr.link_lookup(ifname='vp01')[0], net_ns_fd='namespace1')")
  await w.ip('ip link set vp01 netns namespace1', () => ipr.links.set('vp01', { namespace: 'namespace1' }))

  w.section('inside the namespace: address, up, default route')
  say("ns = NetNS('namespace1')")
  const ns = await netns.open('namespace1')
  say("ns.addr('add', index=idx, address='10.0.0.2', prefixlen=24)")
  await w.ip('ip -n namespace1 addr add 10.0.0.2/24 dev vp01', () => ns.addresses.add('vp01', '10.0.0.2/24'))
  say("ns.link('set', index=idx, state='up')")
  await w.ip('ip -n namespace1 link set vp01 up', () => ns.links.set('vp01', { up: true }))
  await w.ip('ip -n namespace1 link set lo up', () => ns.links.set('lo', { up: true }))

  w.section('on the host: a bridge with the other end, as the gateway')
  say("ipr.link('add', ifname='br0', kind='bridge')")
  await w.ip('ip link add br0 type bridge', () => ipr.links.add({ name: 'br0', kind: 'bridge' }))
  say("ipr.link('set', index=v01, master=br0, state='up')")
  await w.ip('ip link set v01 master br0 up', () => ipr.links.set('v01', { master: 'br0', up: true }))
  say("ipr.addr('add', index=br0, address='10.0.0.1', prefixlen=24)")
  await w.ip('ip addr add 10.0.0.1/24 dev br0', () => ipr.addresses.add('br0', '10.0.0.1/24'))
  say("ipr.link('set', index=br0, state='up')")
  await w.ip('ip link set br0 up', () => ipr.links.set('br0', { up: true }))
  say("ns.route('add', dst='default', gateway='10.0.0.1')")
  await w.ip('ip -n namespace1 route add default via 10.0.0.1', () => ns.routes.add({ dst: 'default', gateway: '10.0.0.1' }))

  w.section('what it looks like')
  const nsLinks = (await ns.links.list()) as unknown as LinkView[]
  await w.show('ip -n namespace1 -br link', async () => nsLinks.map((l) => `${l.ifname.padEnd(16)} <${l.flags.join(',')}>`))
  const nsRoutes = (await ns.routes.list({ family: 4 })) as Route[]
  await w.show('ip -n namespace1 route', async () => nsRoutes.map(routeLine))
  const hostLinks = (await ipr.links.list()) as unknown as LinkView[]
  await w.show('ip -br link show master br0', async () => hostLinks.filter((l) => l.master === 'br0').map((l) => l.ifname))

  await w.check('vp01 is in namespace1 and up', async () => nsLinks.some((l) => l.ifname === 'vp01' && l.flags.includes('UP')))
  await w.check('v01 stayed on the host as a port of br0', async () => hostLinks.some((l) => l.ifname === 'v01' && l.master === 'br0'))
  await w.check('namespace1 routes default via 10.0.0.1 dev vp01', async () =>
    nsRoutes.some((r) => r.dst === 'default' && r.gateway === '10.0.0.1' && r.dev === 'vp01'),
  )
  w.print('$ ip netns exec namespace1 ping -c 1 10.0.0.1')
  await w.checkPing('namespace1 reaches its gateway 10.0.0.1', () => ping('namespace1', '10.0.0.1'))
  w.print('$ ping -c 1 10.0.0.2')
  await w.checkPing('the host reaches namespace1 (10.0.0.2)', () => ping(null, '10.0.0.2'))
})
