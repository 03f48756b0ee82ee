// rt.monitor(): decoded events from a child process, clean stops, and survival of an overflow.
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isNsnetError } from '../../../src/netlink/errors.js'
import { type Monitor, type MonitorEvent, monitor } from '../../../src/ops/monitor/operations.js'
import { Rtnl } from '../../../src/rtnl.js'

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' })

/** A live process: exists and is not a zombie (an orphan may wait a while to be reaped). */
const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

/** Reads events until `done` says so; fails after `ms`. */
async function collect(m: Monitor, done: (ev: MonitorEvent, all: MonitorEvent[]) => boolean, ms = 15_000): Promise<MonitorEvent[]> {
  const all: MonitorEvent[] = []
  const deadline = Date.now() + ms
  for (;;) {
    const left = deadline - Date.now()
    let timer: NodeJS.Timeout | undefined
    const r = await Promise.race([
      m.next(),
      new Promise<'timeout'>((res) => {
        timer = setTimeout(() => res('timeout'), Math.max(0, left))
      }),
    ])
    clearTimeout(timer)
    if (r === 'timeout') throw new Error(`timed out; got ${all.length} events: ${JSON.stringify(all.slice(-5))}`)
    if (r.done) return all
    all.push(r.value)
    if (done(r.value, all)) return all
  }
}

const waitFor = async (cond: () => boolean, ms: number): Promise<boolean> => {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 25))) if (cond()) return true
  return cond()
}

