// rt.links against the kernel, with `ip -d -j link show` as the independent oracle in both
// directions: what nsnet creates ip reports identically, and what ip creates nsnet decodes
// identically. Names start with `lk`; the test namespace is shared with other files, so
// only our own links are compared.
import { execFileSync, spawn } from 'node:child_process'
import { readdirSync, readlinkSync, statSync } from 'node:fs'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { isNsnetError, type NsnetError } from '../../../src/netlink/errors.js'
import type { Link } from '../../../src/ops/links/operations.js'
import { Rtnl } from '../../../src/rtnl.js'

const NS = `nsnet-lk-${process.pid}`

const ip = (...args: string[]) => execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
type IpLink = Record<string, any>
const ipLinks = (ns?: string): IpLink[] => JSON.parse(ip(...(ns ? ['-n', ns] : []), '-d', '-j', 'link', 'show'))
const ipLink = (name: string, ns?: string): IpLink | undefined => ipLinks(ns).find((l) => l.ifname === name)
const names = (ns?: string) =>
  ipLinks(ns)
    .map((l) => l.ifname as string)
    .filter((n) => n.startsWith('lk'))

/** Fields `ip -d -j link show` and Link share; each must be equal (absent on both sides counts). */
const SHARED = [
  'ifindex',
  'ifname',
  'flags',
  'mtu',
  'qdisc',
  'master',
  'operstate',
  'linkmode',
  'group',
  'txqlen',
  'link_type',
  'address',
  'broadcast',
  'permaddr',
  'link',
  'link_netnsid',
  'ifalias',
  'altnames',
  'promiscuity',
  'allmulti',
  'min_mtu',
  'max_mtu',
  'num_tx_queues',
  'num_rx_queues',
  'gso_max_size',
  'gso_max_segs',
  'tso_max_size',
  'tso_max_segs',
  'gro_max_size',
  'parentbus',
  'parentdev',
]

function expectSameAsIp(ours: Link, theirs: IpLink | undefined): void {
  expect(theirs, `ip does not show ${ours.ifname}`).toBeDefined()
  for (const f of SHARED) expect((ours as any)[f], `${ours.ifname}.${f}`).toEqual(theirs![f])
  if (theirs!.link_index !== undefined) expect(ours.link_index, `${ours.ifname}.link_index`).toBe(theirs!.link_index)
  expect(ours.kind, `${ours.ifname}.kind`).toBe(theirs!.linkinfo?.info_kind)
  expect(ours.slaveKind, `${ours.ifname}.slaveKind`).toBe(theirs!.linkinfo?.info_slave_kind)
}

async function error(p: Promise<unknown>): Promise<NsnetError> {
  try {
    await p
  } catch (e) {
    if (isNsnetError(e)) return e
    throw e
  }
  throw new Error('expected a rejection')
}

/** How many namespace fds this process holds (checks that IFLA_NET_NS_FD fds are closed). */
function openNetnsFds(): number {
  let n = 0
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith('net:[')) n++
    } catch {}
  }
  return n
}

let rt: Rtnl
beforeAll(async () => {
  rt = await Rtnl.open()
  ip('netns', 'add', NS)
})
afterAll(async () => {
  await rt.close()
  try {
    ip('netns', 'del', NS)
  } catch {}
})
afterEach(() => {
  for (const ns of [undefined, NS]) {
    for (const n of names(ns))
      try {
        ip(...(ns ? ['-n', ns] : []), 'link', 'del', n)
      } catch {}
  }
  expect(names()).toEqual([])
})

