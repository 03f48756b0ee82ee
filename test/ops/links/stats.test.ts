// Link counters against `ip -s -s -j link show` as the oracle: stats64 on every decoded link,
// and links.stats(), which reads one link's counters with a single small RTM_GETSTATS.
import { execFileSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isNsnetError } from '../../../src/netlink/errors.js'
import type { LinkStats64 } from '../../../src/ops/links/stats.js'
import { Rtnl } from '../../../src/rtnl.js'

const run = (cmd: string, ...args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
const ipStats = (dev: string): Record<string, Record<string, number>> => JSON.parse(run('ip', '-s', '-s', '-j', 'link', 'show', 'dev', dev))[0].stats64
const A = 'stA0',
  B = 'stA1',
  NS = 'st-b'

/** Ours in ip's shape: ip prints nohandler only when it is not 0, and carrier_changes beside tx. */
function asIp(s: LinkStats64, carrierChanges: number | undefined) {
  const { nohandler, ...rx } = s.rx
  return { rx: nohandler ? { ...rx, nohandler } : rx, tx: { ...s.tx, carrier_changes: carrierChanges } }
}

let rt: Rtnl
beforeAll(async () => {
  rt = await Rtnl.open()
  // B in a namespace of its own, so pings to it cross the veth instead of staying local.
  run('ip', 'netns', 'add', NS)
  run('ip', 'link', 'add', A, 'type', 'veth', 'peer', 'name', B, 'netns', NS)
  run('sysctl', '-qw', `net.ipv6.conf.${A}.disable_ipv6=1`) // no stray packets between two reads
  run('ip', 'netns', 'exec', NS, 'sysctl', '-qw', `net.ipv6.conf.${B}.disable_ipv6=1`)
  run('ip', 'link', 'set', A, 'up')
  run('ip', '-n', NS, 'link', 'set', B, 'up')
  run('ip', 'addr', 'add', '10.66.0.1/24', 'dev', A)
  run('ip', '-n', NS, 'addr', 'add', '10.66.0.2/24', 'dev', B)
  // Traffic that moves both directions' counters: pings A -> B, and UDP to a port nobody has.
  await rt.links.waitUp(A, { timeoutMs: 10_000 })
  run('ping', '-c', '3', '-i', '0.2', '-W', '2', '-I', A, '10.66.0.2')
})
afterAll(async () => {
  try {
    run('ip', 'link', 'del', A)
  } catch {}
  try {
    run('ip', 'netns', 'del', NS)
  } catch {}
  await rt?.close()
})

describe('link statistics', () => {
  it('every decoded link carries stats64 equal to ip -s -s -j link show', async () => {
    const links = await rt.links.list()
    for (const dev of ['lo', A]) {
      const l = links.find((x) => x.ifname === dev)!
      expect(l.stats64, dev).toBeDefined()
      expect(asIp(l.stats64!, l.carrier_changes), dev).toEqual(ipStats(dev))
      expect(Object.isFrozen(l.stats64!.rx)).toBe(true)
    }
    const a = await rt.links.get(A)
    expect(a.stats64!.tx.packets).toBeGreaterThanOrEqual(3)
  })

  it('links.stats reads the same counters, and follows traffic', async () => {
    const before = await rt.links.stats(A)
    const link = await rt.links.get(A)
    expect(asIp(before, link.carrier_changes)).toEqual(ipStats(A))
    run('ping', '-c', '2', '-i', '0.2', '-W', '2', '-I', A, '10.66.0.2')
    const after = await rt.links.stats(A)
    expect(after.tx.packets - before.tx.packets).toBeGreaterThanOrEqual(2)
    expect(after.rx.packets - before.rx.packets).toBeGreaterThanOrEqual(2)
    expect(after.tx.bytes).toBeGreaterThan(before.tx.bytes)
    expect((await rt.links.stats(link.ifindex)).tx.packets).toBe(after.tx.packets)
  })

  it('a missing link is ENODEV naming it', async () => {
    const e = await rt.links.stats('stnope').catch((x) => x)
    expect(isNsnetError(e, 'ENODEV')).toBe(true)
    expect(e.operation).toBe('links.stats')
  })
})
