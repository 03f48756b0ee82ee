// netns lifecycle against `ip netns` as the oracle: add/list/exists/delete/pids/identify/ids.
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { isNsnetError } from '../../src/netlink/errors.js'
import { netns } from '../../src/netns/index.js'
import { alive, ip, ipj, ipTry, runNetnsEntries, waitFor } from './support.js'

const made = new Set<string>()
const children: ChildProcess[] = []

async function add(name: string): Promise<string> {
  await netns.add(name)
  made.add(name)
  return name
}

/** Starts `sleep` inside NAME through `ip netns exec`; returns its pid once it is inside. */
async function sleeper(name: string): Promise<number> {
  const c = spawn('ip', ['netns', 'exec', name, 'sleep', '60'], { stdio: 'ignore' })
  children.push(c)
  const pid = c.pid!
  const inside = await waitFor(() => ip('netns', 'pids', name).split(/\s+/).includes(String(pid)), 2000)
  expect(inside).toBe(true)
  return pid
}

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  for (const name of made) {
    if (existsSync(`/run/netns/${name}`)) ipTry('netns', 'delete', name)
  }
  made.clear()
})

describe('netns.add / list / exists', () => {
  it('creates a namespace that `ip netns` sees and can enter', async () => {
    await add('lc-a')
    expect(ipj<{ name: string }[]>('netns', 'list').map((n) => n.name)).toContain('lc-a')
    expect(await netns.exists('lc-a')).toBe(true)
    expect(await netns.exists('lc-none')).toBe(false)
    // It is a real, separate namespace: only lo inside.
    const links = JSON.parse(ip('netns', 'exec', 'lc-a', 'ip', '-j', 'link')) as { ifname: string }[]
    expect(links.map((l) => l.ifname)).toEqual(['lo'])
  })

  it('list() equals `ip -j netns list`, ids included, both ways', async () => {
    await add('lc-b1')
    await add('lc-b2')
    ip('netns', 'add', 'lc-b3')
    made.add('lc-b3')
    ip('netns', 'set', 'lc-b2', '42')
    const sort = (a: { name: string }[]) => [...a].sort((x, y) => x.name.localeCompare(y.name))
    expect(sort(await netns.list())).toEqual(sort(ipj('netns', 'list')))
    expect((await netns.list()).find((n) => n.name === 'lc-b2')).toEqual({ name: 'lc-b2', id: 42 })
  })

  it('refuses an existing name with EEXIST', async () => {
    await add('lc-c')
    await expect(netns.add('lc-c')).rejects.toMatchObject({ code: 'EEXIST', object: 'netns lc-c' })
  })

  it('accepts a 255-byte name (NAME_MAX) and rejects bad names before creating anything', async () => {
    const long = 'n'.repeat(255)
    await add(long)
    expect(ipj<{ name: string }[]>('netns', 'list').map((n) => n.name)).toContain(long)
    const before = runNetnsEntries()
    for (const bad of ['', 'a/b', '/', 'a b', 'tab\there', 'nl\n', '.', '..', 'x'.repeat(256), 'é'.repeat(128)]) {
      const e = await netns.add(bad).then(
        () => undefined,
        (x: unknown) => x,
      )
      expect(isNsnetError(e, 'EINVAL_ARGUMENT'), `name ${JSON.stringify(bad)}`).toBe(true)
    }
    for (const fn of [netns.delete, netns.exists, netns.pids, netns.open] as ((n: string) => Promise<unknown>)[]) {
      await expect(fn('a/b')).rejects.toMatchObject({ code: 'EINVAL_ARGUMENT' })
    }
    expect(() => netns.path('..')).toThrow(/cannot name a namespace/)
    expect(runNetnsEntries()).toEqual(before)
    expect(existsSync('/etc/netns/a b')).toBe(false)
  })

  it('path() names the bind mount that `ip netns` uses', async () => {
    await add('lc-p')
    expect(netns.path('lc-p')).toBe('/run/netns/lc-p')
    // Moving a link there by that path works for ip too.
    ip('link', 'add', 'lcp0', 'type', 'veth', 'peer', 'name', 'lcp1', 'netns', netns.path('lc-p').split('/').pop()!)
    expect(ipj<{ ifname: string }[]>('-n', 'lc-p', 'link').map((l) => l.ifname)).toContain('lcp1')
    ip('link', 'del', 'lcp0')
  })
})

