// Fuzzing the decoders: random, truncated and bit-flipped buffers, seeded from real kernel
// traffic. Every outcome must be a result or an NsnetError with code 'EDECODE' -- never a
// RangeError from a read past the end, never another exception, never a hang.
// Reproduce a failure with NSNET_FUZZ_SEED=<seed printed below>; scale with NSNET_FUZZ_ITERATIONS.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { beforeAll, describe, expect, it } from 'vitest'
import * as nsnet from '../../src/index.js'
import { Attrs, forEachAttr, parseErrorMessage, parseMessages, type RawMessage, Writer } from '../../src/netlink/codec.js'
import { NLMSG_ERROR } from '../../src/netlink/constants.js'
import { NetlinkSocket, type Request } from '../../src/netlink/engine.js'
import { NsnetError } from '../../src/netlink/errors.js'
import { describeMessage } from '../../src/netlink/trace.js'
import { RTM_GETADDR, RTM_GETLINK, RTM_GETNEIGH, RTM_GETROUTE, RTM_GETRULE } from '../../src/ops/rtnl.js'
import { datagrams, loadGolden } from '../support/golden.js'
import { prng, type Rng } from '../support/prng.js'

const SEED = Number(process.env.NSNET_FUZZ_SEED ?? (Date.now() ^ (process.pid << 16)) >>> 0)
const SCALE = Number(process.env.NSNET_FUZZ_ITERATIONS ?? 1)
// Printed so that a failure in CI can be replayed exactly.
console.log(`fuzz seed ${SEED} (replay: NSNET_FUZZ_SEED=${SEED})`)

const INTERESTING_U16 = [0, 1, 2, 3, 4, 5, 7, 8, 0x7fff, 0x8000, 0xfffc, 0xffff]
const INTERESTING_U32 = [0, 1, 15, 16, 17, 20, 0x7fffffff, 0x80000000, 0xffffffff]

/** 1..4 random edits: truncation, bit flips, length fields set to edge values, splices. */
function mutate(input: Buffer, r: Rng): Buffer {
  let b = Buffer.from(input)
  const edits = 1 + r.int(4)
  for (let e = 0; e < edits; e++) {
    const op = r.int(9)
    if (op === 0) {
      b = b.subarray(0, r.int(b.length + 1))
    } else if (op <= 2 && b.length) {
      for (let k = 1 + r.int(8); k > 0; k--) b[r.int(b.length)]! ^= 1 << r.int(8)
    } else if (op === 3 && b.length >= 2) {
      // An attribute or header length field (they sit at 4-byte boundaries).
      const o = Math.min(r.int(b.length >> 2) * 4, b.length - 2)
      b.writeUInt16LE(r.next() < 0.5 ? r.pick(INTERESTING_U16) : (b.readUInt16LE(o) + r.int(9) - 4) & 0xffff, o)
    } else if (op === 4 && b.length >= 4) {
      const o = Math.min(r.int(b.length >> 2) * 4, b.length - 4)
      b.writeUInt32LE(r.pick(INTERESTING_U32), o)
    } else if (op === 5) {
      const extra = Buffer.alloc(r.int(24))
      for (let i = 0; i < extra.length; i++) extra[i] = r.int(256)
      const at = r.int(b.length + 1)
      b = Buffer.concat([b.subarray(0, at), extra, b.subarray(at)])
    } else if (op === 6 && b.length) {
      const at = r.int(b.length),
        n = 1 + r.int(Math.min(32, b.length - at))
      b = Buffer.concat([b.subarray(0, at), b.subarray(at + n)])
    } else if (op === 7 && b.length) {
      const at = r.int(b.length),
        n = 1 + r.int(Math.min(64, b.length - at))
      b = Buffer.concat([b.subarray(0, at + n), b.subarray(at, at + n), b.subarray(at + n)])
    } else if (b.length) {
      b[r.int(b.length)] = r.pick([0, 0xff, 0x7f, 0x80, 0x01])
    }
  }
  return b
}

