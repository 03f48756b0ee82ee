// tc against the kernel, with `tc -j -s` (and `tc -s class show`, which tc 6.1 prints only as
// text) as the oracle in both directions: what nsnet makes tc shows, what tc makes nsnet reads.
import { execFileSync } from 'node:child_process'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { isNsnetError } from '../../../src/netlink/errors.js'
import { netns } from '../../../src/netns/index.js'
import type { Qdisc } from '../../../src/ops/tc/index.js'
import { Rtnl } from '../../../src/rtnl.js'
import { ensureHelperBundle } from '../../netns/support.js'

const run = (cmd: string, ...args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
const tc = (...args: string[]) => run('tc', ...args)
const tcJson = (...args: string[]): Array<Record<string, unknown>> => JSON.parse(tc('-j', '-s', ...args) || '[]')
const A = 'tcA0',
  B = 'tcA1',
  IFB = 'tcifb'

let rt: Rtnl
beforeAll(async () => {
  rt = await Rtnl.open()
  run('ip', 'link', 'add', A, 'type', 'veth', 'peer', 'name', B)
  run('ip', 'link', 'add', IFB, 'type', 'ifb')
  for (const d of [A, B, IFB]) {
    // No IPv6 on the test links: router solicitations and MLD would move the counters between two reads.
    run('sysctl', '-qw', `net.ipv6.conf.${d}.disable_ipv6=1`)
    run('ip', 'link', 'set', d, 'up')
  }
})
afterAll(async () => {
  try {
    run('ip', 'link', 'del', A)
  } catch {}
  try {
    run('ip', 'link', 'del', IFB)
  } catch {}
  await rt?.close()
})
afterEach(() => {
  for (const d of [A, B]) {
    try {
      tc('qdisc', 'del', 'dev', d, 'root')
    } catch {}
    try {
      tc('qdisc', 'del', 'dev', d, 'ingress')
    } catch {}
    try {
      tc('qdisc', 'del', 'dev', d, 'clsact')
    } catch {}
  }
})

/** A qdisc of ours in tc -j's terms: rates back to bytes/s, and the keys tc prints. */
function asTc(q: Qdisc): Record<string, unknown> {
  const o = { ...q.options } as Record<string, unknown>
  for (const k of ['rate', 'peakrate']) if (typeof o[k] === 'number') o[k] = (o[k] as number) / 8
  // tc -j leaves out limit, linklayer and mpu without -d, and prints peakrate only as text.
  if (q.kind === 'tbf') {
    delete o.limit
    delete o.linklayer
    delete o.mpu
    delete o.peakrate
  }
  return {
    kind: q.kind,
    handle: q.handle,
    dev: q.dev,
    ...(q.root ? { root: true, refcnt: q.refcnt } : { parent: q.parent }),
    options: o,
    bytes: q.bytes,
    packets: q.packets,
    drops: q.drops,
    overlimits: q.overlimits,
    requeues: q.requeues,
    backlog: q.backlog,
    qlen: q.qlen,
  }
}
const tcQdiscs = (dev: string): Array<Record<string, unknown>> => tcJson('qdisc', 'show', 'dev', dev).map((q) => ({ ...(q as Record<string, unknown>), dev }))
const oursAsTc = async (dev: string) => (await rt.tc.qdiscs.list(dev)).map(asTc)

describe('qdiscs', () => {
  it('what nsnet adds, tc -j -s qdisc show shows the same (tbf, htb, ingress, pfifo, bfifo)', async () => {
    await rt.tc.qdiscs.add({ dev: A, kind: 'htb', handle: '5:', options: { default: 1, r2q: 20 } })
    await rt.tc.classes.add({ dev: A, kind: 'htb', parent: '5:', classid: '5:1', options: { rate: '10mbit', quantum: 1500 } })
    await rt.tc.qdiscs.add({
      dev: A,
      kind: 'tbf',
      parent: '5:1',
      handle: '10:',
      options: { rate: '10mbit', burst: '32kbit', latency: '400ms', peakrate: '20mbit', mtu: 1600 },
    })
    await rt.tc.qdiscs.add({ dev: A, kind: 'ingress' })
    await rt.tc.qdiscs.add({ dev: B, kind: 'pfifo', options: { limit: 100 } })
    await rt.tc.qdiscs.add({ dev: IFB, kind: 'bfifo', options: { limit: '10kb' } })
    try {
      for (const d of [A, B, IFB]) expect(await oursAsTc(d)).toEqual(tcQdiscs(d))
      const t = (await rt.tc.qdiscs.list(A)).find((q) => q.kind === 'tbf')!
      expect(t.options).toEqual({ rate: 10e6, burst: 4095, peakrate: 20e6, minburst: 1600, lat: 400000, limit: 504096, linklayer: 'ethernet' })
    } finally {
      tc('qdisc', 'del', 'dev', IFB, 'root')
    }
  })

  it('what tc adds, nsnet reads the same (rate64 tbf, clsact, default noqueue)', async () => {
    tc('qdisc', 'add', 'dev', A, 'root', 'handle', '7:', 'tbf', 'rate', '40gbit', 'burst', '1mb', 'limit', '2mb')
    tc('qdisc', 'add', 'dev', A, 'clsact')
    expect(await oursAsTc(A)).toEqual(tcQdiscs(A))
    expect(await oursAsTc(B)).toEqual(tcQdiscs(B)) // noqueue
    const all = await rt.tc.qdiscs.list()
    expect(
      all
        .filter((q) => q.dev === A)
        .map((q) => q.kind)
        .sort(),
    ).toEqual(['clsact', 'tbf'])
    expect(Object.isFrozen(all[0]!.options)).toBe(true)
  })

  it('counters move with traffic and agree with tc -s', async () => {
    run('ip', 'addr', 'add', '10.77.0.1/24', 'dev', A)
    try {
      await rt.tc.qdiscs.add({ dev: A, kind: 'pfifo', handle: '3:', options: { limit: 50 } })
      // Broadcast pings need no peer: the packets leave through the qdisc either way.
      try {
        run('ping', '-c', '3', '-i', '0.2', '-W', '1', '-b', '10.77.0.255')
      } catch {}
      const ours = (await rt.tc.qdiscs.list(A))[0]!
      expect(ours.packets).toBeGreaterThan(0)
      const theirs = tcQdiscs(A)[0]!
      expect([ours.bytes, ours.packets]).toEqual([theirs.bytes, theirs.packets])
    } finally {
      run('ip', 'addr', 'flush', 'dev', A)
    }
  })

  it('list() output goes back into delete() and replace()', async () => {
    await rt.tc.qdiscs.add({ dev: A, kind: 'tbf', handle: '4:', options: { rate: 5_000_000, burst: 20000, limit: 60000 } })
    const [q] = await rt.tc.qdiscs.list(A)
    await rt.tc.qdiscs.delete(q!)
    expect(tcQdiscs(A)[0]!.kind).toBe('noqueue')
    await rt.tc.qdiscs.replace(q!)
    const back = (await rt.tc.qdiscs.list(A))[0]!
    expect(back.options).toEqual(q!.options)
    await rt.tc.qdiscs.change({ dev: A, kind: 'tbf', root: true, options: { ...q!.options, rate: '8mbit' } })
    expect(tcQdiscs(A)[0]!.options).toMatchObject({ rate: 1_000_000 })
    await rt.tc.qdiscs.replace({ dev: A, kind: 'htb', handle: '6:', options: { default: '20' } })
    expect(tcQdiscs(A)[0]).toMatchObject({ kind: 'htb', options: { default: '0x20' } })
  })

  it('replaceMany: what tc -batch does; a bad spec sends nothing; kernel refusals carry their index', async () => {
    await rt.tc.qdiscs.replace({ dev: A, kind: 'tbf', handle: '5:', options: { rate: '1mbit', burst: '32kbit', latency: '400ms' } })
    const specs = Array.from({ length: 300 }, (_, i) => ({
      dev: A,
      kind: 'tbf',
      handle: '5:',
      options: { rate: `${2000 + i}kbit`, burst: '32kbit', latency: '400ms' },
    }))
    expect(await rt.tc.qdiscs.replaceMany(specs)).toEqual({ sent: 300 })
    // The last one wins, as with 300 `qdisc replace` lines.
    expect(tcQdiscs(A)[0]).toMatchObject({ kind: 'tbf', handle: '5:', options: { rate: 2299 * 125 } })
    const bad = await rt.tc.qdiscs.replaceMany([specs[0]!, { ...specs[1]!, options: { rate: 'fast' } }]).catch((x) => x)
    expect(isNsnetError(bad, 'EINVAL_ARGUMENT')).toBe(true)
    expect(bad.message).toContain('qdiscs[1]')
    expect(tcQdiscs(A)[0]).toMatchObject({ options: { rate: 2299 * 125 } })
    // A name the kernel does not know fails in the kernel: reported with its index, the others applied.
    const e = await rt.tc.qdiscs.replaceMany([{ ...specs[0]!, dev: 999_999 }, specs[5]!]).catch((x) => x)
    expect(e.name).toBe('BatchError')
    expect(e.failures.map((f: { index: number; code: string }) => [f.index, f.code])).toEqual([[0, 'ENODEV']])
    expect(tcQdiscs(A)[0]).toMatchObject({ options: { rate: 2005 * 125 } })
    run('tc', 'qdisc', 'del', 'dev', A, 'root')
  })

  it('netem and fq_codel: EUNSUPPORTED from a probe that leaves nothing behind', async () => {
    const before = tc('-j', 'qdisc', 'show', 'dev', 'lo')
    expect(await rt.tc.qdiscs.supports('tbf')).toBe(true)
    expect(await rt.tc.qdiscs.supports('htb')).toBe(true)
    const hasNetem = await rt.tc.qdiscs.supports('netem')
    expect(tc('-j', 'qdisc', 'show', 'dev', 'lo')).toBe(before)
    if (hasNetem) return // a kernel with netem: nothing more to prove here
    const e = await rt.tc.qdiscs.add({ dev: A, kind: 'netem', options: { delay: '10ms' } }).catch((x) => x)
    expect(isNsnetError(e, 'EUNSUPPORTED')).toBe(true)
    expect(e.message).toContain('kernel has no qdisc netem')
    expect(e.operation).toBe('tc.qdiscs.add')
    const f = await rt.tc.qdiscs.add({ dev: A, kind: 'fq_codel' }).catch((x) => x)
    if (!(await rt.tc.qdiscs.supports('fq_codel'))) expect(f.message).toContain('kernel has no qdisc fq_codel')
    expect(tcQdiscs(A)[0]!.kind).toBe('noqueue')
  })

  it('bad input is EINVAL_ARGUMENT before anything is sent, and the kernel is unchanged', async () => {
    const bad = [
      { dev: A, kind: 'tbf', options: { rate: 'fast', burst: 1000, limit: 1000 } },
      { dev: A, kind: 'tbf', options: { rate: '10mbit', burst: '10xb', limit: 1000 } },
      { dev: A, kind: 'tbf', options: { rate: '10mbit', burst: 1000 } },
      { dev: A, kind: 'tbf', options: { rate: '10mbit', burst: 1000, latency: '1h' } },
      { dev: A, kind: 'tbf', options: { rate: '10mbit', burst: 1000, limit: 1000, peakrate: '5mbit', mtu: 1500 } },
      { dev: A, kind: 'tbf', options: { rate: '10mbit', burst: 1000, limit: 1000, colour: 'red' } },
      { dev: A, kind: 'htb', handle: '5:1' },
      { dev: A, kind: 'sfq' },
      { dev: A, kind: 'htb', parent: 'nowhere' },
      { dev: A, kind: 'netem', options: { loss: '120%' } },
      { kind: 'htb' },
    ]
    for (const spec of bad) {
      const e = await rt.tc.qdiscs.add(spec as never).catch((x) => x)
      expect(isNsnetError(e, 'EINVAL_ARGUMENT'), `${JSON.stringify(spec)}: ${e}`).toBe(true)
      expect(e.operation).toBe('tc.qdiscs.add')
    }
    expect(tcQdiscs(A).map((q) => q.kind)).toEqual(['noqueue'])
    const gone = await rt.tc.qdiscs.add({ dev: 'tcnope', kind: 'htb' }).catch((x) => x)
    expect(isNsnetError(gone, 'ENODEV')).toBe(true)
  })
})

/** `tc -s class show dev DEV` parsed (tc 6.1 has no JSON for classes). */
function tcClasses(dev: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = []
  for (const block of tc('-s', '-d', 'class', 'show', 'dev', dev).split(/\n(?=class )/)) {
    // -d: `class htb 5:1 root|parent 5: [leaf 10:] [prio N quantum N] rate R ceil C linklayer ethernet burst B/1 mpu 0b cburst B/1 mpu 0b level L`
    const m =
      /^class (\S+) (\S+) (?:root|parent (\S+))(?: leaf (\S+))?(?: prio (\d+) quantum (\d+))? rate (\S+) ceil (\S+) linklayer \S+ burst (\S+?)\/\d+ mpu \S+ cburst (\S+?)\/\d+ mpu \S+ level (\d+)/.exec(
        block,
      )
    const s = /Sent (\d+) bytes (\d+) pkt \(dropped (\d+), overlimits (\d+) requeues (\d+)\)/.exec(block)
    if (!m || !s) continue
    out.push({
      kind: m[1],
      handle: m[2],
      parent: m[3] ?? 'root',
      leaf: m[4],
      prio: m[5] === undefined ? undefined : Number(m[5]),
      quantum: m[6] === undefined ? undefined : Number(m[6]),
      rate: m[7],
      ceil: m[8],
      burst: m[9],
      cburst: m[10],
      level: Number(m[11]),
      bytes: Number(s[1]),
      packets: Number(s[2]),
      drops: Number(s[3]),
    })
  }
  return out.sort((a, b) => String(a.handle).localeCompare(String(b.handle)))
}
/** tc's size text ('15Kb', '1600b') in bytes. */
const tcBytes = (s: string) => {
  const m = /^([\d.]+)(K|M)?b$/.exec(s)!
  return Math.round(Number(m[1]) * (m[2] === 'K' ? 1024 : m[2] === 'M' ? 1048576 : 1))
}
const tcRate = (s: string) => {
  const m = /^([\d.]+)([KMG]?)bit$/.exec(s)!
  return Number(m[1]) * ({ '': 1, K: 1e3, M: 1e6, G: 1e9 } as Record<string, number>)[m[2]!]!
}

describe('htb classes', () => {
  it('what nsnet adds, tc -s class show shows; what tc adds, nsnet reads', async () => {
    await rt.tc.qdiscs.add({ dev: A, kind: 'htb', handle: '5:', options: { default: 1 } })
    await rt.tc.classes.add({
      dev: A,
      kind: 'htb',
      parent: '5:',
      classid: '5:1',
      options: { rate: '10mbit', ceil: '20mbit', burst: '15k', cburst: 3000, prio: 2, quantum: 1500 },
    })
    tc('class', 'add', 'dev', A, 'parent', '5:1', 'classid', '5:10', 'htb', 'rate', '2mbit', 'ceil', '10mbit', 'quantum', '3000')
    const ours = (await rt.tc.classes.list(A))
      .map((c) => ({
        kind: c.kind,
        handle: c.handle,
        parent: c.root ? 'root' : c.parent,
        leaf: c.leaf,
        // tc prints prio and quantum for leaf classes only.
        prio: c.options.level ? undefined : c.options.prio,
        quantum: c.options.level ? undefined : c.options.quantum,
        level: c.options.level,
        rate: c.options.rate,
        ceil: c.options.ceil,
        burst: c.options.burst,
        cburst: c.options.cburst,
        bytes: c.bytes,
        packets: c.packets,
        drops: c.drops,
      }))
      .sort((a, b) => a.handle.localeCompare(b.handle))
    const theirs = tcClasses(A).map((c) => ({
      ...c,
      rate: tcRate(c.rate as string),
      ceil: tcRate(c.ceil as string),
      burst: tcBytes(c.burst as string),
      cburst: tcBytes(c.cburst as string),
    }))
    expect(ours.map((c) => c.handle)).toEqual(['5:1', '5:10'])
    // tc prints sizes rounded to 0.1 Kb; compare within that.
    for (let i = 0; i < ours.length; i++) {
      const { burst, cburst, ...rest } = ours[i]!
      const { burst: tb, cburst: tcb, ...trest } = theirs[i]!
      expect(rest).toEqual(trest)
      expect(Math.abs((burst as number) - (tb as number))).toBeLessThan(60)
      expect(Math.abs((cburst as number) - (tcb as number))).toBeLessThan(60)
    }
  })

  it('list() output goes back into delete() and replace(); bad classes are refused', async () => {
    await rt.tc.qdiscs.add({ dev: A, kind: 'htb', handle: '5:', options: { default: 1 } })
    await rt.tc.classes.add({ dev: A, kind: 'htb', parent: '5:', classid: '5:1', options: { rate: '50mbit', quantum: 60000 } })
    const [c] = await rt.tc.classes.list(A)
    expect(c).toMatchObject({ kind: 'htb', handle: '5:1', root: true, options: { rate: 50e6, ceil: 50e6, quantum: 60000 } })
    await rt.tc.classes.delete(c!)
    expect(tcClasses(A)).toEqual([])
    await rt.tc.classes.replace(c!)
    expect((await rt.tc.classes.list(A))[0]!.options).toEqual(c!.options)
    for (const spec of [
      { dev: A, kind: 'htb', parent: '5:', classid: '5:2', options: { rate: '10mbit', ceil: '5mbit' } },
      { dev: A, kind: 'htb', parent: '5:', classid: '5:0', options: { rate: '10mbit' } },
      { dev: A, kind: 'htb', parent: '6:', classid: '5:3', options: { rate: '10mbit' } },
      { dev: A, kind: 'htb', parent: '5:', classid: '5:4', options: { rate: '10mbit', prio: 9 } },
      { dev: A, kind: 'htb', parent: '5:', classid: '5:5' },
    ]) {
      const e = await rt.tc.classes.add(spec as never).catch((x) => x)
      expect(isNsnetError(e, 'EINVAL_ARGUMENT'), JSON.stringify(spec)).toBe(true)
    }
    expect(tcClasses(A).map((x) => x.handle)).toEqual(['5:1'])
  })
})

describe('u32 filters with mirred', () => {
  const tcFilters = (dev: string, parent: string) =>
    tcJson('filter', 'show', 'dev', dev, 'parent', parent).filter((f) => (f.options as Record<string, unknown> | undefined)?.match !== undefined)

  it('what nsnet adds, tc -j filter show shows (u32 match + classid; ingress redirect to an ifb)', async () => {
    await rt.tc.qdiscs.add({ dev: A, kind: 'htb', handle: '5:', options: { default: 1 } })
    await rt.tc.qdiscs.add({ dev: A, kind: 'ingress' })
    await rt.tc.filters.add({ dev: A, parent: '5:', protocol: 'ip', pref: 1, kind: 'u32', options: { ip: { src: '10.0.0.0/24', dport: 80 }, classid: '5:1' } })
    await rt.tc.filters.add({ dev: A, parent: 'ffff:', pref: 1, kind: 'u32', options: { actions: [{ kind: 'mirred', to_dev: IFB }] } })
    // tc -j repeats "match" per key, so JSON.parse keeps the last one; compare the rest, then the keys in text.
    const t = tcFilters(A, '5:')
    const o = await rt.tc.filters.list(A, { parent: '5:' })
    expect(o).toHaveLength(1)
    expect(t).toHaveLength(1)
    const { match, ...rest } = o[0]!.options as Record<string, unknown>
    const { match: tmatch, not_in_hw: _n, ...trest } = t[0]!.options as Record<string, unknown>
    expect(rest).toEqual(trest)
    expect((match as unknown[]).at(-1)).toEqual(tmatch)
    expect(match).toEqual([
      { value: 'a000000', mask: 'ffffff00', offmask: '', off: 12 },
      { value: '50', mask: 'ffff', offmask: '', off: 20 },
    ])
    expect(o[0]).toMatchObject({ protocol: t[0]!.protocol, pref: t[0]!.pref, kind: 'u32', parent: '5:' })
    const ing = await rt.tc.filters.list(A, { parent: 'ffff:' })
    const ting = tcFilters(A, 'ffff:')[0]!.options as Record<string, unknown>
    const act = (ting.actions as Array<Record<string, unknown>>)[0]!
    expect(ing[0]!.options.actions).toEqual([
      {
        order: act.order,
        kind: 'mirred',
        mirred_action: act.mirred_action,
        direction: act.direction,
        to_dev: act.to_dev,
        control_action: act.control_action,
        index: act.index,
      },
    ])
    // Without a parent, list() walks every qdisc of the link.
    expect((await rt.tc.filters.list(A)).map((f) => f.parent).sort()).toEqual(['5:', 'ffff:'])
  })

  it('what tc adds, nsnet reads; list() output deletes and re-adds it; mirred redirects packets to the ifb', async () => {
    tc('qdisc', 'add', 'dev', B, 'handle', 'ffff:', 'ingress')
    tc(
      'filter',
      'add',
      'dev',
      B,
      'parent',
      'ffff:',
      'protocol',
      'ip',
      'prio',
      '2',
      'u32',
      'match',
      'ip',
      'dst',
      '10.1.2.3/32',
      'match',
      'ip',
      'protocol',
      '17',
      '0xff',
      'action',
      'mirred',
      'egress',
      'redirect',
      'dev',
      IFB,
    )
    const [f] = await rt.tc.filters.list(B)
    expect(f).toMatchObject({
      dev: B,
      parent: 'ffff:',
      protocol: 'ip',
      pref: 2,
      kind: 'u32',
      options: {
        match: [
          { value: 'a010203', mask: 'ffffffff', off: 16 },
          { value: '110000', mask: 'ff0000', off: 8 },
        ],
        actions: [{ to_dev: IFB, mirred_action: 'redirect' }],
      },
    })
    await rt.tc.filters.delete(f!)
    expect(tcFilters(B, 'ffff:')).toEqual([])
    await rt.tc.filters.add(f!)
    expect((await rt.tc.filters.list(B))[0]!.options.match).toEqual(f!.options.match)
    // UDP to 10.1.2.3 sent from A arrives on B and goes on to the ifb.
    const before = JSON.parse(run('ip', '-j', '-s', 'link', 'show', IFB))[0].stats64.tx.packets as number
    run('ip', 'addr', 'add', '10.1.2.1/24', 'dev', A)
    run('ip', 'neigh', 'replace', '10.1.2.3', 'lladdr', '02:00:00:00:00:03', 'dev', A)
    try {
      run('bash', '-c', 'for i in 1 2 3 4 5; do echo x > /dev/udp/10.1.2.3/9; done')
      await expect
        .poll(() => JSON.parse(run('ip', '-j', '-s', 'link', 'show', IFB))[0].stats64.tx.packets - before, { timeout: 5000 })
        .toBeGreaterThanOrEqual(5)
    } finally {
      run('ip', 'addr', 'flush', 'dev', A)
    }
  })

  it('bad filters are refused before anything is sent', async () => {
    await rt.tc.qdiscs.add({ dev: A, kind: 'htb', handle: '5:' })
    for (const spec of [
      { dev: A, parent: '5:', kind: 'u32', options: { ip: { src: '10.0.0.0/33' } } },
      { dev: A, parent: '5:', kind: 'u32', options: { ip: { dport: 70000 } } },
      { dev: A, parent: '5:', kind: 'u32', options: { ip: { tos: 1 } } },
      { dev: A, parent: '5:', kind: 'flower' },
      { dev: A, kind: 'u32' },
      { dev: A, parent: '5:', kind: 'u32', options: { actions: [{ kind: 'police' }] } },
      { dev: A, parent: '5:', kind: 'u32', pref: 70000 },
      { dev: A, parent: '5:', kind: 'u32', protocol: 'ipx' },
    ]) {
      const e = await rt.tc.filters.add(spec as never).catch((x) => x)
      expect(isNsnetError(e, 'EINVAL_ARGUMENT'), JSON.stringify(spec)).toBe(true)
    }
    const e = await rt.tc.filters.add({ dev: A, parent: '5:', kind: 'u32', options: { actions: [{ kind: 'mirred', to_dev: 'tcnope' }] } }).catch((x) => x)
    expect(isNsnetError(e, 'ENODEV')).toBe(true)
    expect(tcJson('filter', 'show', 'dev', A, 'parent', '5:')).toEqual([])
  })
})

describe('through netns.open', () => {
  it('the same tc operations run inside a named namespace', async () => {
    await ensureHelperBundle()
    await netns.add('tc-ns')
    try {
      run('ip', 'link', 'add', 'tcn0', 'netns', 'tc-ns', 'type', 'veth', 'peer', 'name', 'tcn1', 'netns', 'tc-ns')
      for (const d of ['tcn0', 'tcn1']) run('ip', '-n', 'tc-ns', 'link', 'set', d, 'up') // a down link has no qdisc to show
      await using h = await netns.open('tc-ns')
      await h.tc.qdiscs.add({ dev: 'tcn0', kind: 'tbf', options: { rate: '10mbit', burst: '32kbit', latency: '50ms' } })
      await h.tc.qdiscs.add({ dev: 'tcn1', kind: 'htb', handle: '1:', options: { default: 1 } })
      await h.tc.classes.add({ dev: 'tcn1', kind: 'htb', parent: '1:', classid: '1:1', options: { rate: '5mbit', quantum: 1500 } })
      await h.tc.filters.add({ dev: 'tcn1', parent: '1:', kind: 'u32', pref: 1, protocol: 'ip', options: { ip: { dst: '10.0.0.0/8' }, classid: '1:1' } })
      const theirs = JSON.parse(run('ip', 'netns', 'exec', 'tc-ns', 'tc', '-j', 'qdisc', 'show', 'dev', 'tcn0'))
      const ours = await h.tc.qdiscs.list('tcn0')
      expect(ours[0]).toMatchObject({
        kind: 'tbf',
        dev: 'tcn0',
        options: { rate: theirs[0].options.rate * 8, burst: theirs[0].options.burst, lat: theirs[0].options.lat },
      })
      expect((await h.tc.classes.list('tcn1'))[0]).toMatchObject({ handle: '1:1', options: { rate: 5e6 } })
      expect((await h.tc.filters.list('tcn1'))[0]).toMatchObject({ options: { flowid: '1:1' } })
      const e = await h.tc.qdiscs.add({ dev: 'tcn0', kind: 'tbf', options: { rate: 'x' } }).catch((x) => x)
      expect(isNsnetError(e, 'EINVAL_ARGUMENT')).toBe(true)
      expect(e.namespace).toBe('tc-ns')
      await h.tc.qdiscs.delete(ours[0]!)
      expect(JSON.parse(run('ip', 'netns', 'exec', 'tc-ns', 'tc', '-j', 'qdisc', 'show', 'dev', 'tcn0'))[0].kind).toBe('noqueue')
    } finally {
      await netns.delete('tc-ns', { kill: true })
    }
  })
})