describe('list() and get() against ip -d -j link show', () => {
  it('decode what ip created identically: veth, bridge with a port, vxlan, macvlan, tap, lo', async () => {
    ip('link', 'add', 'lkbr0', 'type', 'bridge', 'forward_delay', '400', 'stp_state', '1', 'priority', '100')
    ip('link', 'add', 'lkv0', 'mtu', '1400', 'address', '02:00:00:00:10:01', 'type', 'veth', 'peer', 'name', 'lkv1')
    ip('link', 'set', 'lkv0', 'master', 'lkbr0')
    ip('link', 'set', 'lkv0', 'alias', 'uplink port')
    ip('link', 'set', 'lkv0', 'up')
    ip('link', 'add', 'lkvx0', 'type', 'vxlan', 'id', '42', 'local', '192.0.2.1', 'remote', '192.0.2.2', 'dstport', '4789', 'dev', 'lkv1')
    ip('link', 'add', 'link', 'lkv1', 'name', 'lkmv0', 'type', 'macvlan', 'mode', 'bridge')
    ip('tuntap', 'add', 'lktap0', 'mode', 'tap')
    ip('link', 'property', 'add', 'dev', 'lkv1', 'altname', 'lk-altname-one')

    const listed = await rt.links.list()
    const theirs = ipLinks()
    const mine = listed.filter((l) => l.ifname.startsWith('lk') || l.ifname === 'lo')
    expect(mine.map((l) => l.ifname).sort()).toEqual(['lkbr0', 'lkmv0', 'lktap0', 'lkv0', 'lkv1', 'lkvx0', 'lo'])
    for (const l of mine)
      expectSameAsIp(
        l,
        theirs.find((t) => t.ifindex === l.ifindex),
      )
    // get() by name, by index and by the Link itself returns the same thing as list().
    for (const l of mine) {
      expect(await rt.links.get(l.ifname)).toEqual(l)
      expect(await rt.links.get(l.ifindex)).toEqual(l)
      expect(await rt.links.get(l)).toEqual(l)
    }
    const v0 = mine.find((l) => l.ifname === 'lkv0')!
    expect(v0).toMatchObject({ kind: 'veth', link: 'lkv1', master: 'lkbr0', ifalias: 'uplink port', slaveKind: 'bridge' })
    expect(v0.flags).toContain('M-DOWN') // its peer lkv1 is down
    expect(mine.find((l) => l.ifname === 'lkv1')!.altnames).toEqual(['lk-altname-one'])
    expect(mine.find((l) => l.ifname === 'lkbr0')!.info).toMatchObject({ forwardDelay: 400, stpState: 1, priority: 100 })
  })

  it('list({ kind, master }) is `ip link show type KIND master DEV`', async () => {
    ip('link', 'add', 'lkbr6', 'type', 'bridge')
    ip('link', 'add', 'lkf0', 'type', 'veth', 'peer', 'name', 'lkf1')
    ip('link', 'add', 'lkf2', 'type', 'veth', 'peer', 'name', 'lkf3')
    ip('link', 'set', 'lkf0', 'master', 'lkbr6')
    ip('link', 'set', 'lkf2', 'master', 'lkbr6')
    const ports = (await rt.links.list({ master: 'lkbr6' })).map((l) => l.ifname).sort()
    expect(ports).toEqual(
      JSON.parse(ip('-j', 'link', 'show', 'master', 'lkbr6'))
        .map((l: IpLink) => l.ifname)
        .sort(),
    )
    expect(ports).toEqual(['lkf0', 'lkf2'])
    const bridges = (await rt.links.list({ kind: 'bridge' })).map((l) => l.ifname)
    expect(bridges.sort()).toEqual(
      JSON.parse(ip('-j', 'link', 'show', 'type', 'bridge'))
        .map((l: IpLink) => l.ifname)
        .sort(),
    )
    expect(bridges).toContain('lkbr6')
    expect((await rt.links.list({ kind: 'veth', master: 'lkbr6' })).map((l) => l.ifname).sort()).toEqual(['lkf0', 'lkf2'])
    // A kind the kernel does not know: the kernel would not filter; we still do.
    expect(await rt.links.list({ kind: 'nsnetnosuchkind' })).toEqual([])
    expect((await error(rt.links.list({ master: 'lkgone' }))).code).toBe('ENODEV')
    expect((await error(rt.links.list({ colour: 'red' } as any))).code).toBe('EINVAL_ARGUMENT')
  })

  it('results are frozen plain JSON', async () => {
    const [lo] = (await rt.links.list()).filter((l) => l.ifname === 'lo')
    expect(Object.isFrozen(lo) && Object.isFrozen(lo!.flags)).toBe(true)
    expect(JSON.parse(JSON.stringify(lo))).toEqual(lo)
  })

  it('get() of a missing link is ENODEV naming it', async () => {
    const e = await error(rt.links.get('lknothere'))
    expect(e.code).toBe('ENODEV')
    expect(e.object).toBe('link lknothere')
    expect(e.message).toMatch(/no link named "lknothere"/)
    expect((await error(rt.links.get(999999))).code).toBe('ENODEV')
  })
})