function randomBuffer(r: Rng): Buffer {
  const b = Buffer.alloc(r.int(r.next() < 0.8 ? 96 : 2048))
  for (let i = 0; i < b.length; i++) b[i] = r.int(256)
  if (b.length >= 4 && r.next() < 0.7) b.writeUInt32LE(Math.min(b.length, 16 + r.int(b.length)), 0) // plausible nlmsg_len
  return b
}

type Decoder = { name: string; fn: (m: RawMessage, names?: Map<number, string>) => unknown }

const failures: string[] = []
let calls = 0

/** Runs fn; anything thrown other than EDECODE is recorded with what produced it. */
function attempt<T>(what: string, input: Buffer, fn: () => T): T | undefined {
  calls++
  try {
    return fn()
  } catch (e) {
    if (e instanceof NsnetError && e.code === 'EDECODE') return undefined
    const err = e as Error
    if (failures.length < 20) failures.push(`${what}: ${err?.name}: ${err?.message} (input ${input.toString('hex').slice(0, 400)})`)
    return undefined
  }
}

/** Results cross a JSON boundary: no bigint, no NaN, no Buffer (NaN usually means a read past the end). */
function checkResult(v: unknown, path = 'result'): string | undefined {
  if (typeof v === 'bigint') return `${path} is a bigint`
  if (typeof v === 'number' && !Number.isFinite(v)) return `${path} is ${v}`
  if (v instanceof Uint8Array) return `${path} is a Buffer`
  if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      const bad = checkResult(x, `${path}.${k}`)
      if (bad) return bad
    }
  }
  return undefined
}

/** Every accessor on every attribute present (and a few absent), one level of nesting deep. */
function exerciseAttrs(a: Attrs, input: Buffer, depth: number): void {
  const types = new Set<number>([0, 1, a.maxType, a.maxType + 1])
  forEachAttr(a.buf, a.start, a.end, (t) => {
    if (t <= a.maxType + 1) types.add(t)
  })
  for (const t of types) {
    attempt('Attrs.has/offset/length', input, () => [a.has(t), a.offset(t), a.length(t), a.flag(t)])
    attempt('Attrs.u8', input, () => a.u8(t))
    attempt('Attrs.u16', input, () => a.u16(t))
    attempt('Attrs.u16be', input, () => a.u16be(t))
    attempt('Attrs.u32', input, () => a.u32(t))
    attempt('Attrs.u32be', input, () => a.u32be(t))
    attempt('Attrs.s32', input, () => a.s32(t))
    attempt('Attrs.u64', input, () => a.u64(t))
    attempt('Attrs.u64big', input, () => a.u64big(t))
    attempt('Attrs.str', input, () => a.str(t))
    attempt('Attrs.bytes', input, () => a.bytes(t))
    attempt('Attrs.ip', input, () => a.ip(t))
    attempt('Attrs.mac', input, () => a.mac(t))
    attempt('Attrs.raw', input, () => a.raw(t))
    attempt('Attrs.fixed', input, () => a.fixed(t, 8, 'struct'))
    attempt('Attrs.all', input, () => a.all(t))
    if (depth > 0) {
      const n = attempt('Attrs.nested', input, () => a.nested(t, 40))
      if (n) exerciseAttrs(n, input, depth - 1)
    }
  }
  attempt('Attrs.unknown', input, () => a.unknown())
}

/** One message, in a buffer that ends exactly at its end: any read past it is a RangeError. */
function exerciseMessage(m: RawMessage, input: Buffer, decoders: readonly Decoder[]): void {
  const exact: RawMessage = { ...m, buf: Buffer.from(m.buf.subarray(0, m.end)) }
  attempt('describeMessage', input, () => describeMessage(exact))
  if (m.type === NLMSG_ERROR) attempt('parseErrorMessage', input, () => parseErrorMessage(exact))
  for (const header of [0, 4, 8, 12, 16]) {
    if (exact.start + header > exact.end) break
    attempt('forEachAttr', input, () => forEachAttr(exact.buf, exact.start + header, exact.end, () => {}))
    const a = attempt('new Attrs', input, () => new Attrs(exact.buf, exact.start + header, exact.end, header === 16 ? 70 : 40))
    if (a) exerciseAttrs(a, input, 1)
  }
  for (const d of decoders) {
    for (const names of [
      undefined,
      new Map([
        [1, 'lo'],
        [2, 'eth0'],
      ]),
    ]) {
      const v = attempt(d.name, input, () => d.fn(exact, names))
      const bad = checkResult(v)
      if (bad && failures.length < 20) failures.push(`${d.name}: ${bad} (input ${input.toString('hex').slice(0, 400)})`)
    }
  }
}

