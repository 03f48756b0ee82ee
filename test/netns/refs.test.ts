// Namespaces by reference: made by `unshare --net` processes (not named by anyone), opened by
// pid or path, attached, identified by inode, watched with netns.monitor. `nsenter --net=...`
// and `ip netns` are the oracles.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { isNsnetError, type NsnetErrorCode } from '../../src/netlink/errors.js'
import { type NetnsEvent, netns } from '../../src/netns/index.js'
import { Rtnl } from '../../src/rtnl.js'
import { ensureHelperBundle, ip, runNetnsEntries, waitFor } from './support.js'

const children: ChildProcess[] = []

/** A process in a network namespace of its own that nobody named: `unshare --net sleep 1000`. */
async function unshared(): Promise<number> {
  const c = spawn('unshare', ['--net', 'sleep', '1000'], { stdio: 'ignore' })
  children.push(c)
  const pid = c.pid!
  const mine = readlinkSync('/proc/self/ns/net')
  // unshare execs sleep in place once the namespace is made: the same pid, a new namespace.
  const moved = await waitFor(() => {
    try {
      return readlinkSync(`/proc/${pid}/ns/net`) !== mine
    } catch {
      return false
    }
  }, 10_000)
  if (!moved) throw new Error(`unshare ${pid} did not enter a new namespace`)
  return pid
}
const nsenter = (pid: number, ...args: string[]): string => execFileSync('nsenter', [`--net=/proc/${pid}/ns/net`, ...args], { encoding: 'utf8' })
const addrsOf = (pid: number): string[] =>
  (JSON.parse(nsenter(pid, 'ip', '-j', 'addr')) as Array<{ addr_info: Array<{ local: string; prefixlen: number }> }>).flatMap((l) =>
    l.addr_info.map((a) => `${a.local}/${a.prefixlen}`),
  )

let a: number, b: number
beforeAll(async () => {
  await ensureHelperBundle()
  ;[a, b] = await Promise.all([unshared(), unshared()])
})
afterAll(() => {
  for (const c of children)
    try {
      process.kill(c.pid!, 'SIGKILL')
    } catch {}
})

describe('netns.open by pid and path', () => {
  it('{ pid }: the same API inside, checked with nsenter; close() leaves nothing in /run/netns', async () => {
    const before = runNetnsEntries()
    const h = await netns.open({ pid: a })
    expect(runNetnsEntries().length).toBe(before.length + 1)
    await h.links.set('lo', { up: true })
    await h.addresses.add('lo', '192.0.2.77/32')
    expect(addrsOf(a)).toContain('192.0.2.77/32')
    expect((await h.links.list()).map((l) => l.ifname)).toEqual(['lo'])
    // exec runs inside too (through ip netns exec on the attached name).
    expect(Number((await h.exec(['stat', '-L', '-c', '%i', '/proc/self/ns/net'])).stdout.trim())).toBe(netns.inode(a))
    expect(netns.inode(h.name)).toBe(netns.inode(a))
    await h.close()
    expect(runNetnsEntries()).toEqual(before)
    // The namespace itself lives on with its process.
    expect(addrsOf(a)).toContain('192.0.2.77/32')
  })

  it('{ path }: /proc/PID/ns/net and a bind-mounted file give the same namespace', async () => {
    const before = runNetnsEntries()
    await using h = await netns.open({ path: `/proc/${b}/ns/net` })
    await h.routes.add({ dst: '198.51.100.0/24', type: 'blackhole' })
    expect(JSON.parse(nsenter(b, 'ip', '-j', 'route', 'show', 'type', 'blackhole'))).toEqual([
      expect.objectContaining({ type: 'blackhole', dst: '198.51.100.0/24' }),
    ])
    await netns.add('refs-named')
    try {
      await using n = await netns.open({ path: '/run/netns/refs-named' })
      await n.links.set('lo', { up: true })
      expect(JSON.parse(ip('-n', 'refs-named', '-j', 'link', 'show', 'lo'))[0].flags).toContain('UP')
    } finally {
      await netns.delete('refs-named')
    }
    await h.close()
    expect(runNetnsEntries()).toEqual(before)
  })

  it('links go into a namespace given as { pid } or { path }, veth peers too', async () => {
    await using rt = await Rtnl.open()
    await rt.links.add({ kind: 'veth', name: 'rfv0', peer: { name: 'rfv1', namespace: { pid: a } } })
    await rt.links.add({ kind: 'veth', name: 'rfv2', peer: { name: 'rfv3', namespace: { path: `/proc/${b}/ns/net` } } })
    expect(JSON.parse(nsenter(a, 'ip', '-j', 'link', 'show', 'rfv1'))[0].ifname).toBe('rfv1')
    expect(JSON.parse(nsenter(b, 'ip', '-j', 'link', 'show', 'rfv3'))[0].ifname).toBe('rfv3')
    await rt.links.add({ kind: 'bridge', name: 'rfbr' })
    await rt.links.add({ kind: 'veth', name: 'rfv4', peer: { name: 'rfv5' } })
    await rt.links.set('rfv5', { namespace: { pid: a } })
    expect(JSON.parse(nsenter(a, 'ip', '-j', 'link', 'show', 'rfv5'))[0].ifname).toBe('rfv5')
    for (const l of ['rfv0', 'rfv2', 'rfv4', 'rfbr']) await rt.links.delete(l)
  })

  it('a handle never closed does not leave its name behind when the process exits (or is killed)', async () => {
    const before = runNetnsEntries()
    const src = fileURLToPath(new URL('../../src/netns/index.ts', import.meta.url))
    const script =
      `import { netns } from ${JSON.stringify(src)}\n` +
      `const h = await netns.open({ pid: ${a} }); await h.links.list(); console.log(h.name); ` +
      `if (process.argv[2] === 'kill') process.kill(process.pid, 'SIGKILL'); else process.exit(0)`
    const dir = mkdtempSync(join(tmpdir(), 'refs-'))
    onTestFinished(() => rmSync(dir, { recursive: true, force: true })) // /tmp is the host's
    const file = join(dir, 'leak.mts')
    writeFileSync(file, script)
    const exited = spawnSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8' })
    expect(exited.stdout).toMatch(/^nsnet-ref-\d+-1/)
    expect(runNetnsEntries()).toEqual(before)
    // SIGKILL leaves it; the next open by reference detaches names of dead processes.
    const killed = spawnSync(process.execPath, ['--import', 'tsx', file, 'kill'], { encoding: 'utf8' })
    const left = killed.stdout.trim()
    expect(runNetnsEntries()).toContain(left)
    await (await netns.open({ pid: b })).close()
    expect(runNetnsEntries()).toEqual(before)
  })

  it('bad references are refused before anything is attached', async () => {
    const before = runNetnsEntries()
    const cases: Array<[unknown, NsnetErrorCode, RegExp]> = [
      [{ pid: -1 }, 'EINVAL_ARGUMENT', /namespace must be a namespace name, \{ pid \} or \{ path \}/],
      [{ pid: 1, path: '/x' }, 'EINVAL_ARGUMENT', /namespace must be/],
      [{ path: '/etc/hostname' }, 'EINVAL_ARGUMENT', /is not a network namespace/],
      [{ path: '/nonexistent/ns' }, 'ENOTFOUND', /does not exist/],
      [{ pid: 0x7ffffff0 }, 'ESRCH', /no process/],
      ['no/such', 'EINVAL_ARGUMENT', /contains "\/"/],
    ]
    for (const [ref, code, msg] of cases) {
      const e = await netns.open(ref as never).catch((x) => x)
      expect(isNsnetError(e, code), `${JSON.stringify(ref)}: ${e}`).toBe(true)
      expect(e.message).toMatch(msg)
    }
    expect(runNetnsEntries()).toEqual(before)
  })
})