describe('add() and set(): ip reports what nsnet made', () => {
  it('veth + bridge + master + up', async () => {
    await rt.links.add({ kind: 'bridge', name: 'lkbr1', stp: true, forwardDelay: 400, priority: 4096, up: true })
    await rt.links.add({
      kind: 'veth',
      name: 'lka0',
      mtu: 1400,
      address: '02:00:00:00:20:01',
      txqlen: 500,
      alias: 'to the bridge',
      master: 'lkbr1',
      up: true,
      peer: { name: 'lka1', mtu: 1300, address: '02:00:00:00:20:02' },
    })
    await rt.links.set('lka1', { up: true })
    await rt.links.waitUp('lka0', { timeoutMs: 5000 })
    await rt.links.waitUp('lka1', { timeoutMs: 5000 })

    const a0 = ipLink('lka0')!
    expect(a0).toMatchObject({ mtu: 1400, address: '02:00:00:00:20:01', txqlen: 500, ifalias: 'to the bridge', master: 'lkbr1', link: 'lka1' })
    expect(a0.flags).toEqual(expect.arrayContaining(['UP', 'LOWER_UP']))
    expect(a0.linkinfo).toMatchObject({ info_kind: 'veth', info_slave_kind: 'bridge' })
    expect(ipLink('lka1')).toMatchObject({ mtu: 1300, address: '02:00:00:00:20:02', link: 'lka0', operstate: 'UP' })
    expect(ipLink('lkbr1')!.linkinfo).toMatchObject({ info_kind: 'bridge', info_data: { stp_state: 1, forward_delay: 400, priority: 4096 } })
    for (const n of ['lka0', 'lka1', 'lkbr1']) expectSameAsIp(await rt.links.get(n), ipLink(n))
  })

  it('set(): rename, mtu, address, alias, txqlen, flags, group, nomaster, down', async () => {
    await rt.links.add({ kind: 'bridge', name: 'lkbr2' })
    await rt.links.add({ kind: 'veth', name: 'lks0', peer: { name: 'lks1' }, master: 'lkbr2' })
    await rt.links.set('lks0', {
      name: 'lks9',
      mtu: 1280,
      address: '02:00:00:00:30:01',
      alias: 'renamed',
      txqlen: 77,
      promisc: true,
      arp: false,
      group: 5,
      up: true,
    })
    expect(ipLink('lks0')).toBeUndefined()
    const s9 = ipLink('lks9')!
    expect(s9).toMatchObject({ mtu: 1280, address: '02:00:00:00:30:01', ifalias: 'renamed', txqlen: 77, group: '5', master: 'lkbr2' })
    expect(s9.flags).toEqual(expect.arrayContaining(['NOARP', 'PROMISC', 'UP']))
    expectSameAsIp(await rt.links.get('lks9'), ipLink('lks9'))

    // Leaving a field undefined leaves it alone; null / '' clear.
    await rt.links.set('lks9', { master: null, alias: null, mtu: undefined, promisc: false, arp: true, up: false })
    const after = ipLink('lks9')!
    expect(after.master).toBeUndefined()
    expect(after.ifalias).toBeUndefined()
    expect(after.mtu).toBe(1280)
    expect(after.flags).not.toContain('PROMISC')
    expect(after.flags).not.toContain('NOARP')
    expect(after.flags).not.toContain('UP')
    // By index, and by a Link from list().
    const link = (await rt.links.list()).find((l) => l.ifname === 'lks9')!
    await rt.links.set(link.ifindex, { master: 'lkbr2' })
    expect(ipLink('lks9')!.master).toBe('lkbr2')
    await rt.links.set(link, { name: 'lks8' })
    expect(ipLink('lks8')!.ifindex).toBe(link.ifindex)
  })

  it('set() with no changes only checks that the link exists', async () => {
    await rt.links.add({ kind: 'bridge', name: 'lkbr3' })
    await rt.links.set('lkbr3', {})
    expect((await error(rt.links.set('lknothere', {}))).code).toBe('ENODEV')
  })

  it('vxlan and macvlan on a parent, by name', async () => {
    await rt.links.add({ kind: 'veth', name: 'lkp0', peer: { name: 'lkp1' } })
    await rt.links.add({ kind: 'vxlan', name: 'lkvx1', id: 4242, local: '198.51.100.1', group: '239.1.1.1', dev: 'lkp0', port: 4789, ttl: 8, learning: false })
    await rt.links.add({ kind: 'macvlan', name: 'lkmv1', link: 'lkp1', mode: 'private' })
    const vx = ipLink('lkvx1')!
    expect(vx.linkinfo.info_data).toMatchObject({ id: 4242, local: '198.51.100.1', group: '239.1.1.1', link: 'lkp0', port: 4789, ttl: 8, learning: false })
    expect(ipLink('lkmv1')).toMatchObject({ link: 'lkp1', linkinfo: { info_kind: 'macvlan', info_data: { mode: 'private' } } })
    for (const n of ['lkvx1', 'lkmv1']) expectSameAsIp(await rt.links.get(n), ipLink(n))
  })

  it('add() takes back a Link from list(): same kind, options and parent', async () => {
    ip('link', 'add', 'lkbr4', 'type', 'bridge', 'forward_delay', '700', 'priority', '123', 'mcast_snooping', '0')
    ip('link', 'add', 'lkr0', 'type', 'veth', 'peer', 'name', 'lkr1')
    ip('link', 'add', 'link', 'lkr0', 'name', 'lkmv2', 'type', 'macvlan', 'mode', 'vepa')
    const before = (await rt.links.list()).filter((l) => ['lkbr4', 'lkmv2'].includes(l.ifname))
    for (const l of before) await rt.links.delete(l)
    expect(ipLink('lkbr4')).toBeUndefined()
    for (const l of before) await rt.links.add(l)
    expect(ipLink('lkbr4')!.linkinfo.info_data).toMatchObject({ forward_delay: 700, priority: 123, mcast_snooping: 0 })
    expect(ipLink('lkmv2')).toMatchObject({
      link: 'lkr0',
      address: before.find((l) => l.ifname === 'lkmv2')!.address,
      linkinfo: { info_data: { mode: 'vepa' } },
    })
  })
})