function exerciseDatagram(b: Buffer, decoders: readonly Decoder[]): void {
  const msgs = attempt('parseMessages', b, () => parseMessages(b))
  for (const m of msgs ?? []) exerciseMessage(m, b, decoders)
}

function assertNoFailures(what: string): void {
  expect(failures, `${what}; replay with NSNET_FUZZ_SEED=${SEED}`).toEqual([])
}

/** Runs `n` rounds from `corpus`, failing if one round takes longer than a hang would. */
function fuzz(r: Rng, corpus: readonly Buffer[], n: number, decoders: readonly Decoder[], wrap?: (b: Buffer) => Buffer): void {
  for (let i = 0; i < n; i++) {
    const input = corpus.length && r.next() < 0.9 ? mutate(r.pick(corpus), r) : randomBuffer(r)
    const b = wrap ? wrap(input) : input
    const t0 = performance.now()
    exerciseDatagram(b, decoders)
    if (performance.now() - t0 > 500) {
      // A GC pause or a busy machine, or an input that makes a decoder crawl? Time it again.
      const t1 = performance.now()
      exerciseDatagram(b, decoders)
      const ms = performance.now() - t1
      if (ms > 500 && failures.length < 20) failures.push(`round ${i} took ${ms.toFixed(0)} ms (input ${b.toString('hex').slice(0, 400)})`)
    }
  }
}

// ---------- corpus: real kernel traffic ----------

const golden = [
  'link-show-lo',
  'link-dump',
  'link-show-missing',
  'addr-add-v4',
  'addr-add-v4-exists',
  'addr-add-v6',
  'route-add-dev',
  'route-add-blackhole',
  'route-dump-v4',
  'route-dump-v6',
  'route-get',
  'link-add-veth',
  'link-del-lo',
].flatMap((n) => datagrams(loadGolden(n), 'recv'))

function syntheticCorpus(): Buffer[] {
  const w = new Writer()
  const s = w.beginMessage(100, 2, 1, 2)
  w.zeros(16)
    .attrStr(3, 'eth0')
    .attrU32(4, 1500)
    .attrU64(7, 2 ** 40)
    .attrBytes(1, Buffer.from([2, 0, 0, 0, 0, 1]))
  const n = w.beginNested(18)
  w.attrStr(1, 'veth')
  const d = w.beginNested(2)
  w.attrU16be(3, 4789)
  w.attrFlag(4)
  w.endNested(d)
  w.endNested(n)
  w.endMessage(s)
  const e = w.beginMessage(NLMSG_ERROR, 0x200, 1, 2)
  w.s32(-17)
  w.zeros(16)
  w.attrStr(1, 'boom')
  w.endMessage(e)
  return [w.toBuffer()]
}

/**
 * Every decoder the package exports, named one by one: a decoder is fuzzed because it is
 * listed here, not because a file name matched. A test below fails when index.ts exports a
 * decode* function this list lacks.
 */
