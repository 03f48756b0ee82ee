// Policy rules against `ip -j -d rule show` as the oracle, both directions.
import { execFileSync } from 'node:child_process'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { parseMessages, Writer } from '../../../src/netlink/codec.js'
import { isNsnetError, type NsnetErrorCode } from '../../../src/netlink/errors.js'
import { decodeRule, type Rule, type RuleSpec } from '../../../src/ops/rules/operations.js'
import { Rtnl } from '../../../src/rtnl.js'

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' })
const ipJson = (...args: string[]): Array<Record<string, unknown>> => JSON.parse(ip('-j', ...args) || '[]')
const hex = (n: number) => `0x${n.toString(16)}`
const PROTO_NAMES: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp' }

/** Our rule in `ip -j -d rule show` shape. */
function asIp(r: Rule): Record<string, unknown> {
  const o: Record<string, unknown> = { priority: r.priority }
  if (r.not) o.not = null
  o.src = r.src ?? 'all'
  if (r.src !== undefined) o.srclen = r.srclen
  if (r.dst !== undefined) {
    o.dst = r.dst
    o.dstlen = r.dstlen
  }
  if (r.tos) o.tos = `0x${r.tos.toString(16).padStart(2, '0')}`
  if (r.fwmark !== undefined) {
    o.fwmark = hex(r.fwmark)
    if (r.fwmask !== undefined && r.fwmask !== 0xffffffff) o.fwmask = hex(r.fwmask)
  }
  if (r.iif) {
    o.iif = r.iif
    if (r.iif_detached) o.iif_detached = null
  }
  if (r.oif) {
    o.oif = r.oif
    if (r.oif_detached) o.oif_detached = null
  }
  if (r.uidrange) {
    o.uid_start = r.uidrange.start
    o.uid_end = r.uidrange.end
  }
  if (r.ipproto) o.ipproto = PROTO_NAMES[r.ipproto] ?? String(r.ipproto)
  for (const k of ['sport', 'dport'] as const) {
    const p = r[k]
    if (!p) continue
    if (p.start === p.end) o[k] = p.start
    else {
      o[`${k}_start`] = p.start
      o[`${k}_end`] = p.end
    }
  }
  if (r.table) o.table = r.table
  if (r.suppress_prefixlen !== undefined) o.suppress_prefixlen = r.suppress_prefixlen
  if (r.action === 'goto') o.goto = r.goto
  else if (r.action === 'nop') o.nop = null
  else if (r.action !== 'lookup') o.action = r.action
  o.protocol = r.protocol ?? 'unspec'
  return o
}

const oracle = () => [...ipJson('-d', '-4', 'rule', 'show'), ...ipJson('-d', '-6', 'rule', 'show')]
const DEFAULTS = new Set([0, 32766, 32767])

let rt: Rtnl
let initial: Array<Record<string, unknown>>

beforeAll(async () => {
  rt = await Rtnl.open()
  ip('link', 'add', 'ruA0', 'type', 'veth', 'peer', 'name', 'ruA1')
  initial = oracle()
})

afterAll(async () => {
  try {
    ip('link', 'del', 'ruA0')
  } catch {}
  await rt?.close()
})

afterEach(() => {
  for (const fam of ['-4', '-6']) {
    for (const r of ipJson(fam, 'rule', 'show')) {
      if (!DEFAULTS.has(r.priority as number)) ip(fam, 'rule', 'del', 'pref', String(r.priority))
    }
  }
  expect(oracle()).toEqual(initial)
})