/** Runs a script that opens a monitor and prints its child's pid; `hold` keeps it running. */
function startHolder(mode: 'idle' | 'hold') {
  const dir = mkdtempSync(join(tmpdir(), 'nsnet-mon-'))
  const script = join(dir, 'holder.mts')
  const rtnl = pathToFileURL(fileURLToPath(new URL('../../../src/rtnl.ts', import.meta.url))).href
  writeFileSync(
    script,
    [
      `import { Rtnl } from ${JSON.stringify(rtnl)}`,
      'const rt = await Rtnl.open()',
      "const m = rt.monitor(['link'])",
      'await m.ready',
      'process.stdout.write(`${m.pid}\\n`)',
      `if (${JSON.stringify(mode)} === 'hold') setInterval(() => {}, 1000)`,
      'else await rt.close()',
    ].join('\n'),
  )
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href
  const proc = spawn(process.execPath, ['--import', tsx, script], { stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)))
  const childPid = new Promise<number>((resolve, reject) => {
    proc.stdout.setEncoding('utf8')
    let out = ''
    proc.stdout.on('data', (t: string) => {
      out += t
      if (out.includes('\n')) resolve(Number(out.trim()))
    })
    proc.on('exit', () => reject(new Error(`holder exited before printing a pid: ${out}`)))
  })
  return { proc, exited, childPid, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

let rt: Rtnl

beforeAll(async () => {
  rt = await Rtnl.open()
  ip('link', 'add', 'moA0', 'type', 'veth', 'peer', 'name', 'moA1')
  ip('link', 'set', 'moA0', 'up')
  ip('link', 'set', 'moA1', 'up')
})

afterAll(async () => {
  try {
    ip('link', 'del', 'moA0')
  } catch {}
  await rt?.close()
})

describe('monitor', () => {
  it('reports link add/del, address add and route add, decoded', async () => {
    const ac = new AbortController()
    const m = rt.monitor(['link', 'address', 'route'], { signal: ac.signal })
    await m.ready
    ip('link', 'add', 'moB0', 'type', 'veth', 'peer', 'name', 'moB1')
    ip('addr', 'add', '10.31.0.1/24', 'dev', 'moB0')
    ip('link', 'set', 'moB0', 'up')
    ip('link', 'set', 'moB1', 'up')
    await rt.routes.add({ dst: '10.32.0.0/16', dev: 'moB0' })
    ip('link', 'del', 'moB0')
    const deleted = (all: MonitorEvent[], name: string) => all.some((e) => e.kind === 'link' && e.action === 'del' && e.object.ifname === name)
    const events = await collect(m, (_ev, all) => deleted(all, 'moB0') && deleted(all, 'moB1'))
    ac.abort()

    const linkNew = events.find((e) => e.kind === 'link' && e.action === 'new' && e.object.ifname === 'moB0')
    expect(linkNew).toBeDefined()
    // moB0's own: moA1 (beforeAll's veth) may still be getting its IPv6 link-local under load.
    const addr = events.find((e) => e.kind === 'address' && e.action === 'new' && e.object.ifname === 'moB0' && e.object.family === 'inet')
    expect(addr).toMatchObject({ kind: 'address', action: 'new', object: { family: 'inet', ifname: 'moB0', local: '10.31.0.1', prefixlen: 24 } })
    const route = events.find((e) => e.kind === 'route' && e.action === 'new' && e.object.dst === '10.32.0.0/16')
    expect(route).toMatchObject({ object: { family: 'inet', dst: '10.32.0.0/16', dev: 'moB0', table: 'main', type: 'unicast' } })
    // the kernel's own routes for the address come too, decoded with link names
    expect(events.some((e) => e.kind === 'route' && e.object.dst === '10.31.0.0/24' && e.object.dev === 'moB0')).toBe(true)
    const linkDel = events.find((e) => e.kind === 'link' && e.action === 'del')
    expect(linkDel).toMatchObject({ object: { ifname: 'moB0' } })
    // order: the link exists before its address, which exists before its deletion
    expect(events.indexOf(linkNew!)).toBeLessThan(events.indexOf(addr!))
    expect(events.indexOf(addr!)).toBeLessThan(events.indexOf(linkDel!))
    expect(Object.isFrozen(route)).toBe(true)
  })

  it('neighbour, rule, address and route events decode exactly like list()', async () => {
    const ac = new AbortController()
    const m = rt.monitor(['neighbor', 'rule', 'address', 'route'], { signal: ac.signal })
    await m.ready
    await rt.neighbors.add({ dst: '10.33.0.2', lladdr: '02:00:00:00:33:02', dev: 'moA0' })
    await rt.rules.add({ priority: 333, from: '10.33.0.0/16', table: 33 })
    await rt.addresses.add('moA0', '10.33.1.1/24')
    await rt.routes.add({ dst: '10.33.64.0/18', gateway: '10.33.1.254', dev: 'moA0', metric: 7 })
    const listedN = (await rt.neighbors.list({ link: 'moA0' })).find((n) => n.dst === '10.33.0.2')
    const listedR = (await rt.rules.list({ priority: 333 }))[0]
    const listedA = (await rt.addresses.list()).find((a) => a.local === '10.33.1.1')
    const listedRt = (await rt.routes.list({ dst: '10.33.64.0/18' }))[0]
    expect([listedN, listedR, listedA, listedRt].every(Boolean)).toBe(true)
    await rt.routes.delete(listedRt!)
    await rt.neighbors.delete(listedN!)
    await rt.rules.delete(listedR!)
    await rt.addresses.delete('moA0', '10.33.1.1/24')
    const got = (all: MonitorEvent[], kind: string, action: string) => all.some((e) => e.kind === kind && 'action' in e && e.action === action)
    const events = await collect(
      m,
      (_ev, all) =>
        got(all, 'neighbor', 'del') &&
        got(all, 'rule', 'del') &&
        got(all, 'address', 'del') &&
        all.some((e) => e.kind === 'route' && e.action === 'del' && e.object.dst === '10.33.64.0/18'),
    )
    await m.close()
    const find = (kind: string, action: string, f: (o: Record<string, unknown>) => boolean) =>
      events.find((e) => e.kind === kind && 'action' in e && e.action === action && f(e.object as unknown as Record<string, unknown>)) as
        | { object: unknown }
        | undefined
    expect(find('neighbor', 'new', (o) => o.dst === '10.33.0.2')?.object).toEqual(listedN)
    expect(find('rule', 'new', (o) => o.priority === 333)?.object).toEqual(listedR)
    expect(find('address', 'new', (o) => o.local === '10.33.1.1')?.object).toEqual(listedA)
    expect(find('route', 'new', (o) => o.dst === '10.33.64.0/18')?.object).toEqual(listedRt)
    expect(find('rule', 'del', (o) => o.priority === 333)?.object).toMatchObject({ table: '33' })
    expect(find('route', 'del', (o) => o.dst === '10.33.64.0/18')?.object).toMatchObject({ gateway: '10.33.1.254', metric: 7 })
  })

  it('abort ends the iteration and the child process is gone', async () => {
    const ac = new AbortController()
    const m = rt.monitor(['route'], { signal: ac.signal })
    await m.ready
    const pid = m.pid!
    expect(alive(pid)).toBe(true)
    const seen: MonitorEvent[] = []
    setTimeout(() => ac.abort(), 200)
    for await (const ev of m) seen.push(ev)
    expect(m.pid).toBeUndefined()
    await m.close() // idempotent; resolves once the child has been reaped
    expect(alive(pid)).toBe(false)
    expect(await m.next()).toEqual({ value: undefined, done: true })
  })

  it('break out of for-await stops the child too', async () => {
    const m = rt.monitor(['route'])
    await m.ready
    const pid = m.pid!
    ip('route', 'add', '10.34.0.0/16', 'dev', 'moA0')
    for await (const ev of m) {
      if (ev.kind === 'route' && ev.object.dst === '10.34.0.0/16') break
    }
    expect(alive(pid)).toBe(false)
    ip('route', 'del', '10.34.0.0/16', 'dev', 'moA0')
  })

  it('an overflow yields overrun, a resync of the whole table, then live events; the caller survives', async () => {
    const ac = new AbortController()
    // A small buffer, and the child stopped while 20,000 routes go in: its queue must overflow.
    const m = rt.monitor(['route'], { signal: ac.signal, receiveBufferBytes: 4096 })
    await m.ready
    const first = m.pid!
    const routes = Array.from({ length: 20_000 }, (_, i) => ({ dst: `10.${100 + (i >> 8)}.${i & 255}.0/24`, dev: 'moA0' }))
    process.kill(first, 'SIGSTOP')
    try {
      await rt.routes.addMany(routes)
    } finally {
      process.kill(first, 'SIGCONT')
    }
    const events = await collect(m, (ev) => ev.kind === 'synced', 60_000)
    const overrun = events.findIndex((e) => e.kind === 'overrun')
    expect(overrun).toBeGreaterThanOrEqual(0)
    const resynced = new Set<string>()
    for (const e of events.slice(overrun)) {
      if (e.kind === 'route' && e.resync) {
        expect(e.action).toBe('new')
        resynced.add(e.object.dst)
      }
    }
    // every route of the flood is in the resync (it ended before the new child dumped)
    for (const r of routes) expect(resynced.has(r.dst)).toBe(true)
    expect(resynced.has('127.0.0.1')).toBe(true) // and the local table: the whole state
    expect(alive(first)).toBe(false)
    expect(m.pid).not.toBe(first)
    // live events continue after the resync
    await rt.routes.add({ dst: '10.99.0.0/16', dev: 'moA0' })
    const after = await collect(m, (ev) => ev.kind === 'route' && ev.object.dst === '10.99.0.0/16')
    expect(after.at(-1)).toMatchObject({ kind: 'route', action: 'new' })
    expect((after.at(-1) as { resync?: boolean }).resync).toBeUndefined()
    const pid = m.pid!
    ac.abort()
    await m.close()
    expect(alive(pid)).toBe(false)
    await rt.routes.deleteMany(routes)
    await rt.routes.delete({ dst: '10.99.0.0/16', dev: 'moA0' })
  }, 120_000)

  it('a consumer that does not keep up gets an overrun and a resync, not unbounded memory', async () => {
    // Tiny limits: the parent stops reading after 100 queued events, the child gives up at 64 KiB of backlog.
    const m = monitor(rt.context, ['route'], { maxQueuedEvents: 100, maxBacklogBytes: 64 * 1024 })
    await m.ready
    const first = m.pid!
    const routes = Array.from({ length: 20_000 }, (_, i) => ({ dst: `10.${160 + (i >> 8)}.${i & 255}.0/24`, dev: 'moA0' }))
    await rt.routes.addMany(routes) // nobody reads meanwhile
    const events = await collect(m, (ev) => ev.kind === 'synced', 60_000)
    const overrun = events.findIndex((e) => e.kind === 'overrun')
    expect(overrun).toBeGreaterThan(0)
    const live = events.slice(0, overrun).filter((e) => e.kind === 'route')
    expect(live.length).toBeLessThan(routes.length) // some were dropped: that is what the overrun says
    const resynced = new Set(events.slice(overrun).flatMap((e) => (e.kind === 'route' && e.resync ? [e.object.dst] : [])))
    for (const r of routes) expect(resynced.has(r.dst)).toBe(true)
    expect(alive(first)).toBe(false)
    await m.close()
    await rt.routes.deleteMany(routes)
  }, 120_000)

  it('a child that aborts (SIGABRT, as the binding does on ENOBUFS) counts as an overrun', async () => {
    const m = rt.monitor(['rule'])
    await m.ready
    const first = m.pid!
    process.kill(first, 'SIGABRT')
    const events = await collect(m, (ev) => ev.kind === 'synced', 30_000)
    expect(events[0]).toEqual({ kind: 'overrun' })
    const rules = events.filter((e) => e.kind === 'rule').map((e) => e.kind === 'rule' && e.object)
    expect(rules).toEqual(await rt.rules.list())
    expect(events.every((e) => e.kind !== 'rule' || e.resync === true)).toBe(true)
    await m.close()
    expect(alive(first)).toBe(false)
  }, 60_000)

  it('bad arguments are refused at once; a child that cannot start is an EHELPER error', async () => {
    for (const kinds of [[], ['links'], 'route'] as unknown[]) {
      let err: unknown
      try {
        rt.monitor(kinds as never)
      } catch (e) {
        err = e
      }
      expect(isNsnetError(err, 'EINVAL_ARGUMENT'), String(err)).toBe(true)
    }
    expect(() => rt.monitor(['route'], { receiveBufferBytes: -1 })).toThrow(/receiveBufferBytes/)
    const m = monitor(rt.context, ['route'], { spawnPrefix: ['ip', 'netns', 'exec', 'nsnet-no-such-ns'] })
    const e1 = await m.ready.then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(isNsnetError(e1, 'EHELPER'), String(e1)).toBe(true)
    expect(String(e1)).toMatch(/nsnet-no-such-ns|exited/)
    const e2 = await m.next().then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(isNsnetError(e2, 'EHELPER')).toBe(true)
    expect(await m.next()).toEqual({ value: undefined, done: true })
    // an already-aborted signal starts nothing
    const m2 = rt.monitor(['route'], { signal: AbortSignal.abort() })
    expect(m2.pid).toBeUndefined()
    expect(await m2.next()).toEqual({ value: undefined, done: true })
  })

  it('spawnPrefix runs the child inside another namespace', async () => {
    ip('netns', 'add', 'nsnet-mon-t')
    try {
      const m = monitor(rt.context, ['link'], { spawnPrefix: ['ip', 'netns', 'exec', 'nsnet-mon-t'] })
      await m.ready
      ip('-n', 'nsnet-mon-t', 'link', 'add', 'moC0', 'type', 'veth', 'peer', 'name', 'moC1')
      ip('link', 'add', 'moD0', 'type', 'veth', 'peer', 'name', 'moD1') // ours: must not show up
      const events = await collect(m, (ev) => ev.kind === 'link' && ev.object.ifname === 'moC0')
      await m.close()
      ip('link', 'del', 'moD0')
      expect(events.some((e) => e.kind === 'link' && String(e.object.ifname).startsWith('moD'))).toBe(false)
    } finally {
      ip('netns', 'del', 'nsnet-mon-t')
    }
  })

  it('an idle monitor does not keep the process alive, and the child follows its parent out', async () => {
    const h = startHolder('idle')
    try {
      const pid = await h.childPid
      expect(pid).toBeGreaterThan(0)
      expect(await Promise.race([h.exited, new Promise((r) => setTimeout(() => r('still running'), 20_000))])).toBe(0)
      expect(await waitFor(() => !alive(pid), 5_000)).toBe(true)
    } finally {
      h.proc.kill('SIGKILL')
      h.cleanup()
    }
  }, 40_000)

  it('the child exits when its parent is killed (its stdin closes)', async () => {
    const h = startHolder('hold')
    try {
      const pid = await h.childPid
      expect(alive(pid)).toBe(true)
      h.proc.kill('SIGKILL')
      await h.exited
      expect(await waitFor(() => !alive(pid), 5_000)).toBe(true)
    } finally {
      h.proc.kill('SIGKILL')
      h.cleanup()
    }
  }, 40_000)
})
