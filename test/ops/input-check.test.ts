// One input check for every public rtnetlink operation: bad input is EINVAL_ARGUMENT naming
// the field, before anything is sent, and the same through Rtnl and through a namespace handle.
// The oracle for "nothing was sent" is `ip -j -d` state before and after, in both namespaces.
import { execFileSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isNsnetError, type NetnsHandle, netns, Rtnl, type RtnlApi } from '../../src/index.js'
import { ensureHelperBundle } from '../netns/support.js'

const NS = 'ic-a'
const DEV = 'icA0'

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' })

/** Everything an op could have changed, as ip shows it, leaving out what the kernel adds by itself. */
function state(ns?: string): string {
  const n = ns ? ['-n', ns] : []
  const j = (...a: string[]) => JSON.parse(ip(...n, '-j', '-d', ...a) || '[]') as Array<Record<string, unknown>>
  const links = j('link', 'show').map((l) => ({ ...l, operstate: undefined, flags: undefined, linkinfo: undefined }))
  const neigh = j('neigh', 'show', 'nud', 'all').filter((e) => !String(e.dst).startsWith('ff02:'))
  return JSON.stringify({
    links,
    addr: j('addr', 'show').map((l) => l.addr_info),
    routes: j('route', 'show', 'table', 'all'),
    rules: [j('-4', 'rule', 'show'), j('-6', 'rule', 'show')],
    neigh,
  })
}

type Case = readonly [op: string, args: readonly unknown[], field: string]

// Each case names the operation, its arguments, and the field the error must name.
const cases: readonly Case[] = [
  ['rules.add', [{ prio: 200, table: 100 }], 'prio'],
  ['rules.add', [{ priority: Number.NaN, table: 100 }], 'priority'],
  ['rules.add', [{ priority: -1, table: 100 }], 'priority'],
  ['rules.add', [{ priority: 2 ** 40, table: 100 }], 'priority'],
  ['rules.add', [{ priority: 5, table: 100 }, null], 'options'],
  ['rules.add', [{ priority: 5, table: 100 }, { timeoutMs: -1 }], 'timeoutMs'],
  ['rules.add', [{ priority: 5, table: 100 }, { timeoutMs: 2 ** 40 }], 'timeoutMs'],
  ['rules.add', [{ priority: 5, table: 100 }, { timeout: 100 }], 'timeout'],
  ['rules.add', [null], 'rule'],
  ['rules.delete', [{ priority: 5, tabel: 100 }], 'tabel'],
  ['rules.list', [{ tabel: 100 }], 'tabel'],
  ['rules.list', [null], 'filter'],
  ['rules.list', [{}, { timeoutMs: Number.NaN }], 'timeoutMs'],
  ['neighbors.add', [{ dst: '10.61.0.9', lladr: '02:00:00:00:00:09', dev: DEV }], 'lladr'],
  ['neighbors.add', [{ dst: '10.61.0.9', lladdr: '02:00:00:00:00:09', dev: DEV, protocol: Number.NaN }], 'protocol'],
  ['neighbors.replace', [{ dst: '10.61.0.9', lladdr: '02:00:00:00:00:09', dev: DEV }, null], 'options'],
  ['neighbors.delete', [{ dst: '10.61.0.9', dev: DEV, state: 'stale', extra: 1 }], 'extra'],
  ['neighbors.list', [{ link: DEV, famly: 4 }], 'famly'],
  ['neighbors.list', [{}, { timeoutMs: -5 }], 'timeoutMs'],
  ['links.add', [{ kind: 'bridge', name: 'icbr%d' }], 'name'],
  ['links.add', [{ kind: 'bridge', name: 'icb\0r' }], 'name'],
  ['links.add', [{ kind: 'bridge', name: 'icbr0', mtu: Number.NaN }], 'mtu'],
  ['links.add', [{ kind: 'bridge', name: 'icbr0' }, null], 'options'],
  ['links.add', [{ kind: 'bridge', name: 'icbr0' }, { timeoutMs: -1 }], 'timeoutMs'],
  ['links.set', [DEV, { mtu: -1 }], 'mtu'],
  ['links.set', [DEV, { name: 'ic%d' }], 'name'],
  ['links.set', [DEV, null], 'changes'],
  ['links.delete', [DEV, { timeoutMs: Number.NaN }], 'timeoutMs'],
  ['links.list', [{ kind: 'veth' }, { signals: 1 }], 'signals'],
  ['links.get', [DEV, null], 'options'],
  ['links.waitUp', [DEV, { timeoutMs: Number.NaN }], 'timeoutMs'],
  ['addresses.add', [DEV, '10.62.0.1/24', null], 'options'],
  ['addresses.add', [DEV, '10.62.0.1/24', { metric: -1 }], 'metric'],
  ['addresses.add', [DEV, '10.62.0.1/24', { metric: Number.NaN }], 'metric'],
  ['addresses.add', [DEV, '10.62.0.1/24', { timeoutMs: -1 }], 'timeoutMs'],
  ['addresses.add', ['ic%d', '10.62.0.1/24'], 'link'],
  ['addresses.delete', [DEV, '10.62.0.1/24', { timeout: 5 }], 'timeout'],
  ['addresses.list', [null], 'filter'],
  ['addresses.flush', [DEV, { timeoutMs: Number.NaN }], 'timeoutMs'],
  ['routes.add', [{ dst: '10.63.0.0/16', dev: DEV, metric: Number.NaN }], 'metric'],
  ['routes.add', [{ dst: '10.63.0.0/16', dev: DEV }, { timeoutMs: -1 }], 'timeoutMs'],
  ['routes.add', [{ dst: '10.63.0.0/16', dev: DEV }, null], 'options'],
  ['routes.delete', [{ dst: '10.63.0.0/16', dev: DEV, metrc: 5 }], 'metrc'],
  ['routes.list', [{ table: 'main', timeoutMs: Number.NaN }], 'timeoutMs'],
  ['routes.list', [null], 'filter'],
  ['routes.get', ['10.63.0.1', { mark: Number.NaN }], 'mark'],
  ['routes.get', ['10.63.0.1', { timeoutMs: -1 }], 'timeoutMs'],
  ['routes.addMany', [[{ dst: '10.63.0.0/16', dev: DEV }], { timeoutMs: Number.NaN }], 'timeoutMs'],
]

