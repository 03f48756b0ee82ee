// Concurrent individual calls are packed by the engine into few datagrams (self-batching):
// each still gets its own answer and error, calls on one object keep their order, and the
// kernel ends up holding exactly what was asked (checked with `ip -j route show`).
import { execFileSync } from 'node:child_process'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { NsnetError } from '../../../src/netlink/errors.js'
import { Rtnl } from '../../../src/rtnl.js'

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8', maxBuffer: 256 << 20 })
const ipRoutes = (...args: string[]): Array<{ dst: string; gateway?: string; dev?: string }> => JSON.parse(ip('-j', 'route', 'show', ...args) || '[]')

const DEV = 'sbA0',
  PEER = 'sbA1'
let rt: Rtnl

beforeAll(async () => {
  rt = await Rtnl.open()
  ip('link', 'add', DEV, 'type', 'veth', 'peer', 'name', PEER)
  ip('link', 'set', DEV, 'up')
  ip('link', 'set', PEER, 'up')
  ip('addr', 'add', '10.77.0.1/24', 'dev', DEV)
})

afterAll(async () => {
  try {
    ip('link', 'del', DEV)
  } catch {}
  await rt?.close()
})

afterEach(() => {
  ip('route', 'flush', 'proto', 'static')
})

/** The i-th of a set of distinct /32s in 198.18.0.0/15. */
const dst = (i: number) => `198.18.${i >> 8}.${i & 255}/32`
const dstIp = (i: number) => dst(i).slice(0, -3)

describe('self-batching of concurrent calls', () => {
  it('5,000 concurrent adds, every 7th refused by the kernel: each call gets exactly its own answer', async () => {
    const n = 5000
    // Every 7th route is there already (EEXIST), every 11th names a gateway off every link (ENETUNREACH).
    const lines: string[] = []
    for (let i = 0; i < n; i += 7) lines.push(`route add ${dst(i)} via 10.77.0.2 proto static`)
    execFileSync('ip', ['-batch', '-'], { input: lines.join('\n') + '\n' })
    const fate = (i: number) => (i % 7 === 0 ? 'EEXIST' : i % 11 === 0 ? 'ENETUNREACH' : 'ok')
    const results = await Promise.allSettled(
      Array.from({ length: n }, (_, i) =>
        rt.routes.add({
          dst: dst(i),
          gateway: i % 11 === 0 && i % 7 !== 0 ? '192.0.2.1' : '10.77.0.2',
          dev: DEV,
          protocol: 'static',
        }),
      ),
    )
    const got = results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as NsnetError).code))
    expect(got).toEqual(Array.from({ length: n }, (_, i) => fate(i)))
    // The error names its own route.
    const e = results[11] as PromiseRejectedResult
    expect((e.reason as NsnetError).object).toContain(dst(11).slice(0, -3))
    const held = new Set(ipRoutes('proto', 'static').map((r) => r.dst))
    for (let i = 0; i < n; i++) expect(held.has(dstIp(i)), `route ${dst(i)}`).toBe(fate(i) !== 'ENETUNREACH')
  }, 120_000)

  it('calls on the same object keep their order: add then delete leaves nothing, add then replace the second gateway', async () => {
    const n = 300
    const calls: Promise<void>[] = []
    for (let i = 0; i < n; i++) {
      const r = { dst: dst(i), gateway: '10.77.0.2', dev: DEV, protocol: 'static' as const }
      calls.push(rt.routes.add(r))
      if (i % 2 === 0) calls.push(rt.routes.delete(r))
      else calls.push(rt.routes.replace({ ...r, gateway: '10.77.0.3' }))
    }
    await Promise.all(calls)
    const held = ipRoutes('proto', 'static')
    expect(held.map((r) => [r.dst, r.gateway]).sort()).toEqual(
      Array.from({ length: n }, (_, i) => i)
        .filter((i) => i % 2 === 1)
        .map((i) => [dstIp(i), '10.77.0.3'])
        .sort(),
    )
  }, 60_000)

  it('concurrent lookups of one link name share a request; a renamed link is seen by the next call', async () => {
    const idx = await Promise.all(Array.from({ length: 200 }, () => rt.links.get(DEV).then((l) => l.ifindex)))
    expect(new Set(idx).size).toBe(1)
    ip('link', 'set', PEER, 'down')
    ip('link', 'set', PEER, 'name', 'sbA9')
    try {
      await expect(rt.links.get(PEER)).rejects.toMatchObject({ code: 'ENODEV' })
      expect((await rt.links.get('sbA9')).ifname).toBe('sbA9')
    } finally {
      ip('link', 'set', 'sbA9', 'name', PEER)
      ip('link', 'set', PEER, 'up')
    }
  }, 60_000)
})

describe('routes.stream', () => {
  it('yields what list() returns; leaving early lets the next dump run', async () => {
    const n = 3000
    await rt.routes.addMany(Array.from({ length: n }, (_, i) => ({ dst: dst(i), gateway: '10.77.0.2', protocol: 'static' as const })))
    const listed = await rt.routes.list({ protocol: 'static' })
    const streamed = []
    for await (const r of rt.routes.stream({ protocol: 'static' })) streamed.push(r)
    expect(streamed).toEqual(listed)
    expect(streamed.length).toBe(n)
    let seen = 0
    for await (const _r of rt.routes.stream()) if (++seen === 10) break
    expect((await rt.routes.list({ protocol: 'static' })).length).toBe(n)
    expect(ipRoutes('proto', 'static').length).toBe(n)
  }, 60_000)
})
