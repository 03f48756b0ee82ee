// Walkthrough: veth0 with 10.0.1.1/24 on the host side, veth1 with 10.0.2.1/24 in
// namespace vnet -- two different subnets on one wire. The ping fails; `ip route get`
// says why; link-scope routes on both sides fix it. Then TCP and UDP echo servers inside
// vnet answer a client outside, and `ip netns pids vnet` lists the server.
//
//   tsx scripts/vnet-routing.ts [--sandbox|--no-sandbox] [--keep] [--quiet]
import { readFileSync } from 'node:fs'
import { isNsnetError } from '../src/netlink/errors.js'
import type { Route } from '../src/ops/routes/types.js'
import type { TopologySpec } from '../src/topology/spec.js'
import { Topology } from '../src/topology/topology.js'
import { routeLine } from './lib/format.js'
import { walkthrough } from './lib/walkthrough.js'

const spec: TopologySpec = {
  name: 'vnet-routing',
  hosts: [{ name: 'vnet' }],
  links: [{ a: { node: 'host', ifname: 'veth0', addresses: ['10.0.1.1/24'] }, b: { node: 'vnet', ifname: 'veth1', addresses: ['10.0.2.1/24'] } }],
}

type RoutesApi = { routes: { get(dst: string): Promise<Route>; add(r: object): Promise<void> } }

/** `ip route get DST` as ip prints it, or its error. */
async function routeGet(api: RoutesApi, dst: string): Promise<{ ok: boolean; text: string }> {
  try {
    return { ok: true, text: routeLine(await api.routes.get(dst)) }
  } catch (e) {
    if (isNsnetError(e)) return { ok: false, text: `RTNETLINK answers: ${e.summary.replace(/^E[A-Z]+ \((.*)\)$/, '$1')} (${e.code})` }
    throw e
  }
}

await walkthrough('two subnets on one veth, and the routes that fix it', async (w) => {
  w.section('the topology')
  w.print(Topology.draw(spec).trimEnd())

  w.section('build it')
  const lab = await w.up(spec)
  const host = (await lab.rtnl('host')) as unknown as RoutesApi
  const vnet = (await lab.rtnl('vnet')) as unknown as RoutesApi

  w.section('the ping fails')
  w.print('$ ping -c 1 10.0.2.1')
  const before = await lab.ping('host', '10.0.2.1')
  w.print(`  ${before.detail}`)
  await w.check('ping 10.0.2.1 fails before the fix (expected)', async () => !before.ok)

  w.section('diagnosis')
  const diag1 = await routeGet(host, '10.0.2.1')
  w.print(`$ ip route get 10.0.2.1\n  ${diag1.text}`)
  const diag2 = await routeGet(vnet, '10.0.1.1')
  w.print(`$ ip -n vnet route get 10.0.1.1\n  ${diag2.text}`)
  await w.check('the host has no route to 10.0.2.0/24, and vnet none back', async () => !diag1.ok && !diag2.ok)

  w.section('the fix: a link-scope route on each side')
  await w.ip('ip route add 10.0.2.0/24 dev veth0 scope link', () => host.routes.add({ dst: '10.0.2.0/24', dev: 'veth0', scope: 'link' }))
  await w.ip('ip -n vnet route add 10.0.1.0/24 dev veth1 scope link', () => vnet.routes.add({ dst: '10.0.1.0/24', dev: 'veth1', scope: 'link' }))
  const after1 = await routeGet(host, '10.0.2.1')
  w.print(`$ ip route get 10.0.2.1\n  ${after1.text}`)
  const after2 = await routeGet(vnet, '10.0.1.1')
  w.print(`$ ip -n vnet route get 10.0.1.1\n  ${after2.text}`)
  await w.check(
    'ip route get 10.0.2.1 now goes out of veth0 from 10.0.1.1',
    async () => after1.ok && /dev veth0/.test(after1.text) && /src 10\.0\.1\.1/.test(after1.text),
  )
  await w.check('and vnet answers through veth1', async () => after2.ok && /dev veth1/.test(after2.text))
  w.print('$ ping -c 1 10.0.2.1')
  await w.checkPing('ping 10.0.2.1 works after the fix', () => lab.ping('host', '10.0.2.1'))

  w.section('echo servers inside vnet, a client outside')
  const server = await lab.echoServer('vnet', { tcp: 7007, udp: 7007 })
  w.print(`$ ip netns exec vnet <echo server on tcp/udp 7007> &     # pid ${server.pid}`)
  w.print('$ echo "hello over tcp" | nc 10.0.2.1 7007')
  await w.check('TCP echo from outside vnet', async () => {
    const r = await lab.echo('host', 'tcp', '10.0.2.1', 7007, 'hello over tcp')
    return { ok: r.ok, detail: r.ok ? `"${r.reply}" in ${r.rttMs?.toFixed(1)} ms` : r.error }
  })
  w.print('$ echo "hello over udp" | nc -u 10.0.2.1 7007')
  await w.check('UDP echo from outside vnet', async () => {
    const r = await lab.echo('host', 'udp', '10.0.2.1', 7007, 'hello over udp')
    return { ok: r.ok, detail: r.ok ? `"${r.reply}" in ${r.rttMs?.toFixed(1)} ms` : r.error }
  })
  const pids = await lab.pids('vnet')
  const cmdline = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
        .split('\0')
        .filter(Boolean)
        .map((a) => a.split('/').pop())
        .join(' ')
    } catch {
      return '?'
    }
  }
  w.print(`$ ip netns pids vnet\n${pids.map((p) => `  ${p}   ${cmdline(p).slice(0, 80)}`).join('\n')}`)
  await w.check('ip netns pids vnet lists the echo server', async () => ({ ok: pids.includes(server.pid), detail: `server pid ${server.pid}` }))
})
