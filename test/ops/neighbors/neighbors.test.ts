// Neighbour entries against `ip -j neigh` as the oracle, both directions.
import { execFileSync } from 'node:child_process'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { parseMessages } from '../../../src/netlink/codec.js'
import { isNsnetError, type NsnetErrorCode } from '../../../src/netlink/errors.js'
import { decodeNeighbor, type Neighbor } from '../../../src/ops/neighbors/operations.js'
import { Rtnl } from '../../../src/rtnl.js'

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' })
const ipJson = (...args: string[]): Array<Record<string, unknown>> => JSON.parse(ip('-j', ...args) || '[]')

/** Our object in `ip -j neigh show` shape (flags become ip's nulls). */
function asIp(n: Neighbor): Record<string, unknown> {
  const o: Record<string, unknown> = { dst: n.dst, dev: n.dev }
  if (n.lladdr) o.lladdr = n.lladdr
  if (n.router) o.router = null
  if (n.proxy) o.proxy = null
  if (n.managed) o.managed = null
  if (n.extern_learn) o.extern_learn = null
  if (n.offload) o.offload = null
  if (n.state) o.state = n.state
  return o
}

const sortKey = (o: Record<string, unknown>) => `${o.dev} ${o.dst}`
const sorted = <T extends Record<string, unknown>>(a: T[]) => [...a].sort((x, y) => sortKey(x).localeCompare(sortKey(y)))

let rt: Rtnl
const A = 'nbA0',
  B = 'nbA1'

beforeAll(async () => {
  rt = await Rtnl.open()
  ip('link', 'add', A, 'type', 'veth', 'peer', 'name', B)
  ip('link', 'set', A, 'up')
  ip('link', 'set', B, 'up')
  ip('addr', 'add', '10.9.0.1/24', 'dev', A)
  ip('addr', 'add', '2001:db8:9::1/64', 'dev', A, 'nodad')
})

afterAll(async () => {
  try {
    ip('link', 'del', A)
  } catch {}
  await rt?.close()
})

afterEach(() => {
  // Remove what a test made on our links; kernel-made entries (ff02::...) come back by themselves.
  // (`ip neigh flush` leaves NOARP entries behind, so delete one by one.)
  for (const n of ipJson('neigh', 'show', 'nud', 'all', 'dev', A)) {
    if (!kernelMade(n.dst)) ip('neigh', 'del', String(n.dst), 'dev', A)
  }
  for (const p of ipJson('neigh', 'show', 'proxy')) ip('neigh', 'del', 'proxy', String(p.dst), 'dev', String(p.dev))
})

/**
 * Entries the kernel makes by itself, at any moment: NOARP entries for multicast groups the
 * link joined (IPv6 solicited-node ff02::1:ffXX:XXXX and friends, IPv4 224.0.0.0/4).
 * Comparisons leave them out, or one that appears between two reads fails the test.
 */
const kernelMade = (dst: unknown): boolean => /^ff[0-9a-f]{2}:/i.test(String(dst)) || /^2(2[4-9]|3[0-9])\./.test(String(dst))
const ours = (entries: Neighbor[]) => sorted(entries.filter((n) => n.dev === A && !kernelMade(n.dst)).map(asIp))
const mineOnly = (entries: Array<Record<string, unknown>>) => sorted(entries.filter((n) => n.dev === A && !kernelMade(n.dst)))
const theirs = (...extra: string[]) => mineOnly(ipJson('neigh', 'show', 'nud', 'all', ...extra))

