// Shaped links (Mininet's TCLink): validation, the tc commands script() prints, the qdiscs up()
// makes (checked with `tc -j qdisc show` inside the namespaces), the throughput a TCP transfer
// through them measures, and the refusal of delay/loss on a kernel without netem.
import { execFileSync } from 'node:child_process'
import { afterEach, describe, expect, test } from 'vitest'
import { isNsnetError } from '../../src/netlink/errors.js'
import { Rtnl } from '../../src/rtnl.js'
import type { TopologySpec } from '../../src/topology/spec.js'
import { SpecError } from '../../src/topology/validate/index.js'
import { Topology } from '../../src/topology/topology.js'
import { ensureHelperBundle, runNetnsEntries } from '../netns/support.js'

await ensureHelperBundle()

const labs: Topology[] = []
afterEach(async () => {
  for (const l of labs.splice(0).reverse()) await l.down()
  expect(runNetnsEntries()).toEqual([])
})
const up = async (spec: TopologySpec) => { const l = await Topology.up(spec); labs.push(l); return l }
const tcIn = (ns: string, dev: string) => JSON.parse(execFileSync('ip', ['netns', 'exec', ns, 'tc', '-j', 'qdisc', 'show', 'dev', dev], { encoding: 'utf8' }))
const ipStats = (ns: string, dev: string) => JSON.parse(execFileSync('ip', ['-n', ns, '-s', '-s', '-j', 'link', 'show', 'dev', dev], { encoding: 'utf8' }))[0].stats64

const pair = (link: Record<string, unknown>, prefix: string): TopologySpec => ({
  prefix, hosts: [{ name: 'a' }, { name: 'b' }],
  links: [{ a: { node: 'a', addresses: ['10.70.0.1/24'] }, b: { node: 'b', addresses: ['10.70.0.2/24'] }, ...link } as never],
})

describe('validation and script', () => {
  test('a shaped link resolves per end; bad values are problems with their path', () => {
    const t = Topology.validate(pair({ rate: '10mbit', a: { node: 'a', addresses: ['10.70.0.1/24'], rate: 50_000_000, burst: '32k' } }, 'sv'))
    expect(t.veths[0]!.a.shaping).toEqual({ rate: '50000000bit', burst: 32768 })
    expect(t.veths[0]!.b.shaping).toEqual({ rate: '10mbit' })
    const e = (() => { try { Topology.validate(pair({ rate: 'fast', burst: 100, jitter: '1ms' }, 'sv')) } catch (x) { return x } })() as SpecError
    expect(e).toBeInstanceOf(SpecError)
    const paths = e.problems.map((p) => p.path)
    expect(paths).toContain('links[0].rate')
    expect(paths).toContain('links[0].jitter')
    expect(e.message).toContain('rate')
  })

  test('script() prints the tc commands; draw() shows the shaping on the link', () => {
    const spec = pair({ rate: '10mbit', delay: '20ms' }, 'sv')
    const script = Topology.script(spec)
    expect(script).toContain('ip netns exec sva tc qdisc replace dev eth0 root handle 5: tbf rate 10mbit burst 12500 limit 75000\n')
    expect(script).toContain('ip netns exec svb tc qdisc replace dev eth0 parent 5:1 handle 10: netem delay 20ms')
    expect(Topology.draw(spec)).toContain('veth [10mbit 20ms] ──')
  })
})

describe('shaped labs', () => {
  test('delay on a kernel without netem: EUNSUPPORTED naming netem, before anything is made', async () => {
    const rt = await Rtnl.open()
    const hasNetem = await rt.tc.qdiscs.supports('netem')
    await rt.close()
    if (hasNetem) return // this kernel can do it; nothing to refuse
    const e = await Topology.up(pair({ rate: '10mbit', delay: '20ms', loss: 1 }, 'sn')).catch((x) => x)
    expect(isNsnetError(e, 'EUNSUPPORTED')).toBe(true)
    expect(e.message).toContain('kernel has no qdisc netem')
    expect(e.message).toContain('links[0].a (delay, loss)')
    expect(runNetnsEntries()).toEqual([])
  })

  test('10mbit on a link: tbf on both ends (tc -j), and a TCP transfer measures about 10 Mbit/s', async () => {
    const lab = await up(pair({ rate: '10mbit' }, 'st'))
    for (const ns of ['sta', 'stb']) {
      const [q] = tcIn(ns, 'eth0')
      expect(q).toMatchObject({ kind: 'tbf', handle: '5:', root: true, options: { rate: 1_250_000 } })
    }
    const r = await lab.throughput('a', 'b', { seconds: 4 })
    // The band the issue asks for (±15%); tbf holds the rate whatever the load, TCP ramps up fast at 10 Mbit/s.
    expect(r.bitsPerSecond, JSON.stringify(r)).toBeGreaterThan(8.5e6)
    expect(r.bitsPerSecond, JSON.stringify(r)).toBeLessThan(11.5e6)
    expect(r.bytes).toBeGreaterThan(3e6)
    // Counters: what the transfer moved is on a's eth0, as ip -s -j shows it.
    const c = await lab.counters('a', 'eth0')
    expect(c.tx.bytes).toBeGreaterThanOrEqual(r.bytes)
    expect(ipStats('sta', 'eth0').tx.bytes).toBeGreaterThanOrEqual(c.tx.bytes)
  }, 120_000)

  test('50mbit on one end shapes that direction only', async () => {
    const lab = await up(pair({ a: { node: 'a', addresses: ['10.70.0.1/24'], rate: '50mbit' } }, 'so'))
    expect(tcIn('soa', 'eth0')[0]).toMatchObject({ kind: 'tbf' })
    expect(tcIn('sob', 'eth0')[0]?.kind ?? 'noqueue').toBe('noqueue')
    const shaped = await lab.throughput('a', 'b', { seconds: 3 })
    const free = await lab.throughput('b', 'a', { seconds: 3 })
    expect(shaped.bitsPerSecond, JSON.stringify(shaped)).toBeGreaterThan(50e6 * 0.7)
    expect(shaped.bitsPerSecond, JSON.stringify(shaped)).toBeLessThan(50e6 * 1.15)
    expect(free.bitsPerSecond, JSON.stringify(free)).toBeGreaterThan(shaped.bitsPerSecond * 1.5)
  }, 120_000)

  test('UDP throughput reports what was sent and lost', async () => {
    const lab = await up(pair({}, 'su'))
    const r = await lab.throughput('a', 'b', { protocol: 'udp', bytes: 1_200_000 })
    expect(r.protocol).toBe('udp')
    expect(r.sent).toBe(1000)
    expect(r.received).toBeGreaterThan(0)
    expect(r.loss).toBeGreaterThanOrEqual(0)
    expect(r.loss).toBeLessThan(1)
  }, 120_000)
})