describe('rules', () => {
  it('a fresh namespace has the default rules, decoded like ip -j', async () => {
    const list = await rt.rules.list()
    expect(list.map(asIp)).toEqual(initial)
    expect(list.filter((r) => r.family === 'inet').map((r) => [r.priority, r.table, r.protocol])).toEqual([
      [0, 'local', 'kernel'],
      [32766, 'main', 'kernel'],
      [32767, 'default', 'kernel'],
    ])
    expect(Object.isFrozen(list[0])).toBe(true)
  })

  it('what nsnet adds, ip -j rule show reports identically', async () => {
    const specs: RuleSpec[] = [
      { priority: 100, from: '10.0.0.0/24', table: 100 },
      { priority: 101, to: '10.1.0.0/16', table: 1000 },
      { priority: 102, fwmark: 0x10, fwmask: 0xff, table: 'main' },
      { priority: 103, fwmark: 0x20, table: 5 },
      { priority: 104, iif: 'ruA0', oif: 'ruA1', action: 'blackhole' },
      { priority: 105, not: true, from: '10.2.0.0/16', action: 'unreachable' },
      { priority: 106, action: 'prohibit', tos: 0x10 },
      { priority: 107, action: 'goto', goto: 32766 },
      { priority: 108, action: 'nop' },
      { priority: 109, uidrange: { start: 100, end: 200 }, ipproto: 6, sport: { start: 1000, end: 2000 }, dport: 80, table: 9 },
      { priority: 110, from: '10.4.0.0/16', table: 7, suppress_prefixlen: 0, protocol: 'static' },
      { priority: 111, iif: 'nosuch0', table: 11 },
      { priority: 100, from: '2001:db8::/32', table: 100 },
      { priority: 101, family: 6, to: '2001:db8:1::/48', action: 'blackhole' },
      { table: 12 }, // no priority: the kernel picks one below the first non-zero rule, as with ip
    ]
    for (const s of specs) await rt.rules.add(s)
    const theirs = oracle()
    expect(theirs.length).toBe(initial.length + specs.length)
    expect((await rt.rules.list()).map(asIp)).toEqual(theirs)
    // spot checks against ip itself, not through our mapping
    const by = (p: number, fam = '-4') => ipJson('-d', fam, 'rule', 'show').find((r) => r.priority === p)
    expect(by(101)).toEqual({ priority: 101, src: 'all', dst: '10.1.0.0', dstlen: 16, table: '1000', protocol: 'unspec' })
    expect(by(102)).toEqual({ priority: 102, src: 'all', fwmark: '0x10', fwmask: '0xff', table: 'main', protocol: 'unspec' })
    expect(by(105)).toEqual({ priority: 105, not: null, src: '10.2.0.0', srclen: 16, action: 'unreachable', protocol: 'unspec' })
    expect(by(111)).toEqual({ priority: 111, src: 'all', iif: 'nosuch0', iif_detached: null, table: '11', protocol: 'unspec' })
    expect(by(99)).toEqual({ priority: 99, src: 'all', table: '12', protocol: 'unspec' })
    expect(by(100, '-6')).toEqual({ priority: 100, src: '2001:db8::', srclen: 32, table: '100', protocol: 'unspec' })
  })

  it('what ip adds, nsnet decodes identically', async () => {
    ip('rule', 'add', 'from', '10.5.0.0/16', 'to', '10.6.0.0/16', 'lookup', '300', 'pref', '200')
    ip('rule', 'add', 'fwmark', '0x7/0xf', 'lookup', 'local', 'pref', '201')
    ip('rule', 'add', 'not', 'iif', 'ruA0', 'prohibit', 'pref', '202')
    ip('rule', 'add', 'oif', 'ruA1', 'unreachable', 'pref', '203')
    ip('rule', 'add', 'tos', '0x08', 'lookup', '66', 'pref', '204')
    ip('rule', 'add', 'ipproto', 'udp', 'dport', '53', 'lookup', '67', 'pref', '205')
    ip('rule', 'add', 'from', '10.7.0.0/16', 'goto', '32767', 'pref', '206')
    ip('rule', 'add', 'lookup', 'main', 'suppress_prefixlength', '8', 'pref', '207', 'proto', 'bgp')
    ip('-6', 'rule', 'add', 'from', '2001:db8:5::/48', 'to', '2001:db8:6::/48', 'lookup', '4000', 'pref', '200')
    const list = await rt.rules.list()
    expect(list.map(asIp)).toEqual(oracle())
    const r200 = list.find((r) => r.family === 'inet' && r.priority === 200)!
    expect(r200).toEqual({ family: 'inet', priority: 200, action: 'lookup', src: '10.5.0.0', srclen: 16, dst: '10.6.0.0', dstlen: 16, table: '300' })
    expect(list.find((r) => r.priority === 201)).toMatchObject({ fwmark: 7, fwmask: 0xf, table: 'local' })
    expect(list.find((r) => r.priority === 202)).toMatchObject({ not: true, iif: 'ruA0', action: 'prohibit' })
    expect(list.find((r) => r.priority === 207)).toMatchObject({ suppress_prefixlen: 8, protocol: 'bgp', table: 'main' })
    expect(list.find((r) => r.family === 'inet6' && r.priority === 200)).toMatchObject({ table: '4000', dst: '2001:db8:6::', dstlen: 48 })
    expect(JSON.parse(JSON.stringify(list))).toEqual(list)
  })

  it('filters by family, table and priority', async () => {
    await rt.rules.add({ priority: 300, from: '10.8.0.0/16', table: 'main' })
    await rt.rules.add({ priority: 301, from: '2001:db8:8::/48', table: 500 })
    expect((await rt.rules.list({ family: 6 })).map(asIp)).toEqual(ipJson('-d', '-6', 'rule', 'show'))
    expect((await rt.rules.list({ family: 4 })).map(asIp)).toEqual(ipJson('-d', '-4', 'rule', 'show'))
    expect((await rt.rules.list({ table: 'main' })).map(asIp)).toEqual([
      ...ipJson('-d', '-4', 'rule', 'show', 'table', 'main'),
      ...ipJson('-d', '-6', 'rule', 'show', 'table', 'main'),
    ])
    expect((await rt.rules.list({ table: 500 })).map((r) => r.priority)).toEqual([301])
    expect(await rt.rules.list({ table: '500', family: 4 })).toEqual([])
    expect((await rt.rules.list({ priority: 300 })).map((r) => r.src)).toEqual(['10.8.0.0'])
  })

  it('delete(list() item) removes exactly that rule and nothing else', async () => {
    // Same selector at two priorities, and two rules at one priority that differ only in fwmark.
    await rt.rules.add({ priority: 400, from: '10.9.0.0/16', table: 40 })
    await rt.rules.add({ priority: 401, from: '10.9.0.0/16', table: 40 })
    await rt.rules.add({ priority: 402, fwmark: 1, table: 41 })
    ip('rule', 'add', 'pref', '402', 'fwmark', '2', 'lookup', '41') // ip also adds same-priority rules
    await rt.rules.add({ priority: 400, from: '2001:db8:9::/48', table: 40 })
    const all = await rt.rules.list()
    const pick = (f: (r: Rule) => boolean) => all.find(f)!
    await rt.rules.delete(pick((r) => r.family === 'inet' && r.priority === 401))
    await rt.rules.delete(pick((r) => r.priority === 402 && r.fwmark === 2))
    const left = oracle()
    const want = all.filter((r) => !(r.family === 'inet' && r.priority === 401) && !(r.priority === 402 && r.fwmark === 2))
    expect(left).toEqual(want.map(asIp))
    expect(left.some((r) => r.priority === 400 && r.src === '10.9.0.0')).toBe(true)
    expect(left.some((r) => r.priority === 400 && r.src === '2001:db8:9::')).toBe(true)
    // delete every rule we made, through list() objects; the defaults stay
    for (const r of await rt.rules.list()) if (!DEFAULTS.has(r.priority)) await rt.rules.delete(r)
    expect(oracle()).toEqual(initial)
  })

  it('bad input is refused before anything is sent; kernel errors keep their errno name', async () => {
    await rt.rules.add({ priority: 500, from: '10.10.0.0/16', table: 50 })
    const before = oracle()
    const cases: Array<[RuleSpec, NsnetErrorCode]> = [
      [{ priority: 501, from: '10.10.0.0/33', table: 50 }, 'EINVAL_ARGUMENT'],
      [{ priority: 501, from: '10.10.0.x/16', table: 50 }, 'EINVAL_ARGUMENT'],
      [{ priority: 501, from: '10.10.0.0/16', to: '2001:db8::/32' }, 'EINVAL_ARGUMENT'],
      [{ priority: 501, family: 6, from: '10.10.0.0/16' }, 'EINVAL_ARGUMENT'],
      [{ priority: 501, table: 'nosuchtable' }, 'EINVAL_ARGUMENT'],
      [{ priority: 501, table: -1 }, 'EINVAL_ARGUMENT'],
      [{ priority: 501, action: 'teleport' }, 'EINVAL_ARGUMENT'],
      [{ priority: -5, table: 50 }, 'EINVAL_ARGUMENT'],
      [{ priority: 501, fwmark: 2 ** 32 }, 'EINVAL_ARGUMENT'],
      [{ priority: 501, iif: 'a-name-that-is-too-long' }, 'EINVAL_ARGUMENT'],
      [{ priority: 501, action: 'goto' }, 'EINVAL_ARGUMENT'],
      [{ priority: 501, sport: { start: 9, end: 1 } }, 'EINVAL_ARGUMENT'],
      [{ priority: 500, from: '10.10.0.0/16', table: 50 }, 'EEXIST'],
    ]
    for (const [spec, code] of cases) {
      const err = await rt.rules.add(spec).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(isNsnetError(err, code), `${JSON.stringify(spec)} → ${String(err)}`).toBe(true)
      expect((err as { operation?: string }).operation).toBe('rules.add')
      expect((err as { object?: string }).object).toMatch(/^rule /)
    }
    const gone = await rt.rules.delete({ priority: 555, table: 55 }).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(isNsnetError(gone, 'ENOENT')).toBe(true)
    expect(oracle()).toEqual(before)
  })

  it('decodeRule is pure and keeps attributes it does not know', () => {
    const w = new Writer(128)
    const s = w.beginMessage(32, 0, 1)
    w.u8(2).u8(0).u8(24).u8(0).u8(0).u8(0).u8(0).u8(1).u32(0)
    w.attrU32(6, 42)
      .attrBytes(2, Uint8Array.from([192, 0, 2, 0]))
      .attrU32(15, 70000)
      .attrU16(99, 0xabcd)
    w.endMessage(s)
    const [m] = parseMessages(w.toBuffer())
    expect(decodeRule(m!)).toEqual({
      family: 'inet',
      priority: 42,
      action: 'lookup',
      src: '192.0.2.0',
      srclen: 24,
      table: '70000',
      unknown: [{ type: 99, hex: 'cdab' }],
    })
  })
})
