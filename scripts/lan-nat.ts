// Walkthrough: a home LAN behind a NAT router. Namespace router has bridge br0 as the
// gateway 192.168.0.1/24 of ns1 and ns2 (default routes via it), forwards, and masquerades
// the LAN out of its uplink to namespace upstream, which stands in for the internet
// (203.0.113.0/24) and runs a tiny DNS server. ns1 and ns2 get a resolv.conf pointing at
// it, so www.example.test resolves there. NAT and the firewall are nsnet's own nf_tables
// messages (rt.nft): neither nft nor iptables needs to be installed; each step prints the
// iptables line that does the same.
//
//   tsx scripts/lan-nat.ts [--sandbox|--no-sandbox] [--keep] [--quiet] [--shell ns1] [--nat=nsnet|nft|iptables]

import { formatRuleset } from '../src/nftables/text.js'
import type { Route } from '../src/ops/routes/types.js'
import { showNat } from '../src/topology/nat.js'
import { serviceArgv } from '../src/topology/probes.js'
import type { TopologySpec } from '../src/topology/spec.js'
import { Topology } from '../src/topology/topology.js'
import { routeLine } from './lib/format.js'
import { walkthrough } from './lib/walkthrough.js'

const indent = (text: string): string =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n')

// Who writes the masquerade: nsnet itself by default (--nat=nft or --nat=iptables runs that program).
const natWriter = process.argv.find((a) => a.startsWith('--nat='))?.slice('--nat='.length) as 'nsnet' | 'nft' | 'iptables' | undefined

const records = { 'www.example.test': '203.0.113.80', 'dns.example.test': '203.0.113.53' }

const spec: TopologySpec = {
  name: 'lan-nat',
  pools: [{ name: 'lan', subnet: '192.168.0.0/24' }],
  hosts: [
    { name: 'router', forwarding: true, nat: [{ masquerade: '192.168.0.0/24', out: 'wan0', ...(natWriter ? { backend: natWriter } : {}) }] },
    { name: 'ns1', gateway: 'br0', dns: { nameservers: ['203.0.113.53'], search: ['example.test'] } },
    { name: 'ns2', gateway: 'br0', dns: { nameservers: ['203.0.113.53'], search: ['example.test'] } },
    {
      // No route back to 192.168.0.0/24: replies reach the LAN only because of the masquerade.
      name: 'upstream',
      processes: [
        {
          name: 'dns',
          command: serviceArgv(['dns', '--listen', '203.0.113.53', '--port', '53', '--records', JSON.stringify(records)]),
          readyText: 'ready dns',
        },
      ],
    },
  ],
  bridges: [{ name: 'br0', in: 'router', addresses: ['192.168.0.1/24'] }],
  links: [
    { a: { node: 'ns1', ifname: 'eth0', addresses: [{ pool: 'lan' }] }, b: { node: 'br0', ifname: 'veth-ns1' } },
    { a: { node: 'ns2', ifname: 'eth0', addresses: [{ pool: 'lan' }] }, b: { node: 'br0', ifname: 'veth-ns2' } },
    {
      a: { node: 'router', ifname: 'wan0', addresses: ['203.0.113.2/24'] },
      b: { node: 'upstream', ifname: 'eth0', addresses: ['203.0.113.1/24', '203.0.113.53/24', '203.0.113.80/24'] },
    },
  ],
}

