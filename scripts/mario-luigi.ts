// Walkthrough: two namespaces, mario and luigi, each on a veth to a switch named my_switch,
// 10.0.0.1/24 and 10.0.0.2/24; mario pings luigi and they talk TCP; `ip -all netns exec`
// runs a command in every namespace. my_switch is an Open vSwitch bridge, made as the
// walkthrough does (`ovs-vsctl add-br` / `add-port`, over OVSDB); `--switch linux` uses a
// Linux bridge instead, and so does a machine without Open vSwitch (the script says so).
//
//   tsx scripts/mario-luigi.ts [--switch ovs|linux] [--sandbox|--no-sandbox] [--keep] [--quiet]
import { execFileSync } from 'node:child_process'
import { netns } from '../src/netns/index.js'
import { ovsInstalled } from '../src/ovs/service.js'
import type { OvsShow } from '../src/ovs/show.js'
import type { TopologySpec } from '../src/topology/spec.js'
import { Topology } from '../src/topology/topology.js'
import { walkthrough } from './lib/walkthrough.js'

const arg = process.argv.indexOf('--switch')
const wanted = arg >= 0 ? process.argv[arg + 1] : 'ovs'
if (wanted !== 'ovs' && wanted !== 'linux') throw new Error(`--switch takes ovs or linux, got ${wanted}`)
const ovs = wanted === 'ovs' && ovsInstalled()

const port = (h: string) => (ovs ? `${h}-ovs` : `veth-${h}-br`)
const spec: TopologySpec = {
  name: 'mario-luigi',
  hosts: [{ name: 'mario' }, { name: 'luigi' }],
  ...(ovs ? { switches: [{ name: 'my_switch', kind: 'ovs' as const }] } : { bridges: [{ name: 'my_switch' }] }),
  links: [
    { a: { node: 'mario', ifname: 'veth-mario', addresses: ['10.0.0.1/24'] }, b: { node: 'my_switch', ifname: port('mario') } },
    { a: { node: 'luigi', ifname: 'veth-luigi', addresses: ['10.0.0.2/24'] }, b: { node: 'my_switch', ifname: port('luigi') } },
  ],
}

/** `ovs-vsctl show` as it prints, from nsnet's typed show(). */
function showText(s: OvsShow): string[] {
  const out = [s.uuid]
  for (const b of s.bridges) {
    out.push(`    Bridge ${b.name}`)
    if (b.fail_mode) out.push(`        fail_mode: ${b.fail_mode}`)
    if (b.datapath_type) out.push(`        datapath_type: ${b.datapath_type}`)
    for (const p of b.ports) {
      out.push(`        Port ${p.name}`)
      if (p.tag !== undefined) out.push(`            tag: ${p.tag}`)
      for (const i of p.interfaces) {
        out.push(`            Interface ${i.name}`)
        if (i.type) out.push(`                type: ${i.type}`)
        if (i.error) out.push(`                error: "${i.error}"`)
      }
    }
  }
  if (s.ovs_version) out.push(`    ovs_version: "${s.ovs_version}"`)
  return out
}

await walkthrough('mario and luigi on my_switch', async (w) => {
  if (wanted === 'ovs' && !ovs) w.print('# Open vSwitch is not installed (apt-get install openvswitch-switch): my_switch is a Linux bridge instead')
  w.section('the topology')
  w.print(Topology.draw(spec).trimEnd())

  w.section(ovs ? 'build it (my_switch: a private ovsdb-server and ovs-vswitchd, userspace datapath)' : 'build it')
  const lab = await w.up(spec)

  w.section('mario pings luigi')
  w.print('$ ip netns exec mario ping -c 1 10.0.0.2')
  await w.checkPing('mario reaches luigi (10.0.0.2)', () => lab.ping('mario', 'luigi'))
  w.print('$ ip netns exec luigi ping -c 1 10.0.0.1')
  await w.checkPing('luigi reaches mario (10.0.0.1)', () => lab.ping('luigi', 'mario'))

  w.section('mario and luigi talk TCP')
  w.print('$ ip netns exec luigi nc -l 7 (an echo server)   $ ip netns exec mario nc 10.0.0.2 7')
  await lab.echoServer('luigi', { tcp: 7 })
  await w.check('a TCP echo from mario to luigi comes back whole (64 KiB)', async () => {
    const r = await lab.echo('mario', 'tcp', 'luigi', 7, 'm'.repeat(65536))
    return { ok: r.ok, detail: r.ok ? undefined : JSON.stringify(r) }
  })

  w.section('one command in every namespace')
  const all = await netns.execAll(['ip', '-br', 'addr', 'show', 'scope', 'global'])
  w.print('$ ip -all netns exec ip -br addr show scope global')
  for (const r of all) {
    w.print(`netns: ${r.name}`)
    w.print(
      r.stdout
        .trimEnd()
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n'),
    )
  }
  await w.check('ip -all netns exec reached mario and luigi with their addresses', async () => {
    const by = new Map(all.map((r) => [r.name, r.stdout]))
    const ok = all.every((r) => r.code === 0) && /10\.0\.0\.1\/24/.test(by.get('mario') ?? '') && /10\.0\.0\.2\/24/.test(by.get('luigi') ?? '')
    return { ok, detail: `${all.length} namespaces: ${all.map((r) => r.name).join(', ')}` }
  })

  if (ovs) {
    w.section('the switch and its ports')
    const sw = await lab.ovs('my_switch')
    const shown = await sw.show()
    w.print('$ ovs-vsctl show')
    w.print(showText(shown).join('\n'))
    await w.check('both veth ends are ports of my_switch (nsnet and ovs-vsctl agree)', async () => {
      const ports = await sw.listPorts('my_switch')
      const theirs = execFileSync('ovs-vsctl', [`--db=unix:${sw.service!.dbSocket}`, 'list-ports', 'my_switch'], { encoding: 'utf8' })
        .trim()
        .split('\n')
      return { ok: ports.join(',') === 'luigi-ovs,mario-ovs' && theirs.join(',') === ports.join(','), detail: ports.join(', ') }
    })
    return
  }
  w.section('the bridge and its ports')
  const rt = await lab.rtnl('host')
  await w.show('ip -br link show master my_switch', async () => {
    const links = (await rt.links.list()) as ReadonlyArray<{ ifname: string; master?: string; operstate?: string }>
    return links.filter((l) => l.master === 'my_switch').map((l) => `${l.ifname.padEnd(16)} ${l.operstate ?? ''}`)
  })
  await w.check('both veth ends are ports of my_switch', async () => {
    const links = (await rt.links.list()) as ReadonlyArray<{ ifname: string; master?: string }>
    const ports = links
      .filter((l) => l.master === 'my_switch')
      .map((l) => l.ifname)
      .sort()
    return { ok: ports.join(',') === 'veth-luigi-br,veth-mario-br', detail: ports.join(', ') }
  })
})