describe('netns.pids / identify', () => {
  it('pids() equals `ip netns pids`, identify() equals `ip netns identify`', async () => {
    await add('lc-d')
    await add('lc-d2')
    const pid = await sleeper('lc-d')
    const theirs = ip('netns', 'pids', 'lc-d').trim().split(/\s+/).filter(Boolean).map(Number)
    expect(await netns.pids('lc-d')).toEqual(theirs)
    expect(await netns.pids('lc-d')).toContain(pid)
    expect(await netns.pids('lc-d2')).toEqual([])
    expect(await netns.identify(pid)).toEqual(ip('netns', 'identify', String(pid)).trim().split(/\s+/))
    expect(await netns.identify(pid)).toEqual(['lc-d'])
    expect(await netns.identify()).toEqual([]) // this process is in the runner's unnamed namespace
    await expect(netns.pids('lc-none')).rejects.toMatchObject({ code: 'ENOTFOUND' })
    await expect(netns.identify(0x3fffffff)).rejects.toMatchObject({ code: 'ESRCH' })
  })
})

describe('netns ids', () => {
  it('setId/id/listIds agree with `ip netns list-id`', async () => {
    await add('lc-e1')
    await add('lc-e2')
    expect(await netns.id('lc-e1')).toBeUndefined()
    await netns.setId('lc-e1', 17)
    expect(await netns.id('lc-e1')).toBe(17)
    ip('netns', 'set', 'lc-e2', '23') // set by ip, decoded by us
    expect(await netns.id('lc-e2')).toBe(23)
    const theirs = ipj<{ nsid: number; name?: string }[]>('netns', 'list-id')
    expect([...(await netns.listIds())].sort((a, b) => a.nsid - b.nsid)).toEqual([...theirs].sort((a, b) => a.nsid - b.nsid))
    await expect(netns.setId('lc-e2', 17)).rejects.toMatchObject({ code: 'EEXIST' })
    await expect(netns.setId('lc-e1', -2)).rejects.toMatchObject({ code: 'EINVAL_ARGUMENT' })
  })

  it("setId('auto') lets the kernel choose, as `ip netns set NAME auto`", async () => {
    await add('lc-f')
    await netns.setId('lc-f', 'auto')
    const id = await netns.id('lc-f')
    expect(id).toBeTypeOf('number')
    expect(ipj<{ name: string; id?: number }[]>('netns', 'list').find((n) => n.name === 'lc-f')?.id).toBe(id)
  })
})

describe('netns.delete', () => {
  it('deletes what `ip netns list` shows, and /etc/netns/NAME with it', async () => {
    await add('lc-g')
    await netns.setResolvConf('lc-g', ['nameserver 203.0.113.53'])
    await netns.delete('lc-g')
    made.delete('lc-g')
    expect(ipj<{ name: string }[]>('netns', 'list').map((n) => n.name)).not.toContain('lc-g')
    expect(existsSync('/etc/netns/lc-g')).toBe(false)
    await expect(netns.delete('lc-g')).rejects.toMatchObject({ code: 'ENOTFOUND' })
  })

  it('returns only when the veth peers here are gone (the kernel frees namespaces later)', async () => {
    // `ip netns delete` alone returns before this happens: the peer usually still exists.
    for (let i = 0; i < 5; i++) {
      const name = await add(`lc-h${i}`)
      ip('link', 'add', `lch${i}a`, 'type', 'veth', 'peer', 'name', `lch${i}b`, 'netns', name)
      ip('link', 'add', `lch${i}c`, 'type', 'veth', 'peer', 'name', `lch${i}d`, 'netns', name)
      await netns.delete(name)
      made.delete(name)
      expect(ipTry('link', 'show', `lch${i}a`).status).not.toBe(0)
      expect(ipTry('link', 'show', `lch${i}c`).status).not.toBe(0)
      expect(ipj<{ nsid: number }[]>('netns', 'list-id')).toEqual([])
    }
  })

  it('{ wait: false } returns once the name is gone, as `ip netns delete` does', async () => {
    await add('lc-w')
    await netns.setResolvConf('lc-w', ['nameserver 203.0.113.53'])
    await netns.delete('lc-w', { wait: false })
    made.delete('lc-w')
    expect(ipj<{ name: string }[]>('netns', 'list').map((n) => n.name)).not.toContain('lc-w')
    expect(existsSync('/etc/netns/lc-w')).toBe(false)
  })

  it('refuses with EBUSY naming the processes inside, and changes nothing', async () => {
    await add('lc-i')
    const pid = await sleeper('lc-i')
    const e = await netns.delete('lc-i').then(
      () => undefined,
      (x: unknown) => x,
    )
    expect(isNsnetError(e, 'EBUSY')).toBe(true)
    expect(String((e as Error).message)).toContain(String(pid))
    expect(await netns.exists('lc-i')).toBe(true)
    expect(alive(pid)).toBe(true)
  })

  it('{ kill: true } ends exactly the processes inside, then deletes', async () => {
    await add('lc-j')
    await add('lc-j2')
    const inside = await sleeper('lc-j')
    const other = await sleeper('lc-j2')
    await netns.delete('lc-j', { kill: true })
    made.delete('lc-j')
    expect(alive(inside)).toBe(false)
    expect(alive(other)).toBe(true)
    expect(await netns.exists('lc-j')).toBe(false)
  })
})

