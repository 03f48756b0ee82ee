// What a lab runs and checks inside its namespaces: ping (iputils and the TCP probe), TCP
// and UDP echo, the DNS server with per-namespace resolv.conf, NAT with nft and with
// iptables, processes from the spec, and the refusal to touch this namespace's firewall.
import { createSocket } from 'node:dgram'
import { afterEach, describe, expect, test } from 'vitest'
import { isNsnetError } from '../../src/netlink/errors.js'
import { answer, normaliseRecords, parseQuestion, startDnsServer } from '../../src/topology/dns.js'
import { natBackend } from '../../src/topology/nat.js'
import { serviceArgv } from '../../src/topology/probes.js'
import type { TopologySpec } from '../../src/topology/spec.js'
import { Topology } from '../../src/topology/topology.js'
import { alive, ensureHelperBundle, runNetnsEntries } from '../netns/support.js'

await ensureHelperBundle()

const labs: Topology[] = []
afterEach(async () => {
  for (const l of labs.splice(0).reverse()) await l.down()
  expect(runNetnsEntries()).toEqual([])
})
const up = async (spec: TopologySpec) => {
  const l = await Topology.up(spec)
  labs.push(l)
  return l
}

/** A DNS query for `name` (type A unless given). */
function query(name: string, type = 1, id = 0x1234): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]))
  const q = Buffer.concat([Buffer.from([0x12, 0x34 & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]), ...labels, Buffer.from([0, 0, type, 0, 1])])
  q.writeUInt16BE(id, 0)
  return q
}

describe('dns wire format', () => {
  const records = normaliseRecords({ 'WWW.Example.Test': '203.0.113.80', 'v6.example.test': ['2001:db8::80', '203.0.113.81'] })
  test('answers A from the table, case-insensitively', () => {
    const r = answer(query('www.example.test'), records, 60)!
    expect(r.readUInt16BE(0)).toBe(0x1234)
    expect(r.readUInt16BE(2) & 0x800f).toBe(0x8000) // a response, NOERROR
    expect(r.readUInt16BE(6)).toBe(1) // one answer
    expect([...r.subarray(r.length - 4)]).toEqual([203, 0, 113, 80])
    expect(parseQuestion(r)!.name).toBe('www.example.test')
  })
  test('AAAA, NXDOMAIN, and no answer for other types', () => {
    const six = answer(query('v6.example.test', 28), records, 60)!
    expect(six.readUInt16BE(6)).toBe(1)
    expect(six.subarray(six.length - 16).toString('hex')).toBe('20010db8000000000000000000000080')
    expect(answer(query('nope.example.test'), records, 60)!.readUInt16BE(2) & 0xf).toBe(3)
    const mx = answer(query('www.example.test', 15), records, 60)!
    expect(mx.readUInt16BE(2) & 0xf).toBe(0)
    expect(mx.readUInt16BE(6)).toBe(0)
  })
  test('malformed packets get FORMERR or nothing', () => {
    expect(answer(Buffer.alloc(5), records, 60)).toBeUndefined()
    const bad = Buffer.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 70])
    expect(answer(bad, records, 60)!.readUInt16BE(2) & 0xf).toBe(1)
  })
  test('a server answers over UDP', async () => {
    const server = await startDnsServer({ address: '127.0.0.1', port: 0, records: { 'a.test': '192.0.2.1' } })
    try {
      const sock = createSocket('udp4')
      const reply = await new Promise<Buffer>((resolve) => {
        sock.on('message', (m) => resolve(m))
        sock.send(query('a.test'), server.port, '127.0.0.1')
      })
      sock.close()
      expect([...reply.subarray(reply.length - 4)]).toEqual([192, 0, 2, 1])
      expect(server.queries).toBe(1)
    } finally {
      await server.close()
    }
  })
})

