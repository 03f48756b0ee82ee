// The private OVS service: both daemons run with a private directory, vswitchd inside the
// namespace that holds the ports, and close() / a failure / an abort leaves no daemon, no
// tap and no directory behind -- also when vswitchd was SIGKILLed with bridges up.
import { existsSync, mkdtempSync, readlinkSync, rmSync, statSync } from 'node:fs'
import { afterAll, describe, expect, test } from 'vitest'
import { Ovs } from '../../src/ovs/ovs.js'
import { listMarkers } from '../../src/topology/marker.js'
import { reap } from '../../src/topology/reap.js'
import { ensureHelperBundle, ip } from '../netns/support.js'
import { killAfterFirstLine } from '../support/child.js'
import { haveOvs, linkNames, ovsPids, skipReason, vsctl } from './support.js'

describe.skipIf(!haveOvs)(`private OVS service${haveOvs ? '' : ` (skipped: ${skipReason})`}`, () => {
  const made: string[] = []
  afterAll(() => {
    for (const ns of made) ip('netns', 'del', ns)
  })

  test('start: both daemons run from a private dir, the database is initialised; close leaves nothing', async () => {
    const before = linkNames()
    const ovs = await Ovs.start()
    const dir = ovs.service!.dir
    try {
      expect(dir.length).toBeLessThan(80)
      expect(ovs.service!.daemons.map((d) => d.name)).toEqual(['ovsdb-server', 'ovs-vswitchd'])
      expect(ovsPids(dir).sort()).toEqual(ovs.service!.daemons.map((d) => d.pid).sort())
      expect(vsctl(ovs.service!.dbSocket, 'get', 'Open_vSwitch', '.', 'cur_cfg').trim()).toMatch(/^\d+$/)
      await ovs.addBridge('sbr0')
      await ovs.addPort('sbr0', 'sint0', { type: 'internal' })
      // The netdev datapath made its taps here.
      expect(linkNames()).toEqual(expect.arrayContaining(['ovs-netdev', 'sbr0', 'sint0']))
    } finally {
      await ovs.close()
    }
    expect(ovsPids(dir)).toEqual([])
    expect(existsSync(dir)).toBe(false)
    expect(linkNames()).toEqual(before)
    expect(listMarkers().filter((m) => m.name === 'ovs')).toEqual([])
  })

  test('vswitchd runs inside the given namespace; a SIGKILLed vswitchd still leaves no tap behind', async () => {
    await ensureHelperBundle()
    ip('netns', 'add', 'ovs-svc1')
    made.push('ovs-svc1')
    const ovs = await Ovs.start({ namespace: 'ovs-svc1' })
    const dir = ovs.service!.dir
    try {
      const vswitchd = ovs.service!.daemons.find((d) => d.name === 'ovs-vswitchd')!
      expect(statSync(`/proc/${vswitchd.pid}/ns/net`).ino).toBe(statSync('/run/netns/ovs-svc1').ino)
      expect(readlinkSync(`/proc/${vswitchd.pid}/ns/net`)).not.toBe(readlinkSync('/proc/self/ns/net'))
      await ovs.addBridge('nbr0')
      expect(linkNames('ovs-svc1')).toEqual(expect.arrayContaining(['nbr0', 'ovs-netdev']))
      expect(linkNames()).not.toContain('nbr0')
      process.kill(vswitchd.pid, 'SIGKILL')
      // A write now fails at once: nothing would apply it.
      const e = await ovs.addPort('nbr0', 'nint0', { type: 'internal' }).catch((x) => x)
      expect(e.code).toBe('EOVSDB')
      expect(e.summary).toMatch(/ovs-vswitchd is not running/)
      expect(linkNames('ovs-svc1')).toContain('nbr0') // the tap outlived vswitchd
    } finally {
      await ovs.close()
    }
    expect(ovsPids(dir)).toEqual([])
    expect(linkNames('ovs-svc1')).toEqual(['lo'])
  })

  test('vswitchd killed mid-transaction: the waiting write fails at once with a clear error, nothing hangs', async () => {
    const ovs = await Ovs.start()
    const dir = ovs.service!.dir
    try {
      await ovs.addBridge('mbr0')
      const vswitchd = ovs.service!.daemons.find((d) => d.name === 'ovs-vswitchd')!
      // Stopped, vswitchd cannot apply the change: the write is committed and waiting.
      process.kill(vswitchd.pid, 'SIGSTOP')
      const pending = ovs.addPort('mbr0', 'mint0', { type: 'internal', timeoutMs: 60_000 }).catch((x) => x)
      await new Promise((r) => setTimeout(r, 500))
      const t0 = Date.now()
      process.kill(vswitchd.pid, 'SIGKILL')
      const e = await pending
      expect(Date.now() - t0).toBeLessThan(5000)
      expect(e.code).toBe('EOVSDB')
      expect(e.summary).toMatch(/ovs-vswitchd is not running/)
      expect(e.object).toBe('port mint0 on bridge mbr0')
    } finally {
      await ovs.close()
    }
    expect(ovsPids(dir)).toEqual([])
    expect(linkNames()).not.toContain('mbr0')
  })

  test('an owner SIGKILLed with its service up: nsnet reap stops the daemons and deletes the taps', async () => {
    const before = linkNames()
    const { dir, pids } = await killAfterFirstLine<{ dir: string; pids: number[] }>(`
      const { Ovs } = await import(${JSON.stringify(new URL('../../src/ovs/ovs.ts', import.meta.url).href)})
      const ovs = await Ovs.start()
      await ovs.addBridge('rbr0')
      await ovs.addPort('rbr0', 'rint0', { type: 'internal' })
      console.log(JSON.stringify({ dir: ovs.service.dir, pids: ovs.service.daemons.map((d) => d.pid) }))
      setInterval(() => {}, 1000)
    `)
    expect(ovsPids(dir).sort()).toEqual([...pids].sort())
    expect(linkNames()).toEqual(expect.arrayContaining(['ovs-netdev', 'rbr0', 'rint0']))
    const results = (await reap()).filter((r) => r.name === 'ovs')
    expect(results.map((r) => r.status)).toEqual(['removed'])
    expect(ovsPids(dir)).toEqual([])
    expect(linkNames()).toEqual(before)
    // Its run directory (database, sockets, logs) goes too.
    const left = existsSync(dir)
    rmSync(dir, { recursive: true, force: true })
    expect(left).toBe(false)
  }, 60_000)

  test('a failure half-way (vswitchd in a namespace that does not exist) stops ovsdb-server', async () => {
    const dir = mkdtempSync('/tmp/nsnet-ovs-t')
    try {
      const e = await Ovs.start({ dir, namespace: 'ovs-missing' }).catch((x) => x)
      expect(e.code).toBe('EOVSDB')
      expect(e.object).toBe('ovs-vswitchd')
      expect(e.message).toMatch(/ovs-missing/)
      // ovsdb-server had started (its log exists) and is gone again.
      expect(existsSync(`${dir}/ovsdb-server.log`)).toBe(true)
      expect(ovsPids(dir)).toEqual([])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('an abort during start stops what was started', async () => {
    for (const delay of [5, 40, 120]) {
      const dir = mkdtempSync('/tmp/nsnet-ovs-t')
      try {
        const ac = new AbortController()
        const p = Ovs.start({ dir, signal: ac.signal }).catch((x) => x)
        setTimeout(() => ac.abort(), delay)
        const r = await p
        // A fast machine may finish first; then close must still clean up.
        if (r instanceof Ovs) await r.close()
        else expect(r.code).toBe('EABORTED')
        expect(ovsPids(dir)).toEqual([])
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }
  })

  test('a directory too long for a unix socket is refused before anything starts', async () => {
    const e = await Ovs.start({ dir: `/tmp/${'x'.repeat(100)}` }).catch((x) => x)
    expect(e.code).toBe('EINVAL_ARGUMENT')
    expect(e.summary).toMatch(/too long for unix sockets/)
  })
})
