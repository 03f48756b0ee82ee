// The ovs-vsctl verbs against a private OVS, with ovs-vsctl as the oracle both ways: what
// nsnet makes, `ovs-vsctl show/list-br/list-ports/get` reports; what ovs-vsctl makes, nsnet
// lists. Bad input is refused before anything is sent; a port vswitchd cannot open is an
// error quoting Interface.error, and leaves nothing behind.
import { execFileSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { isNsnetError } from '../../src/netlink/errors.js'
import { Ovs } from '../../src/ovs/ovs.js'
import { haveOvs, skipReason, vsctl, vsctlList } from './support.js'

describe.skipIf(!haveOvs)(`Ovs verbs vs ovs-vsctl${haveOvs ? '' : ` (skipped: ${skipReason})`}`, () => {
  let ovs: Ovs
  let db: string
  const v = (...a: string[]) => vsctl(db, ...a)
  beforeAll(async () => {
    ovs = await Ovs.start()
    db = ovs.service!.dbSocket
  })
  afterAll(async () => {
    await ovs?.close()
  })

  test('add-br: a netdev bridge with its internal port, applied by vswitchd', async () => {
    await ovs.addBridge('vbr0', { otherConfig: { 'dp-desc': 'nsnet' }, externalIds: { owner: 't' } })
    expect(v('list-br').trim().split('\n')).toContain('vbr0')
    expect(v('get', 'Bridge', 'vbr0', 'datapath_type').trim()).toBe('netdev')
    expect(v('get', 'Bridge', 'vbr0', 'other_config:dp-desc').trim()).toBe('nsnet')
    expect(v('get', 'Bridge', 'vbr0', 'external_ids:owner').trim()).toBe('t')
    expect(Number(v('get', 'Interface', 'vbr0', 'ofport').trim())).toBe(65534)
    const cur = Number(v('get', 'Open_vSwitch', '.', 'cur_cfg').trim())
    expect(cur).toBeGreaterThanOrEqual(Number(v('get', 'Open_vSwitch', '.', 'next_cfg').trim()))
    expect(await ovs.bridgeExists('vbr0')).toBe(true)
    expect(await ovs.listPorts('vbr0')).toEqual([])
  })

  test('add-br of an existing bridge: EEXIST, or nothing with mayExist', async () => {
    const e = await ovs.addBridge('vbr0').catch((x) => x)
    expect(e.code).toBe('EEXIST')
    expect(e.hint).toMatch(/mayExist/)
    const cfg = v('get', 'Open_vSwitch', '.', 'next_cfg').trim()
    await ovs.addBridge('vbr0', { mayExist: true })
    expect(v('get', 'Open_vSwitch', '.', 'next_cfg').trim()).toBe(cfg)
  })

  test('add-port with tag, internal type, options; ovs-vsctl reads them back', async () => {
    execFileSync('ip', ['link', 'add', 'vp0', 'type', 'veth', 'peer', 'name', 'vp0p'])
    await ovs.addPort('vbr0', 'vp0', { tag: 10 })
    await ovs.addPort('vbr0', 'vi0', { type: 'internal', trunks: [20, 30], externalIds: { k: 'v' } })
    expect(v('list-ports', 'vbr0').trim().split('\n')).toEqual(['vi0', 'vp0'])
    expect(v('get', 'Port', 'vp0', 'tag').trim()).toBe('10')
    expect(v('get', 'Port', 'vi0', 'trunks').trim()).toBe('[20, 30]')
    expect(v('get', 'Interface', 'vi0', 'type').trim()).toBe('internal')
    expect(v('port-to-br', 'vi0').trim()).toBe('vbr0')
    expect(Number(v('get', 'Interface', 'vp0', 'ofport').trim())).toBeGreaterThanOrEqual(1)
    const iface = await ovs.getInterface('vp0')
    const [oracle] = vsctlList(db, 'Interface', 'vp0')
    expect(iface!.ofport).toBe(oracle!.ofport)
    expect(iface!.mac_in_use).toBe(oracle!.mac_in_use)
    expect(iface!._uuid).toBe((oracle!._uuid as string[])[1])
    expect(iface!.error).toBeUndefined()
    expect(Object.isFrozen(iface)).toBe(true)
  })

  test('show() has what ovs-vsctl show prints', async () => {
    const s = await ovs.show()
    const text = v('show')
    expect(text.split('\n')[0]).toBe(s.uuid)
    const br = s.bridges.find((b) => b.name === 'vbr0')!
    expect(br.datapath_type).toBe('netdev')
    expect(br.ports.map((p) => p.name)).toEqual(['vbr0', 'vi0', 'vp0'])
    for (const p of br.ports) expect(text).toContain(`Port ${p.name}`)
    expect(br.ports.find((p) => p.name === 'vp0')!.tag).toBe(10)
    expect(text).toMatch(/Port vp0\n\s+tag: 10/)
    expect(br.ports.find((p) => p.name === 'vi0')!.interfaces[0]!.type).toBe('internal')
  })

  test('set port tag / trunks and clearing the tag', async () => {
    await ovs.setPort('vp0', { tag: 42 })
    expect(v('get', 'Port', 'vp0', 'tag').trim()).toBe('42')
    await ovs.setPort('vp0', { tag: null, trunks: [1, 2] })
    expect(v('get', 'Port', 'vp0', 'tag').trim()).toBe('[]')
    expect(v('get', 'Port', 'vp0', 'trunks').trim()).toBe('[1, 2]')
  })

  test('get/set of other_config and external_ids, key by key and whole', async () => {
    await ovs.set('Bridge', 'vbr0', { 'other_config:a': '1', 'external_ids:x': 'y' })
    expect(v('get', 'Bridge', 'vbr0', 'other_config:a').trim()).toBe('"1"') // ovs-vsctl quotes numeric-looking strings
    expect(await ovs.get('Bridge', 'vbr0', 'other_config')).toEqual({ 'dp-desc': 'nsnet', a: '1' })
    await ovs.set('Bridge', 'vbr0', { 'other_config:a': undefined })
    expect(await ovs.get('Bridge', 'vbr0', 'other_config:a')).toBeUndefined()
    await ovs.set('Interface', 'vi0', { external_ids: { only: 'this' } })
    expect(v('get', 'Interface', 'vi0', 'external_ids').trim()).toBe('{only=this}')
    await ovs.set('Open_vSwitch', '.', { 'external_ids:system-id': 'nsnet-test' })
    expect(v('get', 'Open_vSwitch', '.', 'external_ids:system-id').trim()).toBe('nsnet-test')
    // The other direction: ovs-vsctl writes, nsnet reads.
    v('set', 'Port', 'vp0', 'other_config:from=vsctl')
    expect(await ovs.get('Port', 'vp0', 'other_config:from')).toBe('vsctl')
    expect((await ovs.set('Bridge', 'vbr0', { name: 'x' }).catch((x) => x)).code).toBe('EINVAL_ARGUMENT')
  })

  test('what ovs-vsctl makes, nsnet lists (and deletes)', async () => {
    v(
      'add-br',
      'cbr0',
      '--',
      'set',
      'Bridge',
      'cbr0',
      'datapath_type=netdev',
      '--',
      'add-port',
      'cbr0',
      'ci0',
      'tag=5',
      '--',
      'set',
      'Interface',
      'ci0',
      'type=internal',
    )
    expect(await ovs.listBridges()).toEqual(['cbr0', 'vbr0'])
    expect(await ovs.listPorts('cbr0')).toEqual(['ci0'])
    expect(await ovs.portToBridge('ci0')).toBe('cbr0')
    expect(await ovs.get('Port', 'ci0', 'tag')).toBe(5)
    expect((await ovs.getInterface('ci0'))!.ofport).toBeGreaterThanOrEqual(1)
    await ovs.deletePort('cbr0', 'ci0')
    expect(v('list-ports', 'cbr0').trim()).toBe('')
    await ovs.deleteBridge('cbr0')
    expect(v('list-br').trim()).toBe('vbr0')
    // Port rows go with their bridge (garbage collection), as ovs-vsctl sees it.
    expect(vsctlList(db, 'Port').map((p) => p.name)).not.toContain('cbr0')
  })

  test('del-port / del-br of what is not there: ENOTFOUND, or nothing with ifExists', async () => {
    expect((await ovs.deletePort('vbr0', 'nope').catch((x) => x)).code).toBe('ENOTFOUND')
    await ovs.deletePort('vbr0', 'nope', { ifExists: true })
    expect((await ovs.deleteBridge('nobr').catch((x) => x)).code).toBe('ENOTFOUND')
    await ovs.deleteBridge('nobr', { ifExists: true })
    expect((await ovs.deletePort('vbr0', 'vbr0').catch((x) => x)).code).toBe('EINVAL_ARGUMENT')
  })

  test('bad input is refused before anything is sent', async () => {
    const cfg = v('get', 'Open_vSwitch', '.', 'next_cfg').trim()
    const cases: Array<Promise<unknown>> = [
      ovs.addBridge('a-name-of-16-byt'),
      ovs.addBridge('has space'),
      ovs.addPort('vbr0', 'p1', { tag: 4096 }),
      ovs.addPort('vbr0', 'p1', { tag: -1 }),
      ovs.addPort('vbr0', 'p1', { type: 'gre' as never }),
      ovs.addPort('vbr0', 'p1', { trunks: [1, 5000] }),
      ovs.addPort('vbr0', 'p1', { type: 'patch' }),
      ovs.addPort('vbr0', 'p1', { options: { a: 1 as never } }),
      ovs.setPort('vp0', { tag: 1.5 }),
    ]
    for (const c of cases) expect(((await c.catch((x: unknown) => x)) as { code?: unknown }).code).toBe('EINVAL_ARGUMENT')
    const missing = await ovs.addPort('nobridge', 'p1').catch((x) => x)
    expect(missing.code).toBe('ENOTFOUND')
    expect(missing.summary).toMatch(/no bridge named nobridge/)
    expect(v('get', 'Open_vSwitch', '.', 'next_cfg').trim()).toBe(cfg)
  })

  test('a port vswitchd cannot open is an error quoting Interface.error; nothing stays in the database', async () => {
    const e = await ovs.addPort('vbr0', 'ghost0').catch((x) => x)
    expect(isNsnetError(e, 'EOVSDB')).toBe(true)
    expect(e.summary).toMatch(/interface ghost0: could not open network device ghost0 \(No such device\)/)
    expect(e.object).toBe('port ghost0 on bridge vbr0')
    expect(v('list-ports', 'vbr0')).not.toMatch(/ghost0/)
  })

  test('a bridge that cannot be created (system datapath, no kernel module) is an error with the reason', async () => {
    const e = await ovs.addBridge('sysbr0', { datapathType: 'system' }).catch((x) => x)
    expect(isNsnetError(e, 'EOVSDB')).toBe(true)
    expect(e.summary).toMatch(/sysbr0/)
    expect(e.hint).toMatch(/sysbr0|datapath/)
    expect(v('list-br')).not.toMatch(/sysbr0/)
  })

  test('concurrent addPorts go out as one transaction and all land; the same name twice fails once; a bad one fails alone', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `cc${i}`)
    await Promise.all(names.map((n) => ovs.addPort('vbr0', n, { type: 'internal' })))
    const listed = v('list-ports', 'vbr0').trim().split('\n')
    for (const n of names) expect(listed).toContain(n)
    const both = await Promise.allSettled([ovs.addPort('vbr0', 'dup0', { type: 'internal' }), ovs.addPort('vbr0', 'dup0', { type: 'internal' })])
    expect(both.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected'])
    expect(((both.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason as Error).message).toMatch(/constraint violation/)
    // One transaction for both, but each gets its own answer: the port vswitchd cannot open fails alone.
    const mixed = await Promise.allSettled([ovs.addPort('vbr0', 'okint0', { type: 'internal' }), ovs.addPort('vbr0', 'ghost1')])
    expect(mixed[0]!.status).toBe('fulfilled')
    expect(((mixed[1] as PromiseRejectedResult).reason as Error).message).toMatch(/interface ghost1: could not open network device ghost1/)
    expect(v('list-ports', 'vbr0')).not.toMatch(/ghost1/)
    for (const n of [...names, 'dup0', 'okint0']) await ovs.deletePort('vbr0', n)
    expect(v('list-ports', 'vbr0')).not.toMatch(/cc|dup0/)
  })

  test('patch ports between two bridges and a vxlan port get ofports; ovs-vsctl reads their options', async () => {
    await ovs.addBridge('vbr1')
    await Promise.all([
      ovs.addPort('vbr0', 'pa', { type: 'patch', options: { peer: 'pb' } }),
      ovs.addPort('vbr1', 'pb', { type: 'patch', options: { peer: 'pa' } }),
    ])
    expect(v('get', 'Interface', 'pa', 'options:peer').trim()).toBe('pb')
    expect(v('get', 'Interface', 'pb', 'type').trim()).toBe('patch')
    expect((await ovs.getInterface('pb'))!.ofport).toBeGreaterThanOrEqual(1)
    await ovs.addPort('vbr1', 'vx0', { type: 'vxlan', options: { remote_ip: '192.0.2.9', key: '42' } })
    expect(v('get', 'Interface', 'vx0', 'options').trim()).toBe('{key="42", remote_ip="192.0.2.9"}')
    expect(Number(v('get', 'Interface', 'vx0', 'ofport').trim())).toBeGreaterThanOrEqual(1)
    await ovs.deletePort('vbr0', 'pa')
    await ovs.deleteBridge('vbr1')
    expect(v('list-br').trim()).toBe('vbr0')
  })

  test('noWait writes without waiting for vswitchd (ovs-vsctl --no-wait)', async () => {
    await ovs.addPort('vbr0', 'vi9', { type: 'internal', noWait: true })
    expect(v('list-ports', 'vbr0')).toMatch(/vi9/)
    await ovs.deletePort(undefined, 'vi9')
  })
})
