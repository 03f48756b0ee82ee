// Issue 8, item 3: a handle from netns.open('x') is bound to the namespace it opened. On the
// old code it went on answering after x was deleted and a new x made: it listed the old
// namespace's links and "added" a bridge that the new x does not have.
import { afterEach, expect, test } from 'vitest'
import { NsnetError } from '../../src/netlink/errors.js'
import type { NetnsHandle } from '../../src/netns/handle.js'
import { netns } from '../../src/netns/index.js'
import { ensureHelperBundle, ip, ipj, runNetnsEntries, waitFor } from '../netns/support.js'

await ensureHelperBundle()

const handles: NetnsHandle[] = []
afterEach(async () => {
  for (const h of handles.splice(0)) await h.close()
  for (const n of runNetnsEntries()) ip('netns', 'del', n)
})

async function open(name: string, opts?: Parameters<typeof netns.open>[1]): Promise<NetnsHandle> {
  const h = await netns.open(name, opts)
  handles.push(h)
  return h
}

async function stale(p: Promise<unknown>, name: string): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(NsnetError)
  expect(err).toMatchObject({ code: 'ESTALE', namespace: name, object: `netns ${name}` })
  expect((err as Error).message).toMatch(/no longer the one this handle opened/)
}

test('a name replaced by another namespace: calls fail with ESTALE and change nothing', async () => {
  ip('netns', 'add', 'sx')
  ip('link', 'add', 'old0', 'netns', 'sx', 'type', 'veth', 'peer', 'name', 'old1', 'netns', 'sx')
  const h = await open('sx')
  expect((await h.links.list()).map((l) => l.ifname).sort()).toEqual(['lo', 'old0', 'old1'])

  ip('netns', 'del', 'sx')
  ip('netns', 'add', 'sx')
  await stale(h.links.list(), 'sx')
  await stale(h.links.add({ name: 'br0', kind: 'bridge' }), 'sx')
  await stale(h.sysctl.get('net.ipv4.ip_forward'), 'sx')
  await stale(h.exec(['true']), 'sx')
  expect(() => h.spawn(['true'])).toThrow(/no longer the one this handle opened/)
  // Neither namespace got the bridge; the new sx is as ip made it.
  expect(ipj<Array<{ ifname: string }>>('-n', 'sx', 'link').map((l) => l.ifname)).toEqual(['lo'])

  // A new handle on the new sx works.
  const fresh = await open('sx')
  expect((await fresh.links.list()).map((l) => l.ifname)).toEqual(['lo'])
})

test('a name deleted: ESTALE, also for calls made in one batch', async () => {
  ip('netns', 'add', 'sy')
  const h = await open('sy')
  await h.links.list()
  ip('netns', 'del', 'sy')
  const calls = [h.links.list(), h.addresses.list(), h.routes.list()]
  for (const c of calls) await stale(c, 'sy')
})

test('a helper restarted after idling does not silently move to a new namespace of that name', async () => {
  ip('netns', 'add', 'sz')
  const h = await open('sz', { idleMs: 50 })
  await h.links.list()
  expect(await waitFor(() => h.pid === undefined, 10_000)).toBe(true)
  ip('netns', 'del', 'sz')
  ip('netns', 'add', 'sz')
  await stale(h.links.add({ name: 'br0', kind: 'bridge' }), 'sz')
  expect(ipj<Array<{ ifname: string }>>('-n', 'sz', 'link').map((l) => l.ifname)).toEqual(['lo'])
})

test('an unchanged namespace keeps working, idle restarts included', async () => {
  ip('netns', 'add', 'sw')
  const h = await open('sw', { idleMs: 50 })
  await h.links.add({ name: 'br0', kind: 'bridge' })
  expect(await waitFor(() => h.pid === undefined, 10_000)).toBe(true)
  expect((await h.links.list()).map((l) => l.ifname).sort()).toEqual(['br0', 'lo'])
  // A real "no such link" stays what it is.
  await expect(h.links.get('nope0')).rejects.toMatchObject({ code: 'ENODEV' })
})