describe('netns.attach, netns.inode, netns.monitor', () => {
  it("attach names a process's namespace, as ip netns attach; ip netns sees it", async () => {
    await netns.attach('refs-att', a)
    try {
      expect(ip('netns', 'list')).toMatch(/^refs-att\b/m)
      expect(ip('netns', 'identify', String(a)).trim()).toBe('refs-att')
      expect(await netns.identify(a)).toEqual(['refs-att'])
      expect(netns.inode('refs-att')).toBe(netns.inode(a))
      const again = await netns.attach('refs-att', b).catch((x) => x)
      expect(isNsnetError(again, 'EEXIST')).toBe(true)
    } finally {
      ip('netns', 'delete', 'refs-att') // detach only: the process keeps its namespace
    }
    const bad = await netns.attach('refs bad', a).catch((x) => x)
    expect(isNsnetError(bad, 'EINVAL_ARGUMENT')).toBe(true)
    const dead = await netns.attach('refs-dead', 0x7ffffff0).catch((x) => x)
    expect(isNsnetError(dead, 'ESRCH')).toBe(true)
    expect(runNetnsEntries()).not.toContain('refs-dead')
  })

  it('inode of an unnamed namespace is what stat -L and lsns show', async () => {
    expect(await netns.identify(b)).toEqual([])
    const ino = netns.inode(b)
    expect(ino).toBe(statSync(`/proc/${b}/ns/net`).ino)
    expect(netns.inode({ path: `/proc/${b}/ns/net` })).toBe(ino)
    expect(netns.inode({ pid: b })).not.toBe(netns.inode(process.pid))
    const lsns = execFileSync('lsns', ['-t', 'net', '-n', '-o', 'NS,PID'], { encoding: 'utf8' })
    expect(lsns.split('\n').some((l) => l.trim().split(/\s+/)[0] === String(ino))).toBe(true)
  })

  it('monitor sees the adds and deletes ip netns makes, then ends on abort', async () => {
    const ac = new AbortController()
    const m = netns.monitor({ signal: ac.signal })
    await m.ready
    const seen: NetnsEvent[] = []
    const done = (async () => {
      for await (const e of m) {
        seen.push(e)
        if (seen.length === 4) break
      }
    })()
    ip('netns', 'add', 'refs-mon1')
    ip('netns', 'attach', 'refs-mon2', String(a))
    ip('netns', 'delete', 'refs-mon1')
    ip('netns', 'delete', 'refs-mon2')
    await done
    expect(seen).toEqual([
      { type: 'add', name: 'refs-mon1' },
      { type: 'add', name: 'refs-mon2' },
      { type: 'delete', name: 'refs-mon1' },
      { type: 'delete', name: 'refs-mon2' },
    ])
    const m2 = netns.monitor({ signal: ac.signal })
    const ended = (async () => {
      const out: NetnsEvent[] = []
      for await (const e of m2) out.push(e)
      return out
    })()
    ac.abort()
    expect(await ended).toEqual([])
  })
})
