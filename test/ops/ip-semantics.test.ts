// Where nsnet and `ip` are given the same request, the kernel must end in the same state.
// Each case runs once through nsnet in this namespace and once through `ip` in a twin
// namespace made identically, and compares `ip -j -d` of both (and whether each refused).
import { execFileSync } from 'node:child_process'
import { beforeEach, describe, expect, it } from 'vitest'
import { isNsnetError, type Rtnl } from '../../src/index.js'
import { ipIn as ipRun, withTwin } from '../support/twin.js'

const TWIN = 'ips-twin'
const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' })
const ipIn = (ns: string | undefined, ...args: string[]) => ipRun(ns, args)

const canonical = (xs: unknown[]) => xs.map((x) => JSON.stringify(x)).sort()

/** State as ip shows it; kernel-made neighbour entries and link counters left out. */
function state(ns?: string): unknown {
  const j = (...a: string[]) => JSON.parse(ipIn(ns, '-j', '-d', ...a).stdout || '[]') as Array<Record<string, unknown>>
  return {
    addr: j('addr', 'show').map((l) => [l.ifname, l.addr_info]),
    // The kernel lists routes of equal key (ff00::/8 on each link) in an order of its own.
    routes: canonical(j('route', 'show', 'table', 'all')),
    routes6: canonical(j('-6', 'route', 'show', 'table', 'all')),
    rules: [j('-4', 'rule', 'show'), j('-6', 'rule', 'show')],
  }
}

function setup(ns?: string): void {
  const run = (...a: string[]) => {
    const r = ipIn(ns, ...a)
    if (r.status) throw new Error(`ip ${a.join(' ')}: ${r.stderr}`)
  }
  // The same MACs and no kernel-made link-local addresses, so both namespaces look alike.
  run('link', 'set', 'lo', 'up')
  run('link', 'add', 'sm0', 'address', '02:00:00:00:70:00', 'type', 'veth', 'peer', 'name', 'sm1', 'address', '02:00:00:00:70:01')
  for (const l of ['sm0', 'sm1']) {
    run('link', 'set', l, 'addrgenmode', 'none')
    run('link', 'set', l, 'up')
  }
  run('addr', 'add', '10.70.0.1/24', 'dev', 'sm0')
  run('-6', 'addr', 'add', '2001:db8:70::1/64', 'dev', 'sm0', 'nodad')
}

function reset(ns?: string): void {
  ipIn(ns, 'link', 'del', 'sm0')
  for (let p = 1; p < 32765; p++) {
    const rules = JSON.parse(ipIn(ns, '-j', 'rule', 'show').stdout) as Array<{ priority: number }>
    const extra = rules.find((r) => r.priority !== 0 && r.priority < 32766)
    if (!extra) break
    ipIn(ns, 'rule', 'del', 'pref', String(extra.priority))
  }
  setup(ns)
}

const twin = withTwin(TWIN, setup)

beforeEach(() => {
  reset()
  reset(TWIN)
})

/** Runs the nsnet call here and the ip command in the twin; both must agree on refusing and on the state after. */
async function same(call: (rt: Rtnl) => Promise<unknown>, ...ipArgs: string[]): Promise<void> {
  const ours = await call(twin.rt).then(
    () => 'ok',
    (e: unknown) => (isNsnetError(e) ? `refused ${e.code}` : `threw ${String(e)}`),
  )
  const r = ipIn(TWIN, ...ipArgs)
  const theirs = r.status === 0 ? 'ok' : `refused (${r.stderr.trim()})`
  expect({ refused: ours !== 'ok', state: state() }, `nsnet ${ours}, ip ${ipArgs.join(' ')}: ${theirs}`).toEqual({
    refused: theirs !== 'ok',
    state: state(TWIN),
  })
}