function method(api: RtnlApi | NetnsHandle, op: string): (...a: unknown[]) => Promise<unknown> {
  const [group, name] = op.split('.') as [keyof RtnlApi, string]
  const g = (api as unknown as Record<string, Record<string, (...a: unknown[]) => Promise<unknown>>>)[group]!
  return (...a) => g[name]!.apply(g, a)
}

async function outcome(api: RtnlApi | NetnsHandle, op: string, args: readonly unknown[]): Promise<unknown> {
  try {
    await method(api, op)(...args)
    return undefined
  } catch (e) {
    return e
  }
}

let rt: Rtnl
let h: NetnsHandle

beforeAll(async () => {
  await ensureHelperBundle()
  rt = await Rtnl.open()
  await netns.add(NS)
  h = await netns.open(NS)
  for (const n of [[], ['-n', NS]]) {
    ip(...n, 'link', 'add', DEV, 'type', 'veth', 'peer', 'name', 'icA1')
    ip(...n, 'link', 'set', DEV, 'up')
    ip(...n, 'addr', 'add', '10.61.0.1/24', 'dev', DEV)
  }
})

afterAll(async () => {
  await h?.close()
  await rt?.close()
  await netns.delete(NS, { kill: true }).catch(() => {})
  try {
    ip('link', 'del', DEV)
  } catch {}
})

describe('one input check for every operation', () => {
  it.each(cases.map((c) => [c[0], JSON.stringify(c[1], (_k, v) => (Number.isNaN(v) ? 'NaN' : v)), c] as const))(
    '%s(%s) is EINVAL_ARGUMENT naming the field, before anything is sent, through Rtnl and a handle',
    async (_op, _text, [op, args, field]) => {
      const before = [state(), state(NS)]
      const local = await outcome(rt, op, args)
      const remote = await outcome(h, op, args)
      for (const [where, e] of [
        ['Rtnl', local],
        ['handle', remote],
      ] as const) {
        expect(isNsnetError(e, 'EINVAL_ARGUMENT'), `${where}: ${String(e)}`).toBe(true)
        const err = e as { summary: string; operation?: string }
        expect(err.summary, where).toContain(field)
        expect(err.operation, where).toBe(op.replace(/Many$/, '')) // a batch names its requests' operation
      }
      // The same words both ways; only NaN, which JSON carries to the helper as null, reads differently.
      const words = (e: unknown) => (e as { summary: string }).summary.replace(/\bNaN\b/g, 'null')
      expect(words(remote)).toBe(words(local))
      expect([state(), state(NS)]).toEqual(before)
    },
  )

  it('a signal that is not an AbortSignal is EINVAL_ARGUMENT through both', async () => {
    for (const api of [rt, h]) {
      const e = await outcome(api, 'rules.list', [{}, { signal: 'soon' }])
      expect(isNsnetError(e, 'EINVAL_ARGUMENT'), String(e)).toBe(true)
      expect((e as { summary: string }).summary).toContain('signal')
    }
  })

  it('good input still works through both (the checks are not too strict)', async () => {
    for (const api of [rt, h]) {
      await method(api, 'rules.add')({ priority: 201, table: 100 }, { timeoutMs: 5000 })
      await method(api, 'rules.delete')({ priority: 201, table: 100 }, {})
      await method(api, 'links.list')(undefined, { timeoutMs: 0 })
      await method(api, 'neighbors.add')({ dst: '10.61.0.9', lladdr: '02:00:00:00:00:09', dev: DEV }, undefined)
      await method(api, 'neighbors.delete')({ dst: '10.61.0.9', dev: DEV })
      await method(api, 'addresses.list')({ link: DEV }, { timeoutMs: 3000 })
      await method(api, 'routes.list')({ table: 'all' }, { signal: new AbortController().signal })
    }
    expect(ip('rule', 'show')).not.toContain('201:')
  })
})
