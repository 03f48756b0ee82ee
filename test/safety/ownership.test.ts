// Issue 8, item 1: ownership is exact. A run's marker lists what it plans (names only) before
// it makes anything, and the identity of each object the moment it is made; reap() removes
// an object only when that identity matches. On the old code an owner killed early in up()
// left a marker whose names alone matched: reap() deleted a namespace another program had
// made with one of those names, SIGKILLed the process inside it, deleted a foreign bridge,
// and deleted a namespace of a live nsnet run.
import { type ChildProcess, spawn } from 'node:child_process'
import { statSync } from 'node:fs'
import { afterEach, expect, test } from 'vitest'
import { fileKey, readMarker } from '../../src/topology/marker.js'
import { reap } from '../../src/topology/reap.js'
import { Topology } from '../../src/topology/topology.js'
import { alive, ensureHelperBundle, ip, ipj, runNetnsEntries, waitFor } from '../netns/support.js'

await ensureHelperBundle()

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) {
    try {
      await c()
    } catch {
      /* best effort */
    }
  }
})

const inode = (name: string) => statSync(`/run/netns/${name}`).ino
const links = () => ipj<Array<{ ifname: string; ifindex: number }>>('link')
const linkNames = () =>
  links()
    .map((l) => l.ifname)
    .sort()

/**
 * Runs Topology.up(spec) in a child process that SIGKILLs itself at the `killAt`-th step
 * (sequential build). Resolves with the run id it wrote its marker under.
 */
async function dieDuringUp(spec: unknown, killAt: number): Promise<string> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      `
    const { Topology } = await import(${JSON.stringify(new URL('../../src/topology/topology.ts', import.meta.url).href)})
    const { listMarkers } = await import(${JSON.stringify(new URL('../../src/topology/marker.ts', import.meta.url).href)})
    let n = 0
    await Topology.up(${JSON.stringify(spec)}, { sequential: true, onStep: () => {
      if (++n === ${killAt}) {
        console.log(listMarkers().find((m) => m.pid === process.pid).runId)
        process.kill(process.pid, 'SIGKILL')
      }
    } })
  `,
    ],
    { cwd: new URL('../../', import.meta.url).pathname, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  let out = ''
  child.stdout!.on('data', (d: Buffer) => {
    out += d
  })
  const [, signal] = await new Promise<[number | null, string | null]>((r) => child.once('exit', (c, s) => r([c, s])))
  expect(signal).toBe('SIGKILL')
  return out.trim()
}

/** A process somebody else started inside `ns`; resolves once it is in there. */
async function foreignSleeper(ns: string): Promise<ChildProcess> {
  const c = spawn('ip', ['netns', 'exec', ns, 'sleep', '600'], { stdio: 'ignore', detached: true })
  cleanups.push(() => {
    try {
      process.kill(c.pid!, 'SIGKILL')
    } catch {
      /* gone */
    }
  })
  const inside = () => {
    try {
      return statSync(`/proc/${c.pid}/ns/net`).ino === inode(ns)
    } catch {
      return false
    }
  }
  expect(await waitFor(inside, 10_000)).toBe(true)
  return c
}

const doomed = {
  name: 'doomed',
  hosts: [{ name: 'fa' }, { name: 'fb', processes: [{ name: 'srv', command: ['sleep', '600'] }] }, { name: 'fc' }],
  bridges: [{ name: 'br-f', addresses: ['10.8.0.1/24'] }],
  links: [
    { a: { node: 'fa', addresses: ['10.8.0.2/24'] }, b: 'br-f' },
    { a: { node: 'fb', addresses: ['10.8.0.3/24'] }, b: 'br-f' },
    { a: { node: 'fc', addresses: ['10.8.0.4/24'] }, b: 'br-f' },
  ],
}

test('reap after an owner died early in up(): what it made goes, foreign objects with its planned names stay', async () => {
  // Killed at the second step: namespace fa is made (and recorded), the rest only planned.
  const runId = await dieDuringUp(doomed, 2)
  const m = readMarker(runId)!
  expect(m.namespaces.map((n) => [n.name, n.key !== undefined])).toEqual([
    ['fa', true],
    ['fb', false],
    ['fc', false],
  ])
  expect(m.links.map((l) => l.name).sort()).toEqual(['br-f', 'v-fa', 'v-fb', 'v-fc'])
  expect(m.links.every((l) => l.ifindex === undefined)).toBe(true)
  expect(m.processes).toEqual([{ host: 'fb', name: 'srv', pid: 0, start: '' }])
  expect(runNetnsEntries()).toEqual(['fa'])
  cleanups.push(() => ip('netns', 'del', 'fa'))

  // Others now use the names it planned: a namespace with a process inside, a bridge and a
  // veth made by someone else, and a live nsnet lab owning fc and v-fc.
  ip('netns', 'add', 'fb')
  cleanups.push(() => ip('netns', 'del', 'fb'))
  const sleeper = await foreignSleeper('fb')
  ip('link', 'add', 'br-f', 'type', 'bridge')
  cleanups.push(() => ip('link', 'del', 'br-f'))
  ip('link', 'add', 'v-fb', 'type', 'veth', 'peer', 'name', 'v-fb-peer')
  cleanups.push(() => ip('link', 'del', 'v-fb'))
  const live = await Topology.up({
    name: 'live',
    hosts: [{ name: 'fc' }],
    links: [{ a: { node: 'fc', addresses: ['10.9.0.2/24'] }, b: { node: 'host', ifname: 'v-fc', addresses: ['10.9.0.1/24'] } }],
  })
  cleanups.push(() => live.down())
  expect(await waitFor(() => alive(sleeper.pid!), 5000)).toBe(true)
  const before = { fb: inode('fb'), fc: inode('fc'), links: links().filter((l) => ['br-f', 'v-fb', 'v-fb-peer', 'v-fc'].includes(l.ifname)) }

  const results = await reap()
  expect(results.find((r) => r.runId === runId)?.status).toBe('removed')
  expect(results.find((r) => r.runId === live.runId)?.status).toBe('alive')

  // Only fa went; everything foreign is exactly as it was.
  expect(runNetnsEntries()).toEqual(['fb', 'fc'])
  expect({ fb: inode('fb'), fc: inode('fc'), links: links().filter((l) => ['br-f', 'v-fb', 'v-fb-peer', 'v-fc'].includes(l.ifname)) }).toEqual(before)
  expect(alive(sleeper.pid!)).toBe(true)
  expect((await live.ping('host', 'fc')).ok).toBe(true)
  expect(readMarker(runId)).toBeUndefined()
}, 90_000)

