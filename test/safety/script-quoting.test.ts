// Issue 8, item 4: no code from names. Every command Topology.script() prints (and the
// walkthroughs print through the same ipCommand) is quoted for the shell. This test runs
// the printed script in this test's throwaway namespace for names holding ; $ ' " \ and
// values holding spaces and newlines, and checks the result equals what up() builds. On the
// old code a bridge named `b;touch${IFS}p` turned the script into a command creating a file.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { teardownScript } from '../../src/topology/plan.js'
import type { TopologySpec } from '../../src/topology/spec.js'
import { Topology } from '../../src/topology/topology.js'
import { validate } from '../../src/topology/validate/index.js'
import { ensureHelperBundle, ipj, runNetnsEntries, waitFor } from '../netns/support.js'

await ensureHelperBundle()

const dir = mkdtempSync(join(tmpdir(), 'nsnet-quote-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const OUT = join(dir, 'written by the process')

const BR = 'b;touch${IFS}p' // a bridge in the current namespace
const LOCAL = `v'"\\$(id)` // its port, the local end of qa's veth
const IFA = 'e;$(x)`y`' // qa's end
const NATOUT = "o;$a'b" // qb's end, NAT out of it (nft holds it in a quoted string)
const WEIRD = `a b; $HOME 'x' "y" \\ \n end $(touch p)`

const spec: TopologySpec = {
  name: 'quoting',
  hosts: [
    {
      name: 'qa',
      sysctls: { 'net.ipv4.ping_group_range': '1 2' },
      dns: { nameservers: ['10.40.0.53'], search: ['a.example'] },
      routes: [{ dst: '10.41.0.0/24', dev: IFA, scope: 'link' }],
      processes: [{ name: 'writer', command: ['sh', '-c', 'printf "%s|%s" "$1" "$W" > "$2"', 'sh', WEIRD, OUT], env: { W: WEIRD } }],
    },
    { name: 'qb', nat: [{ masquerade: '10.40.0.0/24', out: NATOUT }] },
  ],
  bridges: [{ name: BR, addresses: ['10.40.0.1/24'] }],
  links: [
    { a: { node: 'qa', ifname: IFA, addresses: ['10.40.0.2/24'] }, b: { node: BR, ifname: LOCAL } },
    { a: { node: 'qb', ifname: NATOUT, addresses: ['10.40.0.3/24'] }, b: BR },
  ],
}

interface IpLink {
  ifname: string
  master?: string
  mtu: number
  flags: string[]
  linkinfo?: { info_kind?: string }
}
interface IpAddr {
  ifname: string
  addr_info: Array<{ family: string; local: string; prefixlen: number }>
}
interface IpRoute {
  dst: string
  gateway?: string
  dev?: string
  scope?: string
  prefsrc?: string
}

/** What ip, nft, /proc and /etc/netns say about the lab (no ifindexes, MACs or aliases). */
function state() {
  const of = (ns: string[]) => ({
    links: ipj<IpLink[]>(...ns, '-d', 'link')
      .map((l) => `${l.ifname} ${l.linkinfo?.info_kind ?? '-'} ${l.master ?? '-'} ${l.mtu} ${l.flags.includes('UP')}`)
      .sort(),
    addrs: ipj<IpAddr[]>(...ns, '-4', 'addr')
      .flatMap((l) => l.addr_info.map((a) => `${l.ifname} ${a.local}/${a.prefixlen}`))
      .sort(),
    routes: ipj<IpRoute[]>(...ns, 'route')
      .map((r) => JSON.stringify([r.dst, r.gateway, r.dev, r.scope, r.prefsrc]))
      .sort(),
  })
  const inside = (ns: string, ...argv: string[]) => execFileSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8' })
  return {
    netns: runNetnsEntries(),
    here: of([]),
    qa: of(['-n', 'qa']),
    qb: of(['-n', 'qb']),
    sysctl: inside('qa', 'cat', '/proc/sys/net/ipv4/ping_group_range'),
    resolv: readFileSync('/etc/netns/qa/resolv.conf', 'utf8'),
    nft: inside('qb', 'nft', 'list', 'ruleset'),
    written: readFileSync(OUT, 'utf8'),
  }
}

const sh = (script: string) => {
  const file = join(dir, 'script.sh')
  writeFileSync(file, script)
  execFileSync('sh', ['-e', file], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
}

test('the printed script builds exactly what up() builds, and runs no code from names', async () => {
  const lab = await Topology.up(spec)
  let built: ReturnType<typeof state>
  try {
    expect(await waitFor(() => existsSync(OUT), 10_000)).toBe(true)
    built = state()
  } finally {
    await lab.down()
  }
  expect(built.written).toBe(`${WEIRD}|${WEIRD}`)
  expect(built.qa.links).toContain(`${IFA} veth - 1500 true`)
  expect(built.here.links).toContain(`${LOCAL} veth ${BR} 1500 true`)
  expect(built.nft).toContain(`oifname "${NATOUT}" masquerade`)
  rmSync(OUT)
  expect(runNetnsEntries()).toEqual([])

  const script = Topology.script(spec)
  sh(script)
  try {
    expect(await waitFor(() => existsSync(OUT) && readFileSync(OUT, 'utf8').length > 0, 10_000)).toBe(true)
    expect(state()).toEqual(built)
    // Nothing but the process's own file was created: no `p` from a name run as a command.
    expect(readdirSync(dir).sort()).toEqual(['script.sh', 'written by the process'])
    expect(existsSync(join(process.cwd(), 'p'))).toBe(false)
  } finally {
    sh(teardownScript(validate(spec)))
  }
  expect(runNetnsEntries()).toEqual([])
  expect(ipj<IpLink[]>('link').map((l) => l.ifname)).toEqual(['lo'])
  expect(existsSync('/etc/netns/qa')).toBe(false)
}, 90_000)

test('plan() commands quote the same way (walkthroughs print these)', () => {
  const commands = Topology.plan(spec).map((s) => s.command)
  expect(commands).toContain(`ip link add 'b;touch\${IFS}p' up type bridge`)
  expect(commands.find((c) => c.startsWith('ip netns exec qa env '))).toMatch(
    /^ip netns exec qa env 'W=a b; \$HOME '\\''x'\\'' "y" \\ \n end \$\(touch p\)' sh -c /,
  )
})