const decoders: readonly Decoder[] = [
  { name: 'decodeLink', fn: (m, names) => nsnet.decodeLink(m, names) },
  { name: 'decodeAddress', fn: (m, names) => nsnet.decodeAddress(m, names) },
  { name: 'decodeRoute', fn: (m, names) => nsnet.decodeRoute(m, names) },
  { name: 'decodeNeighbor', fn: (m, names) => nsnet.decodeNeighbor(m, names) },
  { name: 'decodeRule', fn: (m) => nsnet.decodeRule(m) },
  { name: 'decodeNexthop', fn: (m, names) => nsnet.decodeNexthop(m, names) },
  { name: 'decodeFdbEntry', fn: (m, names) => nsnet.decodeFdbEntry(m, names) },
  { name: 'decodeBridgePort', fn: (m, names) => nsnet.decodeBridgePort(m, new Map([...(names ?? [])].map(([i, n]) => [i, { name: n, up: true, master: 0 }]))) },
  { name: 'decodeBridgeVlans', fn: (m, names) => nsnet.decodeBridgeVlans(m, names) },
  { name: 'decodeQdisc', fn: (m, names) => nsnet.decodeQdisc(m, (i) => names?.get(i)) },
  { name: 'decodeClass', fn: (m, names) => nsnet.decodeClass(m, (i) => names?.get(i)) },
  { name: 'decodeFilter', fn: (m, names) => nsnet.decodeFilter(m, (i) => names?.get(i)) },
]

const kernelCorpus = new Map<string, Buffer[]>() // decoder name -> whole messages the kernel sent

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] })
}
function tryIp(...args: string[]): void {
  try {
    ip(...args)
  } catch {
    /* a kind or option this kernel lacks: the corpus is just smaller */
  }
}