describe('namespaces', () => {
  it('moves a link into a named namespace (IFLA_NET_NS_FD) and closes the fd', async () => {
    await rt.links.add({ kind: 'veth', name: 'lkm0', peer: { name: 'lkm1' } })
    const fds = openNetnsFds()
    await rt.links.set('lkm1', { namespace: NS, name: 'lkm1ns', mtu: 1400 })
    expect(openNetnsFds()).toBe(fds)
    expect(ipLink('lkm1')).toBeUndefined()
    expect(ipLink('lkm1ns', NS)).toMatchObject({ ifname: 'lkm1ns', mtu: 1400, link_netnsid: expect.any(Number) })
    // Our end now points across namespaces: no name, an index and the peer's netnsid.
    const m0 = await rt.links.get('lkm0')
    expect(m0.link).toBeUndefined()
    expect(m0.link_index).toBe(ipLink('lkm1ns', NS)!.ifindex)
    expectSameAsIp(m0, ipLink('lkm0'))
  })

  it('moves a link into the namespace of a process (IFLA_NET_NS_PID)', async () => {
    const sleeper = spawn('ip', ['netns', 'exec', NS, 'sleep', '30'], { stdio: 'ignore' })
    try {
      // Wait until the child has entered the namespace.
      const want = `net:[${statSync(`/run/netns/${NS}`).ino}]`
      for (let i = 0; i < 400; i++) {
        try {
          if (readlinkSync(`/proc/${sleeper.pid}/ns/net`) === want) break
        } catch {}
        await new Promise((r) => setTimeout(r, 5))
      }
      expect(readlinkSync(`/proc/${sleeper.pid}/ns/net`)).toBe(want)
      await rt.links.add({ kind: 'veth', name: 'lkpid0', peer: { name: 'lkpid1' } })
      await rt.links.set('lkpid1', { namespace: { pid: sleeper.pid! } })
      expect(ipLink('lkpid1')).toBeUndefined()
      expect(ipLink('lkpid1', NS)!.linkinfo.info_kind).toBe('veth')
      // A bridge is bound to its namespace (NETIF_F_NETNS_LOCAL): the kernel says EINVAL, we say why.
      await rt.links.add({ kind: 'bridge', name: 'lkpid2' })
      const e = await error(rt.links.set('lkpid2', { namespace: { pid: sleeper.pid! } }))
      expect(e.code).toBe('EINVAL')
      expect(e.hint).toMatch(/cannot leave their namespace/)
      expect(ipLink('lkpid2')).toBeDefined()
    } finally {
      sleeper.kill('SIGKILL')
    }
  })

  it('creates a veth whose peer is born in a named namespace', async () => {
    await rt.links.add({ kind: 'veth', name: 'lkq0', peer: { name: 'lkq1', namespace: NS, mtu: 1360 } })
    expect(ipLink('lkq1')).toBeUndefined()
    expect(ipLink('lkq1', NS)).toMatchObject({ mtu: 1360, link_index: ipLink('lkq0')!.ifindex })
    expectSameAsIp(await rt.links.get('lkq0'), ipLink('lkq0'))
  })

  it('creates a device in a named namespace; a veth peer without namespace stays here', async () => {
    await rt.links.add({ kind: 'bridge', name: 'lkb5', namespace: NS })
    expect(ipLink('lkb5')).toBeUndefined()
    expect(ipLink('lkb5', NS)!.linkinfo.info_kind).toBe('bridge')
    await rt.links.add({ kind: 'veth', name: 'lkn0', namespace: NS, peer: { name: 'lkn1' } })
    expect(ipLink('lkn0', NS)).toBeDefined()
    expect(ipLink('lkn1')).toBeDefined()
    expect(ipLink('lkn0')).toBeUndefined()
  })

  it('a namespace that does not exist: ENOTFOUND naming it, nothing created, fd count unchanged', async () => {
    const fds = openNetnsFds()
    const e1 = await error(rt.links.add({ kind: 'veth', name: 'lkx0', peer: { name: 'lkx1', namespace: 'lk-no-such-ns' } }))
    expect(e1.code).toBe('ENOTFOUND')
    expect(e1.operation).toBe('links.add')
    expect(e1.object).toBe('link lkx0')
    expect(e1.message).toMatch(/lk-no-such-ns/)
    expect(names()).toEqual([])
    await rt.links.add({ kind: 'veth', name: 'lkx2', peer: { name: 'lkx3' } })
    const e2 = await error(rt.links.set('lkx3', { namespace: 'lk-no-such-ns' }))
    expect(e2.code).toBe('ENOTFOUND')
    expect(e2.operation).toBe('links.set')
    expect(ipLink('lkx3')).toBeDefined()
    // Kernel refusal after the fd was opened: the fd is closed all the same.
    ip('-n', NS, 'link', 'add', 'lkx3', 'type', 'bridge')
    const e3 = await error(rt.links.set('lkx3', { namespace: NS }))
    expect(e3.code).toBe('EEXIST')
    expect(ipLink('lkx3')).toBeDefined()
    expect(openNetnsFds()).toBe(fds)
  })
})