describe('checks between namespaces', () => {
  const spec: TopologySpec = {
    name: 'svc',
    hosts: [{ name: 'sa' }, { name: 'sb' }],
    links: [{ a: { node: 'sa', addresses: ['10.8.0.1/24', '2001:db8:8::1/64'] }, b: { node: 'sb', addresses: ['10.8.0.2/24', '2001:db8:8::2/64'] } }],
  }
  test('ping with iputils and with the TCP probe, IPv4 and IPv6; a dead address fails', async () => {
    const lab = await up(spec)
    for (const method of ['ping', 'tcp'] as const) {
      const r = await lab.ping('sa', 'sb', { method })
      expect(r).toMatchObject({ ok: true, method, to: '10.8.0.2' })
      expect((await lab.ping('sb', '2001:db8:8::1', { method })).ok).toBe(true)
      expect((await lab.ping('sa', '10.8.0.99', { method, timeoutMs: 300 })).ok).toBe(false)
    }
  })
  test('TCP and UDP echo between namespaces, and pids lists the server', async () => {
    const lab = await up(spec)
    const server = await lab.echoServer('sb', { tcp: 9000, udp: 9001 })
    expect(await lab.pids('sb')).toContain(server.pid)
    expect(await lab.echo('sa', 'tcp', 'sb', 9000, 'over tcp')).toMatchObject({ ok: true, reply: 'over tcp' })
    expect(await lab.echo('sa', 'udp', 'sb', 9001, 'over udp')).toMatchObject({ ok: true, reply: 'over udp' })
    expect(await lab.echo('sa', 'udp', 'sb', 9999, 'nobody')).toMatchObject({ ok: false, error: 'ECONNREFUSED' })
    const report = await lab.down()
    labs.pop()
    expect(report.removed).toContain(`process echo (pid ${server.pid}) in sb`)
    expect(alive(server.pid)).toBe(false)
  })
})

describe('NAT, DNS and processes', () => {
  const lan = (backend: 'nsnet' | 'nft' | 'iptables'): TopologySpec => ({
    name: `nat-${backend}`,
    hosts: [
      { name: 'rt', forwarding: true, nat: [{ masquerade: '192.168.7.0/24', out: 'up0', backend }] },
      { name: 'c1', gateway: 'rt', dns: { nameservers: ['203.0.113.53'] } },
      {
        name: 'inet',
        processes: [
          { name: 'dns', command: serviceArgv(['dns', '--listen', '203.0.113.53', '--records', '{"site.test":"203.0.113.80"}']), readyText: 'ready dns' },
        ],
      },
    ],
    links: [
      { a: { node: 'c1', addresses: ['192.168.7.2/24'] }, b: { node: 'rt', addresses: ['192.168.7.1/24'] } },
      { a: { node: 'rt', ifname: 'up0', addresses: ['203.0.113.2/24'] }, b: { node: 'inet', addresses: ['203.0.113.53/24', '203.0.113.80/24'] } },
    ],
  })
  for (const backend of ['nsnet', 'nft', 'iptables'] as const) {
    test(`masquerade with ${backend}; a name resolves through the DNS process`, async () => {
      const lab = await up(lan(backend))
      const rules =
        backend !== 'iptables'
          ? (await lab.exec('rt', ['nft', 'list', 'table', 'ip', 'nsnet'])).stdout
          : (await lab.exec('rt', ['iptables', '-t', 'nat', '-S', 'POSTROUTING'])).stdout
      expect(rules).toMatch(
        backend !== 'iptables' ? /ip saddr 192\.168\.7\.0\/24 oifname "up0" masquerade/ : /-A POSTROUTING -s 192\.168\.7\.0\/24 -o up0 -j MASQUERADE/,
      )
      // inet has no route to 192.168.7.0/24: only the masquerade brings the replies back.
      const inetRoutes = (await lab.exec('inet', ['ip', '-j', '-4', 'route'])).stdout
      expect(JSON.parse(inetRoutes).map((r: { dst: string }) => r.dst)).toEqual(['203.0.113.0/24'])
      expect((await lab.ping('c1', '203.0.113.80')).ok).toBe(true)
      expect(await lab.resolve('c1', 'site.test')).toMatchObject({ addresses: ['203.0.113.80'] })
      expect(await lab.sysctl('rt', 'net.ipv4.ip_forward')).toBe('1')
    })
  }

  test('no NAT tool at all: auto writes the rule itself; asking for a missing tool is a clear error', () => {
    const path = process.env.PATH
    process.env.PATH = '/nonexistent'
    try {
      expect(natBackend('auto', 'rt')).toBe('nsnet')
      expect(() => natBackend('nft', 'rt')).toThrow(/nft is not installed/)
      try {
        natBackend('iptables', 'rt')
      } catch (e) {
        expect(isNsnetError(e, 'ENOENT')).toBe(true)
      }
    } finally {
      process.env.PATH = path
    }
  })
})