beforeAll(async () => {
  // A varied namespace: kinds, addresses, routes of every type, neighbours, rules.
  tryIp('link', 'add', 'fz0', 'type', 'veth', 'peer', 'name', 'fz1')
  tryIp('link', 'add', 'fzbr', 'type', 'bridge')
  tryIp('link', 'set', 'fz0', 'master', 'fzbr')
  tryIp('link', 'add', 'fzvx', 'type', 'vxlan', 'id', '42', 'dstport', '4789', 'local', '192.0.2.1')
  tryIp('link', 'add', 'fzmv', 'link', 'fz1', 'type', 'macvlan', 'mode', 'bridge')
  for (const l of ['fz0', 'fz1', 'fzbr', 'fzmv']) tryIp('link', 'set', l, 'up')
  tryIp('addr', 'add', '192.0.2.1/24', 'dev', 'fz1', 'label', 'fz1:a')
  tryIp('addr', 'add', '198.51.100.1/24', 'dev', 'fz1', 'valid_lft', '300', 'preferred_lft', '100')
  tryIp('-6', 'addr', 'add', '2001:db8::1/64', 'dev', 'fz1', 'nodad')
  tryIp('route', 'add', '203.0.113.0/24', 'via', '192.0.2.2', 'metric', '50')
  tryIp('route', 'add', '10.50.0.0/16', 'nexthop', 'via', '192.0.2.2', 'weight', '2', 'nexthop', 'via', '192.0.2.3')
  tryIp('route', 'add', 'unreachable', '10.51.0.0/16')
  tryIp('route', 'add', 'prohibit', '10.52.0.0/16', 'table', '100')
  tryIp('route', 'add', '10.53.0.0/16', 'dev', 'fz1', 'mtu', '1400', 'src', '192.0.2.1')
  tryIp('-6', 'route', 'add', '2001:db8:1::/48', 'via', '2001:db8::2', 'metric', '10')
  tryIp('neigh', 'add', '192.0.2.9', 'lladdr', '02:00:00:00:00:09', 'dev', 'fz1')
  tryIp('-6', 'neigh', 'add', '2001:db8::9', 'lladdr', '02:00:00:00:00:0a', 'dev', 'fz1', 'router')
  tryIp('rule', 'add', 'from', '192.0.2.0/24', 'table', '100', 'pref', '1000')
  tryIp('rule', 'add', 'fwmark', '0x10/0xff', 'lookup', '200', 'pref', '1001')
  tryIp('rule', 'add', 'uidrange', '1000-2000', 'sport', '1000-2000', 'ipproto', 'tcp', 'blackhole', 'pref', '1002')
  tryIp('-6', 'rule', 'add', 'to', '2001:db8::/32', 'goto', '1000', 'pref', '999')
  // Bridge ports, fdb entries (a bridge's and a vxlan's) and nexthop objects of every shape.
  tryIp('link', 'set', 'fz0', 'master', 'fzbr')
  tryIp('link', 'set', 'fzvx', 'up')
  for (const args of [
    ['fdb', 'add', '02:00:00:00:00:21', 'dev', 'fz0', 'master', 'static'],
    ['fdb', 'add', '00:00:00:00:00:00', 'dev', 'fzvx', 'dst', '192.0.2.7', 'self'],
    ['fdb', 'add', '02:00:00:00:00:22', 'dev', 'fzvx', 'dst', '192.0.2.8', 'port', '4790', 'vni', '9', 'self'],
    ['link', 'set', 'dev', 'fz0', 'cost', '9', 'isolated', 'on'],
  ]) {
    try {
      execFileSync('bridge', args, { stdio: 'ignore' })
    } catch {
      /* smaller corpus */
    }
  }
  tryIp('nexthop', 'add', 'id', '1', 'via', '192.0.2.2', 'dev', 'fz1')
  tryIp('nexthop', 'add', 'id', '2', 'via', '192.0.2.3', 'dev', 'fz1', 'onlink')
  tryIp('nexthop', 'add', 'id', '3', 'blackhole')
  tryIp('nexthop', 'add', 'id', '4', 'via', '2001:db8::2', 'dev', 'fz1')
  tryIp('nexthop', 'add', 'id', '5', 'group', '1,3/2')
  tryIp('nexthop', 'add', 'id', '6', 'group', '1/2', 'type', 'resilient', 'buckets', '8')
  tryIp('nexthop', 'add', 'id', '7', 'via', '192.0.2.9', 'fdb')
  const tryTc = (...args: string[]) => {
    try {
      execFileSync('tc', args, { stdio: ['ignore', 'ignore', 'pipe'] })
    } catch {
      /* as tryIp */
    }
  }
  tryTc('qdisc', 'add', 'dev', 'fz1', 'root', 'handle', '1:', 'htb', 'default', '10')
  tryTc('class', 'add', 'dev', 'fz1', 'parent', '1:', 'classid', '1:10', 'htb', 'rate', '1mbit', 'ceil', '2mbit')
  tryTc('qdisc', 'add', 'dev', 'fz1', 'parent', '1:10', 'handle', '10:', 'tbf', 'rate', '1mbit', 'burst', '10kb', 'latency', '50ms')
  tryTc('filter', 'add', 'dev', 'fz1', 'parent', '1:', 'protocol', 'ip', 'prio', '1', 'u32', 'match', 'ip', 'dst', '192.0.2.0/24', 'flowid', '1:10')
  tryTc('qdisc', 'add', 'dev', 'fz0', 'ingress')
  const sock = NetlinkSocket.open()
  try {
    const grab = (req: Request) => sock.dump(req, (m) => Buffer.from(m.buf.subarray(m.start - 16, m.end)))
    kernelCorpus.set(
      'decodeLink',
      await grab({
        type: RTM_GETLINK,
        body: (w) => {
          w.zeros(16)
        },
      }),
    )
    kernelCorpus.set(
      'decodeAddress',
      await grab({
        type: RTM_GETADDR,
        body: (w) => {
          w.zeros(8)
        },
      }),
    )
    kernelCorpus.set(
      'decodeRoute',
      await grab({
        type: RTM_GETROUTE,
        body: (w) => {
          w.zeros(12)
        },
      }),
    )
    // `ip route get` answers carry what dumps do not: RTA_UID, RTA_MARK, RTA_CACHEINFO.
    for (const dst of [
      [203, 0, 113, 5],
      [192, 0, 2, 9],
    ]) {
      const got = await sock
        .request({
          type: RTM_GETROUTE,
          expectsReply: true,
          body: (w) => {
            w.u8(2).u8(32).zeros(10)
            w.attrBytes(1, Buffer.from(dst))
            w.attrU32(16, 7)
          },
        })
        .catch(() => [])
      kernelCorpus.get('decodeRoute')!.push(...got.map((m) => Buffer.from(m.buf.subarray(m.start - 16, m.end))))
    }
    kernelCorpus.set(
      'decodeNeighbor',
      await grab({
        type: RTM_GETNEIGH,
        body: (w) => {
          w.zeros(12)
        },
      }),
    )
    kernelCorpus.set(
      'decodeRule',
      await grab({
        type: RTM_GETRULE,
        body: (w) => {
          w.zeros(12)
        },
      }),
    )
    kernelCorpus.set(
      'decodeNexthop',
      await grab({
        type: 106,
        body: (w) => {
          w.zeros(8)
        },
      }),
    )
    kernelCorpus.set(
      'decodeFdbEntry',
      await grab({
        type: RTM_GETNEIGH,
        body: (w) => {
          w.u8(7).zeros(11)
        },
      }),
    )
    const bridgeLinks = await grab({
      type: RTM_GETLINK,
      body: (w) => {
        w.u8(7).zeros(15)
        w.attrU32(29, 2)
      },
    })
    kernelCorpus.set('decodeBridgePort', bridgeLinks)
    kernelCorpus.set('decodeBridgeVlans', bridgeLinks)
    // tc objects (struct tcmsg: family, pad, ifindex, handle, parent, info); classes and
    // filters are dumped per link and parent.
    const fz1 = Number(readFileSync('/sys/class/net/fz1/ifindex', 'utf8'))
    const tcmsg = (ifindex: number, parent: number) => (w: Writer) => {
      w.u8(0).zeros(3).s32(ifindex).u32(0).u32(parent).u32(0)
    }
    kernelCorpus.set('decodeQdisc', await grab({ type: 38, body: tcmsg(0, 0) }))
    kernelCorpus.set('decodeClass', await grab({ type: 42, body: tcmsg(fz1, 0) }))
    kernelCorpus.set('decodeFilter', await grab({ type: 46, body: tcmsg(fz1, 0x10000) }))
  } finally {
    sock.close()
  }
})

