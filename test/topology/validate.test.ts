import { describe, expect, test } from 'vitest'
import { drawMermaid, drawText } from '../../src/topology/draw.js'
import { plan, shellScript } from '../../src/topology/plan.js'
import type { TopologySpec } from '../../src/topology/spec.js'
import { SpecError, validate } from '../../src/topology/validate/index.js'

function problems(spec: unknown): string[] {
  try {
    validate(spec)
  } catch (e) {
    expect(e).toBeInstanceOf(SpecError)
    expect((e as SpecError).code).toBe('EINVAL_ARGUMENT')
    return (e as SpecError).problems.map((p) => `${p.path}: ${p.message}`)
  }
  throw new Error('spec was accepted')
}

const marioLuigi: TopologySpec = {
  hosts: [{ name: 'mario' }, { name: 'luigi' }],
  bridges: [{ name: 'my_switch' }],
  links: [
    { a: { node: 'mario', ifname: 'veth-mario', addresses: ['10.0.0.1/24'] }, b: { node: 'my_switch', ifname: 'veth-mario-br' } },
    { a: { node: 'luigi', ifname: 'veth-luigi', addresses: ['10.0.0.2/24'] }, b: { node: 'my_switch', ifname: 'veth-luigi-br' } },
  ],
}

describe('validate', () => {
  test('resolves the mario/luigi walkthrough', () => {
    const t = validate(marioLuigi)
    expect(t.hosts.map((h) => [h.node, h.netns])).toEqual([
      ['host', null],
      ['mario', 'mario'],
      ['luigi', 'luigi'],
    ])
    expect(t.bridges).toEqual([{ node: 'my_switch', host: 'host', addresses: [] }])
    expect(t.veths[0]).toEqual({
      index: 0,
      a: { node: 'mario', host: 'mario', ifname: 'veth-mario', addresses: ['10.0.0.1/24'] },
      b: { node: 'my_switch', host: 'host', ifname: 'veth-mario-br', addresses: [], master: 'my_switch' },
    })
    // JSON round trip: the resolved form is plain data.
    expect(JSON.parse(JSON.stringify(t))).toEqual(t)
  })

  test('the prefix applies to namespace names only', () => {
    const t = validate({ ...marioLuigi, prefix: 'w3-' })
    expect(t.hosts.map((h) => h.netns)).toEqual([null, 'w3-mario', 'w3-luigi'])
    expect(t.veths[0]!.a.ifname).toBe('veth-mario')
  })

  test('points at a link to an unknown node, with a suggestion', () => {
    const p = problems({ ...marioLuigi, links: [...marioLuigi.links!, { a: 'luigi', b: 'my_switch' }, { a: 'marioo', b: 'my_switch' }] })
    expect(p).toEqual(['links[3].a: unknown node "marioo" (did you mean "mario"?)'])
    expect(() => validate({ hosts: [{ name: 'a' }], links: [{ a: 'a', b: { node: 'zz' } }] })).toThrow(
      /^topology\.validate links\[0\]\.b\.node: unknown node "zz"$/,
    )
  })

  test('rejects a bad address', () => {
    expect(
      problems({
        hosts: [{ name: 'a' }, { name: 'b' }],
        links: [{ a: { node: 'a', addresses: ['10.0.0.300/24'] }, b: { node: 'b', addresses: ['10.0.0.2'] } }],
      }),
    ).toEqual([
      'links[0].a.addresses[0]: "10.0.0.300/24" is not an address with a prefix length (like 10.0.0.1/24)',
      'links[0].b.addresses[0]: "10.0.0.2" is not an address with a prefix length (like 10.0.0.1/24)',
    ])
  })

  test('rejects duplicate names', () => {
    expect(problems({ hosts: [{ name: 'a' }, { name: 'a' }] })).toEqual(['hosts[1].name: duplicate host "a" (also hosts[0])'])
    expect(problems({ hosts: [{ name: 'a' }], bridges: [{ name: 'a' }] })).toEqual([
      'bridges[0].name: "a" is already the name of a host (node names are shared by hosts and bridges)',
    ])
    expect(
      problems({
        hosts: [{ name: 'a' }, { name: 'b' }],
        links: [
          { a: { node: 'a', ifname: 'x0' }, b: 'b' },
          { a: { node: 'a', ifname: 'x0' }, b: 'b' },
        ],
      }),
    ).toEqual(['links[1].a.ifname: interface "x0" is already used in "a" by links[0].a.ifname'])
  })

  test('rejects an interface name over 15 bytes', () => {
    expect(problems({ bridges: [{ name: 'a-very-long-bridge' }] })).toEqual([
      'bridges[0].name: interface name "a-very-long-bridge" is 18 bytes; the kernel allows at most 15',
    ])
    expect(problems({ hosts: [{ name: 'a' }, { name: 'b' }], links: [{ a: { node: 'a', ifname: 'sixteen-bytes-xx' }, b: 'b' }] })).toEqual([
      'links[0].a.ifname: interface name "sixteen-bytes-xx" is 16 bytes; the kernel allows at most 15',
    ])
  })

  test('reports every problem, unknown fields with suggestions', () => {
    const p = problems({ hosts: [{ name: 'a', gatway: '10.0.0.1', sysctls: { 'kernel.panic': 1 } }], links: [{ a: 'a', b: 'nowhere', mtu: 20 }] })
    expect(p).toEqual([
      'hosts[0].gatway: unknown field (did you mean "gateway"?)',
      'links[0].mtu: must be an integer from 68 to 65535, got 20',
      'links[0].b: unknown node "nowhere"',
      'hosts[0].sysctls["kernel.panic"]: only net.* sysctls belong to a network namespace; nsnet will not change others',
    ])
  })

  test('hands out pool addresses around explicit ones and resolves a gateway node', () => {
    const t = validate({
      pools: [{ name: 'lan', subnet: '192.168.0.0/24' }],
      hosts: [{ name: 'router' }, { name: 'ns1', gateway: 'br0' }, { name: 'ns2', gateway: 'router' }],
      bridges: [{ name: 'br0', in: 'router', addresses: ['192.168.0.1/24'] }],
      links: [
        { a: { node: 'ns1', addresses: [{ pool: 'lan' }] }, b: 'br0' },
        { a: { node: 'ns2', addresses: [{ pool: 'lan' }] }, b: 'br0' },
      ],
    })
    expect(t.veths.map((v) => [v.a.ifname, v.a.addresses, v.b.ifname])).toEqual([
      ['eth0', ['192.168.0.2/24'], 'v-ns1'],
      ['eth0', ['192.168.0.3/24'], 'v-ns2'],
    ])
    expect(t.hosts.find((h) => h.node === 'ns1')!.routes).toEqual([{ family: 4, dst: 'default', via: '192.168.0.1' }])
    expect(t.hosts.find((h) => h.node === 'ns2')!.routes).toEqual([{ family: 4, dst: 'default', via: '192.168.0.1' }])
  })

  test('a pool runs out', () => {
    expect(
      problems({
        pools: [{ name: 'p', subnet: '10.0.0.0/30' }],
        hosts: [{ name: 'a' }, { name: 'b' }, { name: 'c' }],
        bridges: [{ name: 'br', in: 'a', addresses: [{ pool: 'p' }] }],
        links: [
          { a: { node: 'b', addresses: [{ pool: 'p' }] }, b: 'br' },
          { a: { node: 'c', addresses: [{ pool: 'p' }] }, b: 'br' },
        ],
      }),
    ).toEqual(['links[1].a.addresses[0]: pool "p" (10.0.0.0/30) has no free address left'])
  })

  test('duplicate addresses on one network are refused, on separate networks allowed', () => {
    const twoSegments = {
      hosts: [{ name: 'a' }, { name: 'b' }, { name: 'c' }],
      links: [
        { a: { node: 'a', addresses: ['10.0.0.1/24'] }, b: { node: 'b', addresses: ['10.0.0.2/24'] } },
        { a: { node: 'a', addresses: ['10.0.1.1/24'] }, b: { node: 'c', addresses: ['10.0.0.2/24'] } },
      ],
    }
    expect(() => validate(twoSegments)).not.toThrow()
    expect(
      problems({
        hosts: [{ name: 'a' }, { name: 'b' }],
        bridges: [{ name: 'br' }],
        links: [
          { a: { node: 'a', addresses: ['10.0.0.1/24'] }, b: 'br' },
          { a: { node: 'b', addresses: ['10.0.0.1/24'] }, b: 'br' },
        ],
      }),
    ).toEqual(['links[1].a.addresses[0]: address 10.0.0.1 is already used on the same network by links[0].a.addresses[0]'])
  })

  test('routes: unreachable gateways, unknown devices, host bits, family mismatch', () => {
    const base = {
      hosts: [{ name: 'a' }, { name: 'b' }],
      links: [{ a: { node: 'a', addresses: ['10.0.1.1/24'] }, b: { node: 'b', addresses: ['10.0.1.2/24'] } }],
    }
    const withRoutes = (routes: unknown[]) => ({ ...base, hosts: [{ name: 'a', routes }, { name: 'b' }] })
    expect(problems(withRoutes([{ dst: '10.0.2.0/24', via: '10.0.9.1' }]))).toEqual([
      'hosts[0].routes[0].via: gateway 10.0.9.1 is not on any subnet of "a"; give it an address in that subnet or add a link-scope route first',
    ])
    expect(problems(withRoutes([{ dst: '10.0.2.0/24', dev: 'eth7' }]))).toEqual([
      'hosts[0].routes[0].dev: unknown interface "eth7" in "a" (did you mean "eth0"?)',
    ])
    expect(problems(withRoutes([{ dst: '10.0.2.1/24', dev: 'eth0' }]))).toEqual([
      'hosts[0].routes[0].dst: 10.0.2.1/24 has host bits set for its prefix length (did you mean 10.0.2.0/24?)',
    ])
    expect(problems(withRoutes([{ dst: '2001:db8::/64', via: '10.0.1.2' }]))).toEqual([
      'hosts[0].routes[0].via: gateway 10.0.1.2 is IPv4 but the destination is IPv6',
    ])
    // A link-scope route makes its subnet a valid gateway afterwards (the vnet fix).
    const ok = validate(
      withRoutes([
        { dst: '10.0.9.0/24', dev: 'eth0', scope: 'link' },
        { dst: '10.0.2.0/24', via: '10.0.9.1' },
      ]),
    )
    expect(ok.hosts[0]!.routes).toEqual([
      { family: 4, dst: '10.0.9.0/24', dev: 'eth0', scope: 'link' },
      { family: 4, dst: '10.0.2.0/24', via: '10.0.9.1' },
    ])
  })

  test('NAT and DNS are refused in the current namespace', () => {
    expect(problems({ hosts: [{ name: 'host', nat: [{ masquerade: '10.0.0.0/24', out: 'lo' }], dns: { nameservers: ['10.0.0.1'] } }] })).toEqual([
      'hosts[0].nat[0]: NAT in the current namespace is refused: nsnet never touches the firewall of a namespace it did not make',
      'hosts[0].dns: resolv.conf is per named namespace (/etc/netns/<name>/); the current namespace has none',
    ])
  })

  test('plan, shell rendering and drawings', () => {
    const t = validate(marioLuigi)
    expect(plan(t).map((p) => p.name)).toEqual(['namespaces', 'bridges', 'veths', 'setup', 'ports', 'addresses'])
    expect(shellScript(t)).toBe(
      [
        '# namespaces',
        'ip netns add mario',
        'ip netns add luigi',
        '# bridges',
        'ip link add my_switch up type bridge',
        '# veths',
        'ip link add veth-mario netns mario up type veth peer name veth-mario-br',
        'ip link add veth-luigi netns luigi up type veth peer name veth-luigi-br',
        '# setup',
        'ip -n mario link set lo up',
        'ip -n luigi link set lo up',
        '# ports',
        'ip link set veth-mario-br master my_switch up',
        'ip link set veth-luigi-br master my_switch up',
        '# addresses',
        'ip -n mario addr add 10.0.0.1/24 dev veth-mario',
        'ip -n luigi addr add 10.0.0.2/24 dev veth-luigi',
        '',
      ].join('\n'),
    )
    const text = drawText(t)
    expect(text).toContain('netns mario')
    expect(text).toMatch(/veth-mario\s+10\.0\.0\.1\/24\s+veth ── my_switch \(port veth-mario-br\)/)
    expect(text).toMatch(/my_switch\s+bridge; ports: veth-mario-br, veth-luigi-br/)
    const m = drawMermaid(t)
    expect(m.split('\n')[0]).toBe('flowchart LR')
    expect(m).toContain('mario__veth_mario ---|veth| host__veth_mario_br')
    expect(m).toContain('host__veth_mario_br -.- host__my_switch')
  })
})