test('reap after an owner died before making anything removes nothing but its marker', async () => {
  const runId = await dieDuringUp(doomed, 1)
  expect(readMarker(runId)!.namespaces.every((n) => n.key === undefined)).toBe(true)
  ip('netns', 'add', 'fa')
  cleanups.push(() => ip('netns', 'del', 'fa'))
  const sleeper = await foreignSleeper('fa')
  ip('link', 'add', 'br-f', 'type', 'bridge')
  cleanups.push(() => ip('link', 'del', 'br-f'))
  expect(await waitFor(() => alive(sleeper.pid!), 5000)).toBe(true)
  const ino = inode('fa')

  const r = (await reap()).find((x) => x.runId === runId)!
  expect(r.status).toBe('removed')
  expect(r.report!.removed).toEqual([])
  expect(runNetnsEntries()).toEqual(['fa'])
  expect(inode('fa')).toBe(ino)
  expect(linkNames()).toContain('br-f')
  expect(alive(sleeper.pid!)).toBe(true)
}, 90_000)

test('a complete run records every identity before up() returns; down() leaves what replaced its objects', async () => {
  const lab = await Topology.up({
    name: 'exact',
    hosts: [{ name: 'ea', processes: [{ name: 'srv', command: ['sleep', '600'] }] }, { name: 'eb' }],
    bridges: [{ name: 'br-e', addresses: ['10.8.1.1/24'] }],
    links: [
      { a: { node: 'ea', addresses: ['10.8.1.2/24'] }, b: 'br-e' },
      { a: { node: 'eb', addresses: ['10.8.1.3/24'] }, b: 'br-e' },
    ],
  })
  cleanups.push(() => lab.down())
  const m = readMarker(lab.runId)!
  expect(m.namespaces.map((n) => n.key)).toEqual([fileKey('/run/netns/ea'), fileKey('/run/netns/eb')])
  expect(m.namespaces.every((n) => n.key?.startsWith(`${statSync(`/run/netns/${n.name}`).dev}:${inode(n.name)}:`))).toBe(true)
  const byName = new Map(links().map((l) => [l.ifname, l.ifindex]))
  for (const l of m.links) expect(l.ifindex).toBe(byName.get(l.name))
  expect(m.processes).toHaveLength(1)
  expect(m.processes[0]!.pid).toBeGreaterThan(0)

  // Somebody replaces eb and br-e behind the lab's back: down() must leave theirs.
  ip('netns', 'del', 'eb')
  ip('netns', 'add', 'eb')
  cleanups.push(() => ip('netns', 'del', 'eb'))
  ip('link', 'del', 'br-e')
  ip('link', 'add', 'br-e', 'type', 'bridge')
  cleanups.push(() => ip('link', 'del', 'br-e'))
  const ino = inode('eb')
  await lab.down()
  expect(runNetnsEntries()).toEqual(['eb'])
  expect(inode('eb')).toBe(ino)
  expect(linkNames()).toContain('br-e')
}, 90_000)

test('netns removeMany with keys leaves a name that now refers to another namespace (and the processes inside)', async () => {
  const { removeMany } = await import('../../src/netns/lifecycle.js')
  ip('netns', 'add', 'ka')
  const key = fileKey('/run/netns/ka')!
  ip('netns', 'del', 'ka')
  ip('netns', 'add', 'ka')
  cleanups.push(() => ip('netns', 'del', 'ka'))
  const sleeper = await foreignSleeper('ka')
  expect(await waitFor(() => alive(sleeper.pid!), 5000)).toBe(true)
  const failed = await removeMany(['ka'], { kill: true, keys: new Map([['ka', key]]) })
  expect(failed.get('ka')?.code).toBe('ESTALE')
  expect(runNetnsEntries()).toEqual(['ka'])
  expect(alive(sleeper.pid!)).toBe(true)
})