describe('fuzz: codec', () => {
  it('parseMessages, parseErrorMessage, Attrs, forEachAttr and describeMessage only ever throw EDECODE', () => {
    failures.length = 0
    const r = prng(SEED)
    const corpus = [...golden, ...syntheticCorpus(), ...[...kernelCorpus.values()].flat()]
    fuzz(r, corpus, Math.round(20_000 * SCALE), [])
    // Several messages per datagram, one of them damaged.
    fuzz(r, corpus, Math.round(2_000 * SCALE), [], (b) => Buffer.concat([r.pick(golden), b, r.pick(golden)]))
    assertNoFailures(`${calls} calls`)
  }, 120_000)

  it('the fuzzer can fail: a reader that overreads is caught', () => {
    failures.length = 0
    const b = Buffer.from('0800010001000000', 'hex')
    attempt('overread', b, () => b.readUInt32LE(6))
    expect(failures).toHaveLength(1)
    expect(failures[0]).toMatch(/RangeError/)
    failures.length = 0
  })
})

describe('fuzz: per-type decoders', () => {
  it('every decode* function the package exports is in the list', () => {
    const exported = Object.keys(nsnet).filter((k) => /^decode[A-Z]/.test(k) && typeof (nsnet as Record<string, unknown>)[k] === 'function')
    expect(exported.sort()).toEqual(decoders.map((d) => d.name).sort())
  })

  for (const d of decoders) {
    it(`${d.name}: decodes everything the kernel sent without error`, () => {
      const msgs = kernelCorpus.get(d.name) ?? []
      expect(msgs.length).toBeGreaterThan(0)
      for (const b of msgs) {
        const [m] = parseMessages(b)
        let v: unknown
        expect(
          () => {
            v = d.fn(m!, new Map([[1, 'lo']]))
          },
          `${d.name} on ${b.toString('hex')}`,
        ).not.toThrow()
        expect(checkResult(v), `${d.name} on ${b.toString('hex')}`).toBeUndefined()
      }
    })

    it(`${d.name}: mutated kernel messages give a result or EDECODE`, () => {
      failures.length = 0
      const r = prng(SEED ^ (d.name.length * 7919))
      const corpus = kernelCorpus.get(d.name)?.length ? kernelCorpus.get(d.name)! : golden
      fuzz(r, corpus, Math.round(6_000 * SCALE), [d])
      assertNoFailures(d.name)
    }, 120_000)
  }
})
