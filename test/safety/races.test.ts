// Issue 8, item 2: Topology.up() calls racing for overlapping names, in one process and in
// many. At most one lab owns each name, every loser fails with EEXIST naming the object, and
// nothing of the winners is touched. On the old code the loser's `ip netns add` failed with
// EEXIST (it had made nothing), yet its rollback deleted the winner's namespace by name.
import { spawn } from 'node:child_process'
import { afterEach, expect, test } from 'vitest'
import { NsnetError } from '../../src/netlink/errors.js'
import { fileKey, type RunMarker, readMarker } from '../../src/topology/marker.js'
import type { TopologySpec } from '../../src/topology/spec.js'
import { Topology } from '../../src/topology/topology.js'
import { ensureHelperBundle, ipj, runNetnsEntries } from '../netns/support.js'

await ensureHelperBundle()

afterEach(() => {
  expect(runNetnsEntries()).toEqual([])
  expect(ipj<Array<{ ifname: string }>>('link').map((l) => l.ifname)).toEqual(['lo'])
})

/** Hosts on a bridge of the current namespace (local veth ends v-HOST). */
function star(name: string, bridge: string, hosts: string[], net: number): TopologySpec {
  return {
    name,
    hosts: hosts.map((h) => ({ name: h })),
    bridges: [{ name: bridge, addresses: [`10.${net}.0.1/24`] }],
    links: hosts.map((h, i) => ({ a: { node: h, addresses: [`10.${net}.0.${i + 2}/24`] }, b: bridge })),
  }
}

/** Two namespaces wired to each other (nothing in the current namespace). */
function pair(name: string, a: string, b: string, net: number): TopologySpec {
  return {
    name,
    hosts: [{ name: a }, { name: b }],
    links: [{ a: { node: a, addresses: [`10.${net}.0.1/24`] }, b: { node: b, addresses: [`10.${net}.0.2/24`] } }],
  }
}

// Overlaps: A and B share namespace r2 (and so local link v-r2); A and C share bridge br-r;
// D is A again; E and F share only namespace p2 (so exactly one of them can win).
const specs = [
  star('race-a', 'br-r', ['r1', 'r2'], 20),
  star('race-b', 'br-q', ['r2', 'r3'], 21),
  star('race-c', 'br-r', ['r4'], 22),
  star('race-d', 'br-r', ['r1', 'r2'], 23),
  pair('race-e', 'p1', 'p2', 24),
  pair('race-f', 'p3', 'p2', 25),
]

/** The names a marker's run owns now, by identity (namespaces by inode, links by ifindex + alias). */
function owned(m: RunMarker): string[] {
  const live = new Map(ipj<Array<{ ifname: string; ifindex: number; ifalias?: string }>>('link').map((l) => [l.ifname, l]))
  const out: string[] = []
  for (const n of m.namespaces) {
    expect(n.key).toBeDefined()
    expect(fileKey(`/run/netns/${n.name}`)).toBe(n.key)
    out.push(`netns ${n.name}`)
  }
  for (const l of m.links) {
    expect(live.get(l.name)).toMatchObject({ ifindex: l.ifindex, ifalias: `nsnet:${m.runId}` })
    out.push(`link ${l.name}`)
  }
  return out
}

function checkOutcome(outcomes: Array<{ ok: true; runId: string } | { ok: false; code: string; message: string }>): RunMarker[] {
  const winners: RunMarker[] = []
  for (const o of outcomes) {
    if (o.ok) {
      winners.push(readMarker(o.runId)!)
      continue
    }
    expect(o.code).toBe('EEXIST')
    // It names what was taken: a namespace or link of the specs.
    expect(o.message).toMatch(/\b(r[1-4]|p[1-3]|br-[rq]|v-r[1-4])\b/)
  }
  const owners = new Map<string, string>()
  for (const m of winners) {
    expect(m.complete).toBe(true)
    for (const name of owned(m)) {
      expect(owners.get(name), `${name} owned twice`).toBeUndefined()
      owners.set(name, m.runId)
    }
  }
  // E and F overlap in p2 alone, and nothing else takes p1, p3: one of them must have won.
  expect(winners.filter((m) => m.name === 'race-e' || m.name === 'race-f')).toHaveLength(1)
  return winners
}