describe('neighbors', () => {
  it('what nsnet adds, ip -j neigh shows identically', async () => {
    await rt.neighbors.add({ dst: '10.9.0.2', lladdr: '02:00:00:00:09:02', dev: A })
    await rt.neighbors.add({ dst: '10.9.0.3', lladdr: '02:00:00:00:09:03', dev: A, state: 'reachable' })
    await rt.neighbors.add({ dst: '10.9.0.4', lladdr: '02:00:00:00:09:04', dev: A, state: 'stale', router: true })
    await rt.neighbors.add({ dst: '10.9.0.5', lladdr: '02:00:00:00:09:05', dev: A, state: 'noarp' })
    await rt.neighbors.add({ dst: '2001:db8:9::2', lladdr: '02:00:00:00:09:06', dev: A, router: true })
    const listed = ipJson('neigh', 'show', 'nud', 'all', 'dev', A)
    const byDst = new Map(listed.map((n) => [n.dst, n]))
    expect(byDst.get('10.9.0.2')).toEqual({ dst: '10.9.0.2', lladdr: '02:00:00:00:09:02', state: ['PERMANENT'] })
    expect(byDst.get('10.9.0.3')).toEqual({ dst: '10.9.0.3', lladdr: '02:00:00:00:09:03', state: ['REACHABLE'] })
    expect(byDst.get('10.9.0.4')).toEqual({ dst: '10.9.0.4', lladdr: '02:00:00:00:09:04', router: null, state: ['STALE'] })
    expect(byDst.get('10.9.0.5')).toEqual({ dst: '10.9.0.5', lladdr: '02:00:00:00:09:05', state: ['NOARP'] })
    expect(byDst.get('2001:db8:9::2')).toEqual({ dst: '2001:db8:9::2', lladdr: '02:00:00:00:09:06', router: null, state: ['PERMANENT'] })
    // and the full list matches in both views
    expect(ours(await rt.neighbors.list())).toEqual(theirs())
  })

  it('what ip adds, nsnet decodes identically', async () => {
    ip('neigh', 'add', '10.9.0.12', 'lladdr', '02:00:00:00:09:12', 'dev', A)
    ip('neigh', 'add', '10.9.0.13', 'lladdr', '02:00:00:00:09:13', 'dev', A, 'nud', 'stale', 'router')
    ip('neigh', 'add', '10.9.0.14', 'dev', A, 'nud', 'failed')
    ip('neigh', 'add', '10.9.0.15', 'lladdr', '02:00:00:00:09:15', 'dev', A, 'extern_learn')
    ip('neigh', 'add', '2001:db8:9::12', 'lladdr', '02:00:00:00:09:16', 'dev', A, 'nud', 'reachable')
    const list = await rt.neighbors.list({ link: A })
    expect(ours(list)).toEqual(theirs())
    const e = list.find((n) => n.dst === '10.9.0.13')!
    expect(e).toMatchObject({ family: 'inet', dev: A, router: true, state: ['STALE'] })
    expect(Object.isFrozen(e)).toBe(true)
    expect(list.find((n) => n.dst === '2001:db8:9::12')!.family).toBe('inet6')
    expect(list.find((n) => n.dst === '10.9.0.15')!.extern_learn).toBe(true)
    // JSON-serialisable, nothing lost
    expect(JSON.parse(JSON.stringify(list))).toEqual(list)
  })

  it('filters by family, link and state like ip does', async () => {
    ip('neigh', 'add', '10.9.0.22', 'lladdr', '02:00:00:00:09:22', 'dev', A)
    ip('neigh', 'add', '10.9.0.23', 'lladdr', '02:00:00:00:09:23', 'dev', A, 'nud', 'stale')
    ip('neigh', 'add', '2001:db8:9::22', 'lladdr', '02:00:00:00:09:24', 'dev', A)
    const six = mineOnly(ipJson('-6', 'neigh', 'show', 'nud', 'all'))
    expect(six.some((n) => n.dst === '2001:db8:9::22')).toBe(true)
    expect(ours(await rt.neighbors.list({ family: 6 }))).toEqual(six)
    expect((await rt.neighbors.list({ family: 4, link: A })).map((n) => n.dst).sort()).toEqual(['10.9.0.22', '10.9.0.23'])
    expect(ours(await rt.neighbors.list({ state: 'stale' }))).toEqual(mineOnly(ipJson('neigh', 'show', 'nud', 'stale')))
    expect(ours(await rt.neighbors.list({ state: ['permanent'], family: 4 }))).toEqual(mineOnly(ipJson('-4', 'neigh', 'show', 'nud', 'permanent')))
    expect(await rt.neighbors.list({ link: B, family: 4 })).toEqual([])
  })

  it('replace overwrites, delete takes what list() returned', async () => {
    await rt.neighbors.add({ dst: '10.9.0.31', lladdr: '02:00:00:00:09:31', dev: A })
    await rt.neighbors.replace({ dst: '10.9.0.31', lladdr: '02:00:00:00:09:99', dev: A, state: 'reachable' })
    expect(ipJson('neigh', 'show', '10.9.0.31', 'dev', A)).toEqual([{ dst: '10.9.0.31', lladdr: '02:00:00:00:09:99', state: ['REACHABLE'] }])
    await rt.neighbors.replace({ dst: '10.9.0.32', lladdr: '02:00:00:00:09:32', dev: A }) // replace creates too
    const list = await rt.neighbors.list({ link: A, family: 4 })
    expect(list.map((n) => n.dst).sort()).toEqual(['10.9.0.31', '10.9.0.32'])
    for (const n of list) await rt.neighbors.delete(n)
    expect(ipJson('-4', 'neigh', 'show', 'nud', 'all', 'dev', A)).toEqual([])
  })

  it('proxy entries: add, list and delete as `ip neigh ... proxy`', async () => {
    await rt.neighbors.add({ dst: '10.9.0.41', dev: A, proxy: true })
    ip('neigh', 'add', 'proxy', '2001:db8:9::41', 'dev', A)
    const mine = await rt.neighbors.list({ proxy: true })
    expect(sorted(mine.map(asIp))).toEqual(sorted(ipJson('neigh', 'show', 'proxy')))
    expect(mine.map((n) => n.dst).sort()).toEqual(['10.9.0.41', '2001:db8:9::41'])
    // proxies are not in the normal list, as with ip
    expect((await rt.neighbors.list({ link: A })).some((n) => n.dst === '10.9.0.41')).toBe(false)
    for (const n of mine) await rt.neighbors.delete(n)
    expect(ipJson('neigh', 'show', 'proxy')).toEqual([])
  })

  it('bad input is refused before anything is sent; kernel errors keep their errno name', async () => {
    await rt.neighbors.add({ dst: '10.9.0.51', lladdr: '02:00:00:00:09:51', dev: A })
    const before = theirs()
    const cases: Array<[Parameters<typeof rt.neighbors.add>[0], NsnetErrorCode]> = [
      [{ dst: '10.9.0.52', lladdr: '02:00:00:00:09', dev: A }, 'EINVAL_ARGUMENT'],
      [{ dst: '10.9.0.52', lladdr: 'zz:00:00:00:09:52', dev: A }, 'EINVAL_ARGUMENT'],
      [{ dst: '10.9.0.999', lladdr: '02:00:00:00:09:52', dev: A }, 'EINVAL_ARGUMENT'],
      [{ dst: 'fe80::1::2', lladdr: '02:00:00:00:09:52', dev: A }, 'EINVAL_ARGUMENT'],
      [{ dst: '10.9.0.52', lladdr: '02:00:00:00:09:52' }, 'EINVAL_ARGUMENT'],
      [{ dst: '10.9.0.52', lladdr: '02:00:00:00:09:52', dev: A, state: 'sleepy' }, 'EINVAL_ARGUMENT'],
      [{ dst: '10.9.0.52', lladdr: '02:00:00:00:09:52', dev: 'nosuchdev0' }, 'ENODEV'],
      [{ dst: '10.9.0.51', lladdr: '02:00:00:00:09:51', dev: A }, 'EEXIST'],
    ]
    for (const [spec, code] of cases) {
      const err = await rt.neighbors.add(spec).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(isNsnetError(err, code), `${JSON.stringify(spec)} → ${String(err)}`).toBe(true)
      const e = err as { operation?: string; object?: string; message: string }
      expect(e.operation).toBe('neighbors.add')
      if (code === 'EINVAL_ARGUMENT') expect(e.object).toContain('neighbour')
    }
    const gone = await rt.neighbors.delete({ dst: '10.9.0.77', dev: A }).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(isNsnetError(gone, 'ENOENT')).toBe(true)
    expect(theirs()).toEqual(before)
  })

  it('decodeNeighbor is pure: decodes a captured kernel message without names', async () => {
    ip('neigh', 'add', '10.9.0.61', 'lladdr', '02:00:00:00:09:61', 'dev', A, 'nud', 'reachable')
    const [n] = (await rt.neighbors.list({ link: A })).filter((x) => x.dst === '10.9.0.61')
    // Rebuild the message by hand (ndmsg + NDA_DST + NDA_LLADDR) and decode it without names.
    const b = Buffer.alloc(16 + 12 + 8 + 12)
    b.writeUInt32LE(b.length, 0)
    b.writeUInt16LE(28, 4)
    b[16] = 2
    b.writeInt32LE(n!.ifindex, 20)
    b.writeUInt16LE(0x02, 24)
    b[26] = 0x80
    b.writeUInt16LE(8, 28)
    b.writeUInt16LE(1, 30)
    Buffer.from([10, 9, 0, 61]).copy(b, 32)
    b.writeUInt16LE(10, 36)
    b.writeUInt16LE(2, 38)
    Buffer.from('020000000961', 'hex').copy(b, 40)
    const [m] = parseMessages(b)
    expect(decodeNeighbor(m!)).toEqual({
      family: 'inet',
      dst: '10.9.0.61',
      ifindex: n!.ifindex,
      lladdr: '02:00:00:00:09:61',
      state: ['REACHABLE'],
      router: true,
    })
  })
})
