// Every walkthrough runs end to end in its own sandbox and passes; a failing check makes
// it exit non-zero; nothing leaks into the namespace the test runs in.
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, test } from 'vitest'
import { ovsInstalled } from '../../src/ovs/service.js'
import { ipj, runNetnsEntries } from '../netns/support.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

function run(script: string, args: string[], env: NodeJS.ProcessEnv = process.env, input?: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `scripts/${script}`, ...args], {
      cwd: ROOT,
      env,
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    })
    if (input !== undefined) child.stdin!.end(input)
    let out = ''
    child.stdout!.on('data', (d: Buffer) => {
      out += d
    })
    child.stderr!.on('data', (d: Buffer) => {
      out += d
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, out }))
  })
}

const links = () => ipj<Array<{ ifname: string }>>('link').map((l) => l.ifname)

/** A directory to use as PATH: links to every program on the usual dirs except the firewall tools. */
function pathWithoutFirewallTools(dir: string): string {
  const bin = join(dir, 'bin')
  mkdirSync(bin)
  for (const d of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    let entries: string[] = []
    try {
      entries = readdirSync(d)
    } catch {
      continue
    }
    for (const e of entries) {
      if (/^(nft|iptables|ip6tables|xtables|arptables|ebtables)/.test(e)) continue
      try {
        symlinkSync(join(d, e), join(bin, e))
      } catch {
        /* first one wins */
      }
    }
  }
  return bin
}

