// Issue 8, items 4 and 5 (topology side): every spec problem that can be known before the
// build is reported by validation, with nothing made. On the old code a sysctl value with a
// newline or a process whose program is missing was found only after the namespaces existed,
// and an interface name with a double quote used as a NAT `out` broke out of the nft rule.
import { expect, test } from 'vitest'
import { NsnetError } from '../../src/netlink/errors.js'
import { listMarkers } from '../../src/topology/marker.js'
import type { TopologySpec } from '../../src/topology/spec.js'
import { Topology } from '../../src/topology/topology.js'
import { SpecError } from '../../src/topology/validate/index.js'
import { ensureHelperBundle, ipj, runNetnsEntries } from '../netns/support.js'

await ensureHelperBundle()

const base = (host: Record<string, unknown>, extra: Partial<TopologySpec> = {}): TopologySpec => ({
  name: 'vf',
  hosts: [{ name: 'va', ...host }, { name: 'vb' }],
  links: [{ a: { node: 'va', addresses: ['10.30.0.1/24'] }, b: { node: 'vb', addresses: ['10.30.0.2/24'] } }],
  ...extra,
})

const cases: Array<[string, TopologySpec, string, RegExp]> = [
  ['a sysctl value with a newline', base({ sysctls: { 'net.ipv4.ip_forward': '1\n0' } }), 'hosts[0].sysctls["net.ipv4.ip_forward"]', /must be one line/],
  ['a sysctl value that is NaN', base({ sysctls: { 'net.ipv4.ip_forward': NaN } }), 'hosts[0].sysctls["net.ipv4.ip_forward"]', /is not a number/],
  [
    'a program missing from PATH',
    base({ processes: [{ name: 'p', command: ['no-such-program-nsnet'] }] }),
    'hosts[0].processes[0].command[0]',
    /not found.*in PATH/,
  ],
  [
    'a program path that does not exist',
    base({ processes: [{ name: 'p', command: ['/nonexistent/program'] }] }),
    'hosts[0].processes[0].command[0]',
    /not found/,
  ],
  [
    'a program missing from the PATH the process gets',
    base({ processes: [{ name: 'p', command: ['sleep'], env: { PATH: '/nonexistent' } }] }),
    'hosts[0].processes[0].command[0]',
    /not found/,
  ],
  ['a command that is not argv', base({ processes: [{ name: 'p', command: 'sleep 1' }] }), 'hosts[0].processes[0].command', /non-empty array of strings/],
  ['a command argument with NUL', base({ processes: [{ name: 'p', command: ['sleep', '1\0'] }] }), 'hosts[0].processes[0].command', /without NUL/],
  ['a process without a name', base({ processes: [{ command: ['sleep', '1'] }] }), 'hosts[0].processes[0].name', /is required/],
  [
    'an env name that is not one',
    base({ processes: [{ name: 'p', command: ['sleep', '1'], env: { 'A=B': 'x' } }] }),
    'hosts[0].processes[0].env',
    /not an environment variable name/,
  ],
  [
    'an env value that is not a string',
    base({ processes: [{ name: 'p', command: ['sleep', '1'], env: { A: 1 } }] }),
    'hosts[0].processes[0].env.A',
    /must be a string/,
  ],
  [
    'a readyTcpPort out of range',
    base({ processes: [{ name: 'p', command: ['sleep', '1'], readyTcpPort: 70000 }] }),
    'hosts[0].processes[0].readyTcpPort',
    /./,
  ],
  ['an unknown process field', base({ processes: [{ name: 'p', command: ['sleep', '1'], ready: 'x' }] }), 'hosts[0].processes[0].ready', /unknown field/],
  [
    'a NAT out interface with a double quote (it would end the nft string)',
    {
      name: 'vf',
      hosts: [{ name: 'va', nat: [{ masquerade: '10.30.0.0/24', out: 'o"x' }] }, { name: 'vb' }],
      links: [{ a: { node: 'va', ifname: 'o"x', addresses: ['10.30.0.1/24'] }, b: { node: 'vb', addresses: ['10.30.0.2/24'] } }],
    },
    'hosts[0].nat[0].out',
    /cannot hold as itself/,
  ],
  [
    'a NAT out interface with a * (an nft wildcard)',
    {
      name: 'vf',
      hosts: [{ name: 'va', nat: [{ masquerade: '10.30.0.0/24', out: 'o*' }] }, { name: 'vb' }],
      links: [{ a: { node: 'va', ifname: 'o*', addresses: ['10.30.0.1/24'] }, b: { node: 'vb', addresses: ['10.30.0.2/24'] } }],
    },
    'hosts[0].nat[0].out',
    /cannot hold as itself/,
  ],
]

for (const [what, spec, path, message] of cases) {
  test(`${what}: validation reports ${path}, and up() makes nothing`, async () => {
    expect(() => Topology.validate(spec)).toThrow(SpecError)
    let problems: ReadonlyArray<{ path: string; message: string }> = []
    try {
      Topology.validate(spec)
    } catch (e) {
      problems = (e as SpecError).problems
    }
    const p = problems.find((x) => x.path === path)
    expect(p, JSON.stringify(problems)).toBeDefined()
    expect(p!.message).toMatch(message)
    const err = await Topology.up(spec).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(NsnetError)
    expect((err as NsnetError).code).toBe('EINVAL_ARGUMENT')
    expect(runNetnsEntries()).toEqual([])
    expect(ipj<Array<{ ifname: string }>>('link').map((l) => l.ifname)).toEqual(['lo'])
    expect(listMarkers()).toEqual([])
  })
}
