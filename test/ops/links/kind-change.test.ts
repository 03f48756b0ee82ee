// Changing kind options of existing links (`ip link set DEV type bridge|vxlan|bridge_slave ...`),
// checked with `ip -d -j link show` both ways.
import { execFileSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isNsnetError } from '../../../src/netlink/errors.js'
import { Rtnl } from '../../../src/rtnl.js'

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' })
const show = (dev: string): Record<string, any> => JSON.parse(ip('-d', '-j', 'link', 'show', 'dev', dev))[0]

let rt: Rtnl
beforeAll(async () => {
  rt = await Rtnl.open()
  ip('link', 'add', 'kcbr0', 'type', 'bridge')
  ip('link', 'add', 'kcv0', 'type', 'veth', 'peer', 'name', 'kcv1')
  ip('link', 'set', 'kcv0', 'master', 'kcbr0')
  ip('addr', 'add', '10.6.0.1/24', 'dev', 'kcv1')
  ip('link', 'add', 'kcvx0', 'type', 'vxlan', 'id', '42', 'dstport', '4789', 'local', '10.6.0.1')
})
afterAll(async () => {
  for (const l of ['kcvx0', 'kcv0', 'kcbr0'])
    try {
      ip('link', 'del', l)
    } catch {}
  await rt?.close()
})

describe('links.set with kind options', () => {
  it("bridge: stp, forward delay, ageing, multicast snooping, vlan protocol; ip shows them, nsnet reads ip's", async () => {
    await rt.links.set('kcbr0', { info: { stp: true, forwardDelay: 400, ageingTime: 12000, mcastSnooping: false, helloTime: 300 } })
    const d = show('kcbr0').linkinfo.info_data
    expect(d).toMatchObject({ stp_state: 1, forward_delay: 400, ageing_time: 12000, mcast_snooping: 0, hello_time: 300 })
    ip('link', 'set', 'kcbr0', 'type', 'bridge', 'stp_state', '0', 'ageing_time', '9000')
    expect((await rt.links.get('kcbr0')).info).toMatchObject({ stpState: 0, ageingTime: 9000, forwardDelay: 400, mcastSnooping: false })
    // Options not given stay as they are.
    await rt.links.set('kcbr0', { mtu: 1400, info: { priority: 4096 } })
    expect(show('kcbr0')).toMatchObject({ mtu: 1400, linkinfo: { info_data: { priority: 4096, ageing_time: 9000, forward_delay: 400 } } })
  })

  it('bridge port (bridge_slave): cost, priority, learning, isolated, as ip link set type bridge_slave', async () => {
    await rt.links.set('kcv0', { slaveInfo: { cost: 33, priority: 7, learning: false, isolated: true, neighSuppress: true } })
    expect(show('kcv0').linkinfo.info_slave_data).toMatchObject({ cost: 33, priority: 7, learning: false, isolated: true, neigh_suppress: true })
    ip('link', 'set', 'kcv0', 'type', 'bridge_slave', 'cost', '44', 'learning', 'on')
    expect((await rt.links.get('kcv0')).slaveInfo).toMatchObject({ cost: 44, learning: true, isolated: true })
  })

  it('vxlan: ttl, tos, ageing, learning change; the VNI cannot, and the refusal names it', async () => {
    await rt.links.set('kcvx0', { info: { ttl: 9, ageing: 120, learning: false, tos: 5, remote: '10.6.0.9' } })
    expect(show('kcvx0').linkinfo.info_data).toMatchObject({ ttl: 9, ageing: 120, learning: false, tos: '0x5', remote: '10.6.0.9', id: 42 })
    ip('link', 'set', 'kcvx0', 'type', 'vxlan', 'ttl', '11', 'learning')
    expect((await rt.links.get('kcvx0')).info).toMatchObject({ ttl: 11, learning: true, ageing: 120 })
    // The kernel refuses some (maxaddress: "Cannot change limit"), as it refuses ip.
    const limit = await rt.links.set('kcvx0', { info: { maxAddress: 50 } }).catch((x) => x)
    expect(limit.code).toBe('EOPNOTSUPP')
    expect(limit.message).toContain('changing vxlan maxAddress')
    const e = await rt.links.set('kcvx0', { info: { id: 43 } }).catch((x) => x)
    expect(e).toBeInstanceOf(Error)
    expect(e.code).toMatch(/^E(OPNOTSUPP|INVAL)$/)
    expect(e.message).toContain('changing vxlan id')
    expect(show('kcvx0').linkinfo.info_data.id).toBe(42)
  })

  it('bad kind options are EINVAL_ARGUMENT naming the option, before anything is changed', async () => {
    // Timers move by themselves; compare what a change would touch.
    const settled = () => {
      const {
        mtu,
        linkinfo: { info_data: d },
      } = show('kcbr0')
      return { mtu, stp: d.stp_state, fd: d.forward_delay, age: d.ageing_time, prio: d.priority }
    }
    const before = settled()
    const cases: Array<[string, unknown, RegExp]> = [
      ['kcbr0', { info: { forwardDelay: -1 } }, /forwardDelay must be an integer/],
      ['kcbr0', { info: { stp: 'yes' } }, /stp must be true or false/],
      ['kcbr0', { info: { ttl: 3 } }, /bridge info has unknown field "ttl"/],
      ['kcvx0', { info: { ttl: 300 } }, /ttl must be an integer from 0 to 255/],
      ['kcvx0', { info: { remote: 'nowhere' } }, /remote must be an IPv/],
      ['kcv0', { slaveInfo: { cost: 'high' } }, /cost must be an integer/],
      ['kcv0', { slaveInfo: { portId: 3 } }, /unknown field "portId"/],
      ['lo', { info: { stp: true } }, /has no kind/],
      ['kcbr0', { info: 'stp on' }, /info must be an object/],
    ]
    for (const [dev, changes, msg] of cases) {
      const e = await rt.links.set(dev, changes as never).catch((x) => x)
      expect(isNsnetError(e, 'EINVAL_ARGUMENT'), `${dev} ${JSON.stringify(changes)}: ${e}`).toBe(true)
      expect(e.message).toMatch(msg)
    }
    expect(settled()).toEqual(before)
  })
})