describe('errors: typed, named, and nothing half-created', () => {
  it('EEXIST keeps its code and names the link', async () => {
    await rt.links.add({ kind: 'veth', name: 'lke0', peer: { name: 'lke1' } })
    const e = await error(rt.links.add({ kind: 'veth', name: 'lke0', peer: { name: 'lke2' } }))
    expect(e.code).toBe('EEXIST')
    expect(e.object).toBe('link lke0')
    expect(e.operation).toBe('links.add')
    expect(names().sort()).toEqual(['lke0', 'lke1'])
    // The peer's name taken: the whole pair is refused.
    expect((await error(rt.links.add({ kind: 'veth', name: 'lke3', peer: { name: 'lke1' } }))).code).toBe('EEXIST')
    expect(names().sort()).toEqual(['lke0', 'lke1'])
  })

  it('ENODEV for missing links: set, delete, master, parent, vxlan dev', async () => {
    const errs = await Promise.all([rt.links.set('lkgone', { up: true }), rt.links.delete('lkgone'), rt.links.delete(987654)].map(error))
    for (const e of errs) {
      expect(e.code).toBe('ENODEV')
      expect(e.object).toMatch(/^link (lkgone|#987654)$/)
    }
    const m = await error(rt.links.add({ kind: 'veth', name: 'lkd0', peer: { name: 'lkd1' }, master: 'lkgone' }))
    expect(m.code).toBe('ENODEV')
    expect(m.message).toMatch(/master "lkgone" does not exist/)
    expect(m.object).toBe('link lkd0')
    expect((await error(rt.links.add({ kind: 'macvlan', name: 'lkd2', link: 'lkgone' }))).code).toBe('ENODEV')
    expect((await error(rt.links.add({ kind: 'vxlan', name: 'lkd3', id: 1, dev: 'lkgone' }))).code).toBe('ENODEV')
    expect(names()).toEqual([])
  })

  it('bad input is EINVAL_ARGUMENT before anything is sent', async () => {
    const cases: Array<[Promise<unknown>, RegExp]> = [
      [rt.links.add({ kind: 'veth', name: 'lk3456789012345x', peer: { name: 'lky1' } }), /16 bytes; the kernel allows at most 15/],
      [rt.links.add({ kind: 'bridge', name: 'lky2', address: '02:00:00:00:00:zz' }), /address must be a MAC address/],
      [rt.links.add({ kind: 'frobnicator', name: 'lky3' } as any), /unknown link kind "frobnicator"/],
      [rt.links.add({ kind: 'veth', name: 'lky4' } as any), /needs a peer/],
      [rt.links.add({ kind: 'bridge', name: 'lky5', mtu: -1 }), /mtu must be an integer/],
      [rt.links.set('lo', { address: 'nope' }), /address must be a MAC address/],
      [rt.links.set('lo', { name: 'a/b' }), /character the kernel refuses/],
      [rt.links.set('lo', { colour: 'red' } as any), /unknown field "colour"/],
      [rt.links.set('lo', { namespace: NS, master: 'lkbr' }), /cannot set master while moving/],
      [rt.links.set('lo', { namespace: '../etc' }), /namespace/],
      [rt.links.delete({} as any), /expected a link name, ifindex or a Link/],
    ]
    for (const [p, msg] of cases) {
      const e = await error(p)
      expect(e.code, e.message).toBe('EINVAL_ARGUMENT')
      expect(e.message).toMatch(msg)
      expect(e.operation).toMatch(/^links\./)
    }
    expect(names()).toEqual([])
    expect(ipLink('lo')!.address).toBe('00:00:00:00:00:00')
  })

  it('kinds the kernel lacks fail with EUNSUPPORTED (or work, where present)', async () => {
    const specs = [
      { kind: 'dummy', name: 'lku0' },
      { kind: 'vlan', name: 'lku1', link: 'lo', id: 5 },
      { kind: 'bond', name: 'lku2', mode: 'active-backup' },
      { kind: 'vrf', name: 'lku3', table: 1001 },
      { kind: 'ipvlan', name: 'lku4', link: 'lkup0', mode: 'l2' },
      { kind: 'wireguard', name: 'lku5' },
    ] as const
    await rt.links.add({ kind: 'veth', name: 'lkup0', peer: { name: 'lkup1' } })
    for (const spec of specs) {
      const supported = await rt.links.supportsKind(spec.kind)
      if (!supported) {
        const e = await error(rt.links.add(spec))
        expect(e.code).toBe('EUNSUPPORTED')
        expect(e.message).toMatch(new RegExp(`kernel does not support link kind ${spec.kind}`))
        expect(e.object).toBe(`link ${spec.name}`)
        expect(ipLink(spec.name)).toBeUndefined()
      } else {
        await rt.links.add(spec)
        expect(ipLink(spec.name)!.linkinfo.info_kind).toBe(spec.kind)
      }
    }
  })

  it('an option the kernel lacks is not mistaken for a missing kind', async () => {
    // Whether this kernel has bridge VLAN filtering is up to its config; ip is the judge.
    let ipOk = true
    try {
      ip('link', 'add', 'lkf0', 'type', 'bridge', 'vlan_filtering', '1')
    } catch {
      ipOk = false
    }
    if (ipOk) ip('link', 'del', 'lkf0')
    const p = rt.links.add({ kind: 'bridge', name: 'lkf0', vlanFiltering: true })
    if (ipOk) {
      await p
      expect(ipLink('lkf0')!.linkinfo.info_data.vlan_filtering).toBe(1)
    } else {
      const e = await error(p)
      expect(e.code).toBe('EOPNOTSUPP')
      expect(e.hint).toMatch(/has bridge links but refuses one of the options/)
      expect(ipLink('lkf0')).toBeUndefined()
    }
  })
})

describe('kinds this kernel may lack: created and checked with ip where present', () => {
  // Each skips with the kernel's reason when supportsKind() says no (the error path is
  // checked above, for every one of them).
  const cases: Array<[string, Record<string, unknown>, (l: IpLink) => void]> = [
    ['dummy', { kind: 'dummy', name: 'lkdm0', mtu: 9000, up: true }, (l) => expect(l).toMatchObject({ mtu: 9000 })],
    [
      'vlan',
      { kind: 'vlan', name: 'lkvl0', link: 'lkkp0', id: 10, protocol: '802.1ad' },
      (l) => expect(l).toMatchObject({ link: 'lkkp0', linkinfo: { info_data: { protocol: '802.1ad', id: 10 } } }),
    ],
    [
      'bond',
      { kind: 'bond', name: 'lkbd0', mode: 'active-backup', miimon: 100 },
      (l) => expect(l.linkinfo.info_data).toMatchObject({ mode: 'active-backup', miimon: 100 }),
    ],
    ['vrf', { kind: 'vrf', name: 'lkvrf0', table: 1001 }, (l) => expect(l.linkinfo.info_data).toMatchObject({ table: 1001 })],
    [
      'ipvlan',
      { kind: 'ipvlan', name: 'lkipv0', link: 'lkkp0', mode: 'l3' },
      (l) => expect(l).toMatchObject({ link: 'lkkp0', linkinfo: { info_data: { mode: 'l3' } } }),
    ],
    ['wireguard', { kind: 'wireguard', name: 'lkwg0' }, () => {}],
  ]
  for (const [kind, spec, check] of cases) {
    it(kind, async (ctx) => {
      ctx.skip(!(await rt.links.supportsKind(kind)), `kernel does not support link kind ${kind}`)
      await rt.links.add({ kind: 'veth', name: 'lkkp0', peer: { name: 'lkkp1' } })
      await rt.links.add(spec as any)
      const theirs = ipLink(spec.name as string)!
      expect(theirs.linkinfo.info_kind).toBe(kind)
      check(theirs)
      expectSameAsIp(await rt.links.get(spec.name as string), ipLink(spec.name as string))
    })
  }
})

describe('delete()', () => {
  it('accepts a name, an index and a Link from list()', async () => {
    await rt.links.add({ kind: 'bridge', name: 'lkdel0' })
    await rt.links.add({ kind: 'bridge', name: 'lkdel1' })
    await rt.links.add({ kind: 'bridge', name: 'lkdel2' })
    await rt.links.delete('lkdel0')
    await rt.links.delete(ipLink('lkdel1')!.ifindex)
    await rt.links.delete((await rt.links.list()).find((l) => l.ifname === 'lkdel2')!)
    expect(names()).toEqual([])
  })
})

describe('waitUp()', () => {
  it('resolves at once for lo (UNKNOWN with LOWER_UP)', async () => {
    const lo = await rt.links.waitUp('lo', { timeoutMs: 1000 })
    expect(lo.operstate).toBe('UNKNOWN')
  })

  it('times out naming the link and its last state, then resolves once both ends are up', async () => {
    await rt.links.add({ kind: 'veth', name: 'lkw0', peer: { name: 'lkw1' }, up: true })
    const t0 = Date.now()
    const e = await error(rt.links.waitUp('lkw0', { timeoutMs: 60 }))
    expect(Date.now() - t0).toBeLessThan(1000)
    expect(e.code).toBe('ETIMEDOUT')
    expect(e.object).toBe('link lkw0')
    expect(e.message).toMatch(/operstate (DOWN|LOWERLAYERDOWN)/)
    expect(e.message).toMatch(/NO-CARRIER/)
    await rt.links.set('lkw1', { up: true })
    const up = await rt.links.waitUp('lkw0', { timeoutMs: 5000 })
    expect(up.operstate).toBe('UP')
    expect(ipLink('lkw0')!.operstate).toBe('UP')
  })

  it('a link that does not exist times out saying so', async () => {
    const e = await error(rt.links.waitUp('lkwnone', { timeoutMs: 20 }))
    expect(e.code).toBe('ETIMEDOUT')
    expect(e.message).toMatch(/does not exist/)
  })
})
