// One API, two transports: Rtnl and a namespace handle are both RtnlApi (checked by the
// compiler below), the handle's methods come from the protocol's table of operations, and
// the helper runs those and nothing else.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RtnlApi } from '../../../src/api.js'
import { isNsnetError } from '../../../src/netlink/errors.js'
import { HELPER_OPS, type HelperOp, type OpArgs, type OpResult, type OpTable } from '../../../src/netns/helper/protocol.js'
import { type NetnsHandle, netns } from '../../../src/netns/index.js'
import { Rtnl } from '../../../src/rtnl.js'
import { ensureHelperBundle, ip } from '../support.js'

// --- Compile-time checks (`npm run typecheck`) ---
type IsRtnlApi<T extends RtnlApi> = T
export type BothTransports = [IsRtnlApi<Rtnl>, IsRtnlApi<NetnsHandle>]
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
const typed: [
  Equal<OpArgs<'tc.qdiscs.replace'>, Parameters<Rtnl['tc']['qdiscs']['replace']>>,
  Equal<OpResult<'links.list'>, Awaited<ReturnType<Rtnl['links']['list']>>>,
  Equal<NetnsHandle['nft']['rules']['add'], Rtnl['nft']['rules']['add']>,
] = [true, true, true]
void typed
const { 'links.add': _dropped, ...withoutOne } = HELPER_OPS
// @ts-expect-error a public method missing from the table fails the typecheck
export const incomplete: OpTable = withoutOne
// @ts-expect-error so does a private one, or any other name
export const extra: OpTable = { ...HELPER_OPS, 'links.explainAddError': 2 }
// @ts-expect-error and a wrong count of parameters
export const miscounted: OpTable = { ...HELPER_OPS, 'links.add': 3 }
// @ts-expect-error ethtool.close is not part of the API (Rtnl.close closes its socket)
export const noClose: RtnlApi['ethtool']['close'] = undefined

const NS = 'api-a'
/** The test's own namespace under a name, so a handle's helper sees what Rtnl sees. */
const SELF = 'api-self'
let rt: Rtnl
let h: NetnsHandle
let own: NetnsHandle

beforeAll(async () => {
  await ensureHelperBundle()
  rt = await Rtnl.open()
  await netns.add(NS)
  ip('-n', NS, 'link', 'set', 'lo', 'up')
  h = await netns.open(NS)
  await netns.attach(SELF, process.pid)
  own = await netns.open(SELF)
})

afterAll(async () => {
  await h?.close()
  await own?.close()
  await rt?.close()
  // Only the name goes: the namespace is this process's own.
  try {
    ip('netns', 'delete', SELF)
  } catch {}
  await netns.delete(NS, { kill: true }).catch(() => {})
})

/** The method at an op's path on either transport (the table's paths are the API's). */
function method(api: object, op: string): { fn: unknown; self: object } {
  const path = op.split('.')
  const name = path.pop()!
  let self: object = api
  for (const k of path) self = Reflect.get(self, k) as object
  return { fn: Reflect.get(self, name), self }
}

/** How a call ended: 'ok', or the error's code and first words. */
async function outcome(api: object, op: string, args: unknown[]): Promise<string> {
  const { fn, self } = method(api, op)
  try {
    const r = await Reflect.apply(fn as (...a: unknown[]) => unknown, self, args)
    // A stream (routes.stream) checks its arguments when it is first read.
    if (r && typeof r === 'object' && Symbol.asyncIterator in r) for await (const _ of r as AsyncIterable<unknown>) break
    return 'ok'
  } catch (e) {
    // Anything else the helper sends back as EINTERNAL with its name and message.
    return isNsnetError(e) ? `${e.code}: ${e.summary.replace(/\bNaN\b/g, 'null').split(',')[0]}` : `EINTERNAL: ${String(e)}`
  }
}