describe('nsnet and ip leave the same state', () => {
  for (const type of ['local', 'broadcast', 'nat', 'anycast'] as const) {
    it(`a ${type} route without a table goes to table local, as ip puts it`, async () => {
      const dst = type === 'anycast' ? '2001:db8:70::5' : '10.70.0.5'
      await same((r) => r.routes.add({ type, dst, dev: 'sm0' }), 'route', 'add', type, dst, 'dev', 'sm0')
      await same((r) => r.routes.delete({ type, dst, dev: 'sm0' }), 'route', 'del', type, dst, 'dev', 'sm0')
    })
  }

  for (const action of ['unreachable', 'blackhole', 'prohibit', 'nop'] as const) {
    it(`rules.delete({ priority }) removes a ${action} rule, as ip rule del pref does`, async () => {
      await same((r) => r.rules.add({ priority: 300, action }), 'rule', 'add', 'pref', '300', action)
      await same((r) => r.rules.delete({ priority: 300 }), 'rule', 'del', 'pref', '300')
    })
  }

  it('rules.delete({ priority }) removes a goto rule, as ip rule del pref does', async () => {
    await same((r) => r.rules.add({ priority: 310, action: 'goto', goto: 32766 }), 'rule', 'add', 'pref', '310', 'goto', '32766')
    await same((r) => r.rules.delete({ priority: 310 }), 'rule', 'del', 'pref', '310')
  })

  it('rules.delete({}) is refused, as `ip rule del` without arguments', async () => {
    await same((r) => r.rules.delete({}), 'rule', 'del')
    const e = await twin.rt.rules.delete({}).catch((x: unknown) => x)
    expect(isNsnetError(e, 'EINVAL_ARGUMENT'), String(e)).toBe(true)
  })

  it('addresses.add with a peer without a length makes a /32 peer, as ip does', async () => {
    await same((r) => r.addresses.add('sm0', '10.71.0.1/24', { peer: '10.71.0.2' }), 'addr', 'add', '10.71.0.1/24', 'peer', '10.71.0.2', 'dev', 'sm0')
  })

  it("broadcast '-' and '+' with a peer are computed from the peer, as ip does", async () => {
    await same(
      (r) => r.addresses.add('sm0', '10.72.0.1', { peer: '10.72.1.0/24', broadcast: '-' }),
      'addr',
      'add',
      '10.72.0.1',
      'peer',
      '10.72.1.0/24',
      'brd',
      '-',
      'dev',
      'sm0',
    )
    await same(
      (r) => r.addresses.add('sm0', '10.73.0.1', { peer: '10.73.1.0/24', broadcast: '+' }),
      'addr',
      'add',
      '10.73.0.1',
      'peer',
      '10.73.1.0/24',
      'brd',
      '+',
      'dev',
      'sm0',
    )
  })

  it('an IPv6 route with a via of its own family becomes a gateway, as ip does', async () => {
    await same(
      (r) => r.routes.add({ dst: '2001:db8:75::/48', via: { family: 'inet6', host: '2001:db8:70::2' } }),
      'route',
      'add',
      '2001:db8:75::/48',
      'via',
      'inet6',
      '2001:db8:70::2',
    )
    await same(
      (r) => r.routes.add({ dst: '10.75.0.0/16', via: { family: 'inet', host: '10.70.0.2' } }),
      'route',
      'add',
      '10.75.0.0/16',
      'via',
      'inet',
      '10.70.0.2',
    )
  })

  it('a label that does not start with the link name is accepted, as iproute2 >= 5.17 does', async () => {
    await same((r) => r.addresses.add('sm0', '10.76.0.1/24', { label: 'other:1' }), 'addr', 'add', '10.76.0.1/24', 'dev', 'sm0', 'label', 'other:1')
  })
})

describe('lookups of a missing device', () => {
  it('routes.list({ dev }) of a missing link is ENODEV, as addresses, neighbours and ip are', async () => {
    expect(ipIn(undefined, 'route', 'show', 'dev', 'nope').status).not.toBe(0)
    const rt = twin.rt
    for (const p of [rt.routes.list({ dev: 'nope' }), rt.addresses.list({ link: 'nope' }), rt.neighbors.list({ link: 'nope' })]) {
      const e = await p.then(
        () => undefined,
        (x: unknown) => x,
      )
      expect(isNsnetError(e, 'ENODEV'), String(e)).toBe(true)
    }
    expect(ip('route', 'show', 'dev', 'sm0').length).toBeGreaterThan(0)
  })
})