describe('walkthroughs in a sandbox', () => {
  const scripts: Array<[string, RegExp[]]> = [
    ['mario-luigi.ts', [/PASS mario reaches luigi/, /PASS a TCP echo from mario to luigi comes back whole/, /PASS ip -all netns exec reached mario and luigi/]],
    ['blue.ts', [/PASS blue: 10\.1\.1\.0\/24 on veth1 and default via 10\.1\.1\.1/, /PASS nsnet reads the same tables as `ip -j route`/]],
    ['lan-nat.ts', [/PASS ns2 reaches 203\.0\.113\.80 through the NAT/, /PASS ns1 resolves www\.example\.test to 203\.0\.113\.80/]],
    ['vnet-routing.ts', [/PASS ping 10\.0\.2\.1 fails before the fix/, /PASS UDP echo from outside vnet/, /PASS ip netns pids vnet lists the echo server/]],
    ['pyroute2-style.ts', [/PASS namespace1 reaches its gateway 10\.0\.0\.1/]],
  ]
  for (const [script, expected] of scripts) {
    test(script, async () => {
      const r = await run(script, ['--sandbox', '--quiet'])
      expect(r.out).not.toMatch(/FAIL/)
      for (const e of expected) expect(r.out).toMatch(e)
      expect(r.out).toMatch(/all checks passed/)
      expect(r.code).toBe(0)
      // The sandbox kept everything to itself.
      expect(runNetnsEntries()).toEqual([])
      expect(links()).toEqual(['lo'])
    }, 120_000)
  }

  test('mario-luigi --switch linux keeps the Linux bridge; with OVS the default prints ovs-vsctl add-br / add-port / show', async () => {
    const linux = await run('mario-luigi.ts', ['--sandbox', '--quiet', '--switch', 'linux'])
    expect(linux.out).toMatch(/PASS both veth ends are ports of my_switch {2}\(veth-luigi-br, veth-mario-br\)/)
    expect(linux.out).toMatch(/all checks passed/)
    if (!ovsInstalled()) return
    const ovs = await run('mario-luigi.ts', ['--sandbox'])
    expect(ovs.out).toMatch(/\$ ovs-vsctl add-br my_switch/)
    expect(ovs.out).toMatch(/\$ ip link set mario-ovs up && ovs-vsctl add-port my_switch mario-ovs/)
    expect(ovs.out).toMatch(/\$ ovs-vsctl show\n[0-9a-f-]{36}\n {4}Bridge my_switch\n {8}datapath_type: netdev/)
    expect(ovs.out).toMatch(/PASS both veth ends are ports of my_switch \(nsnet and ovs-vsctl agree\)/)
    expect(ovs.out).toMatch(/all checks passed/)
    expect(ovs.code).toBe(0)
  }, 120_000)

  test.skipIf(!ovsInstalled())(
    'blue --ovs: the veth and a stand-in physical link on an OVS bridge; ping and TCP through it',
    async () => {
      const r = await run('blue.ts', ['--sandbox', '--quiet', '--ovs'])
      expect(r.out).toMatch(/PASS veth0 and phys0 are ports of br-blue/)
      expect(r.out).toMatch(/PASS a TCP echo from blue to lan comes back whole/)
      expect(r.out).toMatch(/all checks passed/)
      expect(r.code).toBe(0)
    },
    120_000,
  )

  test('lan-nat.ts works with neither nft nor iptables on PATH (NAT and firewall over netlink)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nsnet-nofw-'))
    try {
      const bin = pathWithoutFirewallTools(dir)
      const which = spawnSync('sh', ['-c', 'command -v nft; command -v iptables; command -v iptables-nft; true'], {
        env: { ...process.env, PATH: bin },
        encoding: 'utf8',
      })
      expect(which.stdout).toBe('')
      const r = await run('lan-nat.ts', ['--sandbox', '--quiet'], { ...process.env, PATH: bin })
      expect(r.out).not.toMatch(/FAIL/)
      expect(r.out).toMatch(/PASS ns2 reaches 203\.0\.113\.80 through the NAT/)
      expect(r.out).toMatch(/PASS with FORWARD dropped, ns1 no longer reaches 203\.0\.113\.80/)
      expect(r.out).toMatch(/PASS the LAN is allowed out again/)
      expect(r.out).toMatch(/all checks passed/)
      expect(r.code).toBe(0)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 180_000)

  test('lan-nat --shell ns1 opens a shell inside ns1, prompt naming it', async () => {
    const r = await run('lan-nat.ts', ['--sandbox', '--quiet', '--shell', 'ns1'], process.env, 'ip -br -4 addr show dev eth0\ngetent hosts www\nexit\n')
    expect(r.out).toMatch(/A shell inside ns1/)
    expect(r.out).toMatch(/\(ns1\) [^\n]*[#$] /)
    expect(r.out).toMatch(/eth0@\S+\s+UP\s+192\.168\.0\.2\/24/)
    expect(r.out).toMatch(/203\.0\.113\.80\s+www\.example\.test/)
    expect(r.out).toMatch(/all checks passed/)
    expect(r.code).toBe(0)
  }, 120_000)

  test("in place (--no-sandbox, this test file's own namespace): blue passes and leaves nothing", async () => {
    const r = await run('blue.ts', ['--no-sandbox', '--quiet'])
    expect(r.out).toMatch(/all checks passed/)
    expect(r.code).toBe(0)
    expect(runNetnsEntries()).toEqual([])
    expect(links()).toEqual(['lo'])
  }, 120_000)

  test('Ctrl-C half-way through the build rolls it back and exits 130', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/lan-nat.ts', '--no-sandbox'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let sent = false
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d
        // One Ctrl-C: a second one over 500 ms later (the rollback is slow under load) exits at once.
        if (!sent && out.includes('$ ip link add eth0 netns ns2')) {
          sent = true
          child.kill('SIGINT')
        }
      })
      child.stderr.on('data', (d: Buffer) => {
        out += d
      })
      child.on('close', (c) => resolve(c))
    })
    expect(out).toMatch(/interrupted/)
    expect(code).toBe(130)
    expect(runNetnsEntries()).toEqual([])
    expect(links()).toEqual(['lo'])
  }, 120_000)

  test('a failing check makes the script exit non-zero (lan-nat --nat=nft without nft)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nsnet-path-'))
    try {
      const bin = pathWithoutFirewallTools(dir)
      const r = await run('lan-nat.ts', ['--sandbox', '--quiet', '--nat=nft'], { ...process.env, PATH: bin })
      expect(r.out).toMatch(/FAIL .*nft is not installed/)
      expect(r.out).toMatch(/everything it made was removed/)
      expect(r.code).toBe(1)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 120_000)
})