await walkthrough('a LAN behind a NAT router', async (w) => {
  w.section('the topology')
  w.print(Topology.draw(spec).trimEnd())

  w.section('build it')
  const lab = await w.up(spec)

  w.section('what the router holds')
  const router = await lab.rtnl('router')
  await w.show('ip -n router route', async () => ((await router.routes.list({ family: 4 })) as Route[]).map(routeLine))
  const fwd = await lab.sysctl('router', 'net.ipv4.ip_forward')
  w.print(`$ ip netns exec router sysctl net.ipv4.ip_forward\n  net.ipv4.ip_forward = ${fwd}`)
  await w.check('the router forwards', async () => fwd === '1')
  // nsnet wrote the masquerade itself over NETLINK_NETFILTER; no nft or iptables was run.
  w.print('$ ip netns exec router iptables -t nat -A POSTROUTING -s 192.168.0.0/24 -o wan0 -j MASQUERADE   # the same rule, as iptables says it')
  const rules = await showNat('router')
  w.print(`$ ip netns exec router nft list table ip nsnet\n${indent(rules)}`)
  await w.check('the masquerade rule is in the router namespace', async () => /192\.168\.0\.0\/24.*wan0.*masquerade|MASQUERADE/.test(rules.replace(/\n/g, ' ')))

  w.section('the LAN reaches its gateway and the internet')
  for (const ns of ['ns1', 'ns2']) {
    const mine = lab.addresses(ns)[0]
    w.print(`$ ip netns exec ${ns} ping -c 1 192.168.0.1          # ${ns} is ${mine}`)
    await w.checkPing(`${ns} reaches its gateway 192.168.0.1`, () => lab.ping(ns, '192.168.0.1'))
    w.print(`$ ip netns exec ${ns} ping -c 1 203.0.113.80`)
    await w.checkPing(`${ns} reaches 203.0.113.80 through the NAT`, () => lab.ping(ns, '203.0.113.80'))
  }
  const upstream = await lab.rtnl('upstream')
  await w.check(
    'upstream has no route to 192.168.0.0/24 (so the replies above were NATed)',
    async () => !((await upstream.routes.list({ family: 4 })) as Route[]).some((r) => r.dst === 'default' || r.dst.startsWith('192.168.')),
  )

  w.section('names resolve through the DNS server in upstream')
  w.print('$ cat /etc/netns/ns1/resolv.conf')
  w.print(
    (await lab.exec('ns1', ['cat', '/etc/resolv.conf'])).stdout
      .trimEnd()
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n'),
  )
  for (const ns of ['ns1', 'ns2']) {
    for (const name of ['www.example.test', 'www']) {
      const r = await lab.resolve(ns, name)
      w.print(`$ ip netns exec ${ns} getent hosts ${name}\n  ${r.addresses.join(' ') || '(no answer)'}`)
      await w.check(`${ns} resolves ${name} to 203.0.113.80`, async () => ({ ok: r.addresses.includes('203.0.113.80'), detail: r.method }))
    }
  }
  const missing = await lab.resolve('ns1', 'nowhere.example.test')
  await w.check('an unknown name does not resolve (NXDOMAIN)', async () => missing.addresses.length === 0)

  w.section('a firewall on the router: FORWARD policy drop, the LAN allowed out')
  w.print('$ ip netns exec router iptables -P FORWARD DROP')
  await router.nft.forwardPolicy('drop')
  await w.check('with FORWARD dropped, ns1 no longer reaches 203.0.113.80', async () => !(await lab.ping('ns1', '203.0.113.80')).ok)
  w.print('$ ip netns exec router iptables -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT')
  await router.nft.allowForward({ established: true })
  w.print('$ ip netns exec router iptables -A FORWARD -i br0 -s 192.168.0.0/24 -j ACCEPT')
  await router.nft.allowForward({ in: 'br0', from: '192.168.0.0/24' })
  const fw = (await router.nft.ruleset()).nftables.filter(
    (x) =>
      ('table' in x ? x.table.name : 'chain' in x ? x.chain.table : x.rule.table) === 'nsnet' &&
      ('table' in x ? x.table.family : 'chain' in x ? x.chain.family : x.rule.family) === 'inet',
  )
  w.print(`$ ip netns exec router nft list table inet nsnet\n${indent(formatRuleset({ nftables: fw }))}`)
  await w.checkPing('the LAN is allowed out again', () => lab.ping('ns1', '203.0.113.80'))
  w.print('$ ip netns exec router iptables -P FORWARD ACCEPT && ip netns exec router iptables -F FORWARD')
  await router.nft.forwardPolicy('accept')
  await router.nft.flushForward()
  await w.checkPing('with the policy back to accept, ns2 reaches 203.0.113.80', () => lab.ping('ns2', '203.0.113.80'))
})