describe('netns.setResolvConf / exec / execAll', () => {
  it('writes /etc/netns/NAME/resolv.conf, which programs inside see as /etc/resolv.conf', async () => {
    await add('lc-k')
    await netns.setResolvConf('lc-k', ['nameserver 203.0.113.53', 'search example.test'])
    expect(readFileSync('/etc/netns/lc-k/resolv.conf', 'utf8')).toBe('nameserver 203.0.113.53\nsearch example.test\n')
    const r = await netns.exec('lc-k', ['cat', '/etc/resolv.conf'])
    expect(r).toEqual({ code: 0, stdout: 'nameserver 203.0.113.53\nsearch example.test\n', stderr: '' })
    await expect(netns.setResolvConf('lc-k', ['a\nb'])).rejects.toMatchObject({ code: 'EINVAL_ARGUMENT' })
  })

  it('execAll runs in every namespace, as `ip -all netns exec`', async () => {
    await add('lc-l1')
    await add('lc-l2')
    ip('netns', 'exec', 'lc-l2', 'ip', 'link', 'set', 'lo', 'up')
    const res = await netns.execAll(['ip', '-br', 'link', 'show', 'lo'])
    const names = ipj<{ name: string }[]>('netns', 'list').map((n) => n.name)
    expect(res.map((r) => r.name).sort()).toEqual(names.sort())
    for (const r of res) {
      expect(r.code).toBe(0)
      expect(r.stdout).toBe(ip('-n', r.name, '-br', 'link', 'show', 'lo'))
    }
    expect(res.find((r) => r.name === 'lc-l2')!.stdout).toMatch(/UNKNOWN|UP/)
    expect(res.find((r) => r.name === 'lc-l1')!.stdout).toMatch(/DOWN/)
  })

  it('exec: exit codes, missing programs and namespaces, timeouts that kill the whole group', async () => {
    await add('lc-m')
    expect(await netns.exec('lc-m', ['sh', '-c', 'echo out; echo err >&2; exit 3'])).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' })
    await expect(netns.exec('lc-m', ['no-such-program-x'])).rejects.toMatchObject({ code: 'ENOENT', namespace: 'lc-m', object: 'program no-such-program-x' })
    await expect(netns.exec('lc-m', ['/nonexistent/prog'])).rejects.toMatchObject({ code: 'ENOENT' })
    await expect(netns.exec('lc-none', ['true'])).rejects.toMatchObject({ code: 'ENOTFOUND', object: 'netns lc-none' })
    await expect(netns.exec('lc-m', [])).rejects.toMatchObject({ code: 'EINVAL_ARGUMENT' })
    // A grandchild in the background must die with the timeout too.
    const t0 = Date.now()
    const pidFile = `/tmp/nsnet-lc-m-${process.pid}`
    const e = await netns.exec('lc-m', ['sh', '-c', `sleep 30 & echo $! > ${pidFile}; wait`], { timeoutMs: 300 }).then(
      () => undefined,
      (x: unknown) => x,
    )
    expect(isNsnetError(e, 'ETIMEDOUT')).toBe(true)
    expect(Date.now() - t0).toBeLessThan(2000)
    const grandchild = Number(readFileSync(pidFile, 'utf8'))
    rmSync(pidFile) // /tmp is the host's
    expect(await waitFor(() => !alive(grandchild), 1000)).toBe(true)
    expect(await netns.pids('lc-m')).toEqual([])
  })
})