/** The structure of a value with the values left out: keys and typeof, the first item of an array. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length ? [shape(v[0])] : []
  // A key whose value is undefined is unset (JSON leaves it out on the way back from the helper).
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v)
        .filter(([, x]) => x !== undefined)
        .sort()
        .map(([k, x]) => [k, shape(x)]),
    )
  return typeof v
}

describe('the helper runs the table and nothing else', () => {
  it('a private method, ethtool.close and an unknown op are EINVAL_ARGUMENT naming the op and the namespace', async () => {
    const refused = async (op: string, message: RegExp) => {
      const e = await h.call(op as HelperOp, [] as never).then(
        () => undefined,
        (x: unknown) => x,
      )
      expect(isNsnetError(e, 'EINVAL_ARGUMENT'), `${op}: ${String(e)}`).toBe(true)
      expect(e).toMatchObject({ operation: op, namespace: NS })
      expect(String(e)).toMatch(message)
      expect(String(e)).toContain(NS)
    }
    await refused('links.explainAddError', /links has no public method "explainAddError"/)
    await refused('routes.constructor', /routes has no public method "constructor"/)
    await refused('ethtool.close', /ethtool has no public method "close"/)
    await refused('tc.qdiscs.modify', /tc.qdiscs has no public method "modify"/)
    await refused('links.list.call', /unknown operation "links.list.call"/)
    await refused('no.such.op', /unknown operation "no.such.op"/)
    await refused('__proto__', /unknown operation "__proto__"/)
    expect('close' in h.ethtool).toBe(false)
    expect('close' in rt.ethtool).toBe(false)
    // The helper is still serving.
    expect((await h.links.get('lo')).ifname).toBe('lo')
  })
})

describe('every op of the table on both transports', () => {
  const ops = Object.keys(HELPER_OPS) as HelperOp[]
  const rtnlOps = ops.filter((op) => !op.startsWith('sysctl.') && !op.startsWith('files.'))

  it('is a method of Rtnl and of a handle, and nothing else of theirs is', () => {
    for (const op of rtnlOps) expect(typeof method(rt, op).fn, `Rtnl ${op}`).toBe('function')
    for (const op of ops) expect(typeof method(h, op).fn, `handle ${op}`).toBe('function')
    // The handle has exactly the table's methods in its groups.
    const groups = new Set(ops.map((op) => op.slice(0, op.lastIndexOf('.'))))
    for (const g of groups) {
      const own = Object.keys(method(h, `${g}.x`).self).filter((k) => typeof Reflect.get(method(h, `${g}.x`).self, k) === 'function')
      expect(own.map((m) => `${g}.${m}`).sort(), g).toEqual(ops.filter((op) => op.slice(0, op.lastIndexOf('.')) === g).sort())
    }
  })

  it('reaches its method through both: nulls for every argument end the same way in-process and through the helper', async () => {
    for (const op of rtnlOps) {
      const args = Array.from({ length: HELPER_OPS[op] }, () => null)
      const local = await outcome(rt, op, args)
      const remote = await outcome(h, op, args)
      expect(remote, op).not.toMatch(/no public method|unknown operation/)
      expect(remote, op).toBe(local)
    }
  })

  it('a list op of each group returns the same shape in-process and through the helper', async () => {
    const calls: Array<[HelperOp, unknown[]]> = [
      ['links.get', ['lo']],
      ['links.list', [{ kind: 'veth' }]],
      ['links.stats', ['lo']],
      ['addresses.list', [{ link: 'lo', family: 'inet' }]],
      ['routes.list', [{ table: 'local', dev: 'lo', family: 'inet' }]],
      ['neighbors.list', [{ link: 'lo' }]],
      ['rules.list', [{ family: 'inet' }]],
      ['ethtool.features', ['lo']],
      ['tc.qdiscs.list', ['lo']],
      ['tc.classes.list', ['lo']],
      ['tc.filters.list', ['lo']],
      ['nexthops.list', []],
      ['bridge.fdb.list', [{ dev: 'lo' }]],
      ['bridge.links.list', []],
      ['bridge.vlans.list', [{ dev: 'lo' }]],
      ['nft.tables.list', [{ family: 'inet' }]],
      ['nft.generation', []],
    ]
    for (const [op, args] of calls) {
      const { fn, self } = method(rt, op)
      const local: unknown = await Reflect.apply(fn as (...a: unknown[]) => unknown, self, args)
      const remote: unknown = await own.call(op, args as never)
      expect(shape(remote), op).toEqual(shape(local))
      if (op !== 'links.get' && op !== 'links.list' && op !== 'links.stats') expect(remote, op).toEqual(local)
    }
    expect(await own.sysctl.get('net.ipv4.ip_forward')).toBe(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim())
    expect(await h.files.list('/proc/sys/net/ipv4/conf')).toContain('lo')
  })

  it('every method checks its call options (the last parameter) before it sends anything, on both transports', async () => {
    const rule = { family: 'inet', table: 'apit', chain: 'c', expr: [{ counter: null }] }
    const route = { dst: '10.99.0.0/24', type: 'blackhole' }
    // Arguments each method accepts, up to its call options (typed: one entry per operation).
    const before: { readonly [K in Exclude<HelperOp, `sysctl.${string}` | `files.${string}`>]: readonly unknown[] } = {
      'links.list': [{}],
      'links.get': ['lo'],
      'links.add': [{ kind: 'bridge', name: 'apibr0' }],
      'links.set': ['lo', { up: true }],
      'links.delete': ['apibr0'],
      'links.waitUp': ['lo'],
      'links.supportsKind': ['bridge'],
      'links.stats': ['lo'],
      'addresses.list': [{}],
      'addresses.add': ['lo', '10.99.0.1/32'],
      'addresses.replace': ['lo', '10.99.0.1/32'],
      'addresses.delete': ['lo', '10.99.0.1/32'],
      'addresses.flush': ['lo'],
      'addresses.waitReady': ['lo', '127.0.0.1'],
      'routes.list': [{}],
      'routes.get': ['127.0.0.1'],
      'routes.add': [route],
      'routes.replace': [route],
      'routes.append': [route],
      'routes.delete': [route],
      'routes.addMany': [[route]],
      'routes.deleteMany': [[route]],
      'routes.stream': [{}],
      'neighbors.list': [{}],
      'neighbors.add': [{ dst: '10.99.0.9', lladdr: '02:00:00:00:00:09', dev: 'lo' }],
      'neighbors.replace': [{ dst: '10.99.0.9', lladdr: '02:00:00:00:00:09', dev: 'lo' }],
      'neighbors.delete': [{ dst: '10.99.0.9', dev: 'lo' }],
      'rules.list': [{}],
      'rules.add': [{ priority: 5, table: 100 }],
      'rules.delete': [{ priority: 5, table: 100 }],
      'ethtool.features': ['lo'],
      'ethtool.setFeatures': ['lo', {}],
      'tc.qdiscs.list': ['lo'],
      'tc.qdiscs.add': [{ dev: 'lo', kind: 'tbf' }],
      'tc.qdiscs.replace': [{ dev: 'lo', kind: 'tbf' }],
      'tc.qdiscs.replaceMany': [[{ dev: 'lo', kind: 'tbf' }]],
      'tc.qdiscs.change': [{ dev: 'lo', kind: 'tbf' }],
      'tc.qdiscs.delete': [{ dev: 'lo', parent: 'root' }],
      'tc.qdiscs.supports': ['tbf'],
      'tc.classes.list': ['lo'],
      'tc.classes.add': [{ dev: 'lo', kind: 'htb' }],
      'tc.classes.replace': [{ dev: 'lo', kind: 'htb' }],
      'tc.classes.change': [{ dev: 'lo', kind: 'htb' }],
      'tc.classes.delete': [{ dev: 'lo', classid: '1:1' }],
      'tc.filters.list': ['lo', {}],
      'tc.filters.add': [{ dev: 'lo', kind: 'u32' }],
      'tc.filters.replace': [{ dev: 'lo', kind: 'u32' }],
      'tc.filters.change': [{ dev: 'lo', kind: 'u32' }],
      'tc.filters.delete': [{ dev: 'lo', kind: 'u32' }],
      'nexthops.list': [{}],
      'nexthops.add': [{ id: 99, blackhole: true }],
      'nexthops.replace': [{ id: 99, blackhole: true }],
      'nexthops.delete': [99],
      'nexthops.flush': [{}],
      'bridge.fdb.list': [{}],
      'bridge.fdb.add': [{ mac: '02:00:00:00:00:09', dev: 'lo' }],
      'bridge.fdb.append': [{ mac: '02:00:00:00:00:09', dev: 'lo' }],
      'bridge.fdb.replace': [{ mac: '02:00:00:00:00:09', dev: 'lo' }],
      'bridge.fdb.delete': [{ mac: '02:00:00:00:00:09', dev: 'lo' }],
      'bridge.links.list': [{}],
      'bridge.links.get': ['lo'],
      'bridge.links.set': ['lo', {}],
      'bridge.vlans.list': [{}],
      'bridge.vlans.add': ['lo', { vid: 5 }],
      'bridge.vlans.delete': ['lo', { vid: 5 }],
      'nft.tables.add': [{ family: 'inet', name: 'apit' }],
      'nft.tables.delete': [{ family: 'inet', name: 'apit' }],
      'nft.tables.list': [{}],
      'nft.chains.add': [{ family: 'inet', table: 'apit', name: 'c' }],
      'nft.chains.delete': [{ family: 'inet', table: 'apit', name: 'c' }],
      'nft.chains.list': [{}],
      'nft.rules.add': [rule],
      'nft.rules.insert': [rule],
      'nft.rules.replace': [{ ...rule, handle: 1 }],
      'nft.rules.delete': [{ ...rule, handle: 1 }],
      'nft.rules.list': [{}],
      'nft.rules.addMany': [[rule]],
      'nft.flush': [{ family: 'inet', name: 'apit' }],
      'nft.ruleset': [],
      'nft.load': [{ nftables: [] }],
      'nft.generation': [],
      'nft.masquerade': [{ from: '10.99.0.0/24' }],
      'nft.snat': [{ from: '10.99.0.0/24', to: '10.99.1.1' }],
      'nft.dnat': [{ proto: 'tcp', port: 80, to: '10.99.0.2' }],
      'nft.forwardPolicy': ['accept', {}],
      'nft.allowForward': [{}],
      'nft.flushForward': [{}],
      'nft.dropRandom': [1, {}],
    }
    const missed: string[] = []
    for (const [op, args] of Object.entries(before) as Array<[HelperOp, readonly unknown[]]>) {
      expect(args.length, op).toBe(HELPER_OPS[op] - 1)
      for (const [where, api] of [
        ['Rtnl', rt],
        ['handle', h],
      ] as const) {
        const got = await outcome(api, op, [...args, { timeoutMs: -1 }])
        if (!/^EINVAL_ARGUMENT: .*timeoutMs/.test(got)) missed.push(`${where} ${op}: ${got}`)
      }
    }
    expect(missed).toEqual([])
  })

  it('call options go in the last parameter of every method, and a signal aborts through both', async () => {
    for (const api of [rt, h] as RtnlApi[]) {
      await expect(api.links.get('lo', { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'EABORTED' })
      await expect(api.tc.filters.list('lo', {}, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'EABORTED' })
      // A filter is not where they go.
      await expect(api.routes.list({ timeoutMs: 5 } as never)).rejects.toMatchObject({ code: 'EINVAL_ARGUMENT' })
    }
    await expect(h.sysctl.get('net.ipv4.ip_forward', { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'EABORTED' })
    await expect(h.files.read('/proc/sys/net/ipv4/ip_forward', { timeoutMs: -1 })).rejects.toMatchObject({ code: 'EINVAL_ARGUMENT', namespace: NS })
  })
})