test('in one process (Promise.all): one owner per name, losers EEXIST, winners untouched', async () => {
  const settled = await Promise.allSettled(specs.map((s) => Topology.up(s)))
  const labs = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []))
  try {
    const winners = checkOutcome(
      settled.map((s) =>
        s.status === 'fulfilled'
          ? { ok: true as const, runId: s.value.runId }
          : { ok: false as const, code: (s.reason as NsnetError).code, message: String((s.reason as Error).message) },
      ),
    )
    expect(settled.filter((s) => s.status === 'rejected').every((s) => (s as PromiseRejectedResult).reason instanceof NsnetError)).toBe(true)
    // The winners still work: their helpers were not closed, their wires are there.
    for (const lab of labs) {
      const hosts = lab.spec.hosts.filter((h) => h.netns !== null).map((h) => h.node)
      expect((await (await lab.rtnl(hosts[0]!)).links.list()).map((l) => l.ifname).sort()).toEqual(['eth0', 'lo'])
      expect((await lab.ping(hosts[0]!, lab.spec.bridges[0]?.node ?? hosts[1]!)).ok).toBe(true)
    }
    expect(winners.length).toBeGreaterThan(0)
  } finally {
    for (const lab of labs) await lab.down()
  }
}, 120_000)

test('across processes: one owner per name, losers EEXIST, winners untouched', async () => {
  const children = specs.map((spec) =>
    spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `
    const { Topology } = await import(${JSON.stringify(new URL('../../src/topology/topology.ts', import.meta.url).href)})
    let lab
    // Loaded; now wait for the parent's go, so that all the up() calls start together.
    console.log('ready')
    await new Promise((r) => process.stdin.once('data', r))
    try {
      lab = await Topology.up(${JSON.stringify(spec)})
      console.log(JSON.stringify({ ok: true, runId: lab.runId }))
    } catch (e) {
      console.log(JSON.stringify({ ok: false, code: e.code, message: e.message }))
    }
    // Stay up until the parent has looked, then take the lab down.
    process.stdin.on('end', async () => { if (lab) await lab.down(); process.exit(0) })
  `,
      ],
      { cwd: new URL('../../', import.meta.url).pathname, stdio: ['pipe', 'pipe', 'inherit'] },
    ),
  )
  const exited = children.map((c) => new Promise<void>((r) => c.once('exit', () => r())))
  try {
    const lines = children.map((c) => {
      const queue: string[] = []
      const waiting: Array<(l: string) => void> = []
      let out = ''
      c.stdout!.on('data', (d: Buffer) => {
        out += d
        for (let i: number; (i = out.indexOf('\n')) >= 0; out = out.slice(i + 1)) {
          const l = out.slice(0, i)
          const w = waiting.shift()
          if (w) w(l)
          else queue.push(l)
        }
      })
      return () =>
        new Promise<string>((resolve, reject) => {
          const l = queue.shift()
          if (l !== undefined) return resolve(l)
          waiting.push(resolve)
          c.once('exit', (code) => reject(new Error(`child exited ${code} before it reported`)))
        })
    })
    expect(await Promise.all(lines.map((next) => next()))).toEqual(specs.map(() => 'ready'))
    for (const c of children) c.stdin!.write('go\n')
    const outcomes = await Promise.all(
      lines.map(async (next) => JSON.parse(await next()) as { ok: true; runId: string } | { ok: false; code: string; message: string }),
    )
    const winners = checkOutcome(outcomes)
    expect(winners.length).toBeGreaterThan(0)
    // The winners' namespaces answer (their helpers live in the children; ask with ip).
    for (const m of winners) {
      for (const n of m.namespaces)
        expect(
          ipj<Array<{ ifname: string }>>('-n', n.name, 'link')
            .map((l) => l.ifname)
            .sort(),
        ).toEqual(['eth0', 'lo'])
    }
  } finally {
    for (const c of children) c.stdin!.end()
    await Promise.all(exited)
  }
}, 120_000)
