// bridge: IFLA_BR_* (<linux/if_link.h>), and IFLA_BRPORT_* for the ports of a bridge.
//
// Times are in centiseconds (1/100 s, the kernel's clock_t), both in a spec and in `info`,
// exactly as the kernel and `ip -d -j link show` report them: forward_delay 1500 = 15 s.
// iproute2 passes `ip link add ... type bridge forward_delay N` through unchanged, so N is
// centiseconds there too, although ip-link(8) calls it seconds.
import type { Attrs } from '../../../netlink/codec.js'
import { attachUnknown, checkFields, defaultsOf, type Field, readFields, stateKeys, writableKeys, writeFields } from './fields.js'
import type { KindCodec, PortCodec } from './kind.js'

export const VLAN_PROTOCOLS = { '802.1Q': 0x8100, '802.1ad': 0x88a8 } as const

const IFLA_BR_STP_STATE = 5
const IFLA_BR_ROOT_ID = 10
const IFLA_BR_BRIDGE_ID = 11

const fields: readonly Field[] = [
  { key: 'forwardDelay', attr: 1, type: 'u32', default: 1500 },
  { key: 'helloTime', attr: 2, type: 'u32', default: 200 },
  { key: 'maxAge', attr: 3, type: 'u32', default: 2000 },
  { key: 'ageingTime', attr: 4, type: 'u32', default: 30000 },
  { key: 'stpState', attr: IFLA_BR_STP_STATE, type: 'u32', max: 2, default: 0 },
  { key: 'priority', attr: 6, type: 'u16', default: 32768 },
  { key: 'vlanFiltering', attr: 7, type: 'bool8', default: false },
  { key: 'vlanProtocol', attr: 8, type: 'u16be', names: VLAN_PROTOCOLS, default: '802.1Q' },
  { key: 'groupFwdMask', attr: 9, type: 'u16', default: 0 },
  { key: 'rootPort', attr: 12, type: 'u16', state: true },
  { key: 'rootPathCost', attr: 13, type: 'u32', state: true },
  { key: 'topologyChange', attr: 14, type: 'bool8', state: true },
  { key: 'topologyChangeDetected', attr: 15, type: 'bool8', state: true },
  { key: 'helloTimer', attr: 16, type: 'u64', state: true },
  { key: 'tcnTimer', attr: 17, type: 'u64', state: true },
  { key: 'topologyChangeTimer', attr: 18, type: 'u64', state: true },
  { key: 'gcTimer', attr: 19, type: 'u64', state: true },
  { key: 'groupAddr', attr: 20, type: 'mac', default: '01:80:c2:00:00:00' },
  { key: 'mcastRouter', attr: 22, type: 'u8', max: 2, default: 1 },
  { key: 'mcastSnooping', attr: 23, type: 'bool8', default: true },
  { key: 'mcastQueryUseIfaddr', attr: 24, type: 'bool8', default: false },
  { key: 'mcastQuerier', attr: 25, type: 'bool8', default: false },
  { key: 'mcastHashElasticity', attr: 26, type: 'u32', default: 16 },
  { key: 'mcastHashMax', attr: 27, type: 'u32', default: 4096 },
  { key: 'mcastLastMemberCnt', attr: 28, type: 'u32', default: 2 },
  { key: 'mcastStartupQueryCnt', attr: 29, type: 'u32', default: 2 },
  { key: 'mcastLastMemberIntvl', attr: 30, type: 'u64', default: 100 },
  { key: 'mcastMembershipIntvl', attr: 31, type: 'u64', default: 26000 },
  { key: 'mcastQuerierIntvl', attr: 32, type: 'u64', default: 25500 },
  { key: 'mcastQueryIntvl', attr: 33, type: 'u64', default: 12500 },
  { key: 'mcastQueryResponseIntvl', attr: 34, type: 'u64', default: 1000 },
  { key: 'mcastStartupQueryIntvl', attr: 35, type: 'u64', default: 3125 },
  { key: 'nfCallIptables', attr: 36, type: 'bool8', default: false },
  { key: 'nfCallIp6tables', attr: 37, type: 'bool8', default: false },
  { key: 'nfCallArptables', attr: 38, type: 'bool8', default: false },
  { key: 'vlanDefaultPvid', attr: 39, type: 'u16', max: 4094, default: 1 },
  { key: 'vlanStatsEnabled', attr: 41, type: 'bool8', default: false },
  { key: 'mcastStatsEnabled', attr: 42, type: 'bool8', default: false },
  { key: 'mcastIgmpVersion', attr: 43, type: 'u8', min: 2, max: 3, default: 2 },
  { key: 'mcastMldVersion', attr: 44, type: 'u8', min: 1, max: 2, default: 1 },
  { key: 'vlanStatsPerPort', attr: 45, type: 'bool8', default: false },
  // Newer than the 6.1 headers (6.8); sent by 6.18.
  { key: 'fdbNLearned', attr: 48, type: 'u32', state: true },
  { key: 'fdbMaxLearned', attr: 49, type: 'u32', default: 0 },
]

/** struct ifla_bridge_id (priority, MAC) as sysfs prints it: `8000.0a1b2c3d4e5f`. */
function bridgeId(a: Attrs, attr: number): string | undefined {
  const o = a.fixed(attr, 8, 'struct ifla_bridge_id')
  if (o < 0) return undefined
  return a.buf.toString('hex', o, o + 2) + '.' + a.buf.toString('hex', o + 2, o + 8)
}

export const bridge: KindCodec = {
  kind: 'bridge',
  // `stp` is a boolean shorthand for stpState 0/1.
  keys: ['stp', ...writableKeys(fields)],
  stateKeys: ['rootId', 'bridgeId', ...stateKeys(fields)],
  defaults: defaultsOf(fields),
  dataMax: 49,
  check(spec, c) {
    if (spec.stp !== undefined) {
      c.bool(spec.stp, 'stp')
      if (spec.stpState !== undefined) c.fail('give either stp or stpState, not both')
    }
    checkFields(spec, fields, c, '')
  },
  writeData(w, spec) {
    const s = spec.stp === undefined ? spec : { ...spec, stpState: spec.stp ? 1 : 0 }
    writeFields(w, s, fields)
  },
  decode(a) {
    const out: Record<string, unknown> = {}
    readFields(a, fields, out)
    const root = bridgeId(a, IFLA_BR_ROOT_ID)
    if (root) out.rootId = root
    const id = bridgeId(a, IFLA_BR_BRIDGE_ID)
    if (id) out.bridgeId = id
    attachUnknown(a, out)
    return out
  },
}

export const PORT_STATES = { disabled: 0, listening: 1, learning: 2, forwarding: 3, blocking: 4 } as const

const portFields: readonly Field[] = [
  { key: 'state', attr: 1, type: 'u8', names: PORT_STATES },
  { key: 'priority', attr: 2, type: 'u16' },
  { key: 'cost', attr: 3, type: 'u32' },
  { key: 'hairpin', attr: 4, type: 'bool8' },
  { key: 'guard', attr: 5, type: 'bool8' },
  { key: 'rootBlock', attr: 6, type: 'bool8' },
  { key: 'fastleave', attr: 7, type: 'bool8' },
  { key: 'learning', attr: 8, type: 'bool8' },
  { key: 'flood', attr: 9, type: 'bool8' },
  { key: 'proxyArp', attr: 10, type: 'bool8' },
  { key: 'learningSync', attr: 11, type: 'bool8' },
  { key: 'proxyArpWifi', attr: 12, type: 'bool8' },
  { key: 'designatedPort', attr: 15, type: 'u16', state: true },
  { key: 'designatedCost', attr: 16, type: 'u16', state: true },
  { key: 'portId', attr: 17, type: 'u16', state: true },
  { key: 'portNo', attr: 18, type: 'u16', state: true },
  { key: 'topologyChangeAck', attr: 19, type: 'bool8', state: true },
  { key: 'configPending', attr: 20, type: 'bool8', state: true },
  { key: 'messageAgeTimer', attr: 21, type: 'u64', state: true },
  { key: 'forwardDelayTimer', attr: 22, type: 'u64', state: true },
  { key: 'holdTimer', attr: 23, type: 'u64', state: true },
  { key: 'multicastRouter', attr: 25, type: 'u8' },
  { key: 'mcastFlood', attr: 27, type: 'bool8' },
  { key: 'mcastToUnicast', attr: 28, type: 'bool8' },
  { key: 'vlanTunnel', attr: 29, type: 'bool8' },
  { key: 'bcastFlood', attr: 30, type: 'bool8' },
  { key: 'groupFwdMask', attr: 31, type: 'u16' },
  { key: 'neighSuppress', attr: 32, type: 'bool8' },
  { key: 'isolated', attr: 33, type: 'bool8' },
  { key: 'mcastEhtHostsLimit', attr: 37, type: 'u32' },
  { key: 'mcastEhtHostsCnt', attr: 38, type: 'u32', state: true },
  { key: 'locked', attr: 39, type: 'bool8' },
  // Newer than the 6.1 headers; sent by 6.18.
  { key: 'mab', attr: 40, type: 'bool8' },
  { key: 'mcastNGroups', attr: 41, type: 'u32', state: true },
  { key: 'mcastMaxGroups', attr: 42, type: 'u32' },
  { key: 'neighVlanSuppress', attr: 43, type: 'bool8' },
]

/** A port of a bridge (the `info_slave_data` of `ip -d -j link show`). */
export const bridgePort: PortCodec = {
  kind: 'bridge',
  dataMax: 43,
  keys: writableKeys(portFields),
  check(spec, c) {
    checkFields(spec, portFields, c, '')
  },
  write(w, spec) {
    writeFields(w, spec, portFields)
  },
  decode(a) {
    const out: Record<string, unknown> = {}
    readFields(a, portFields, out)
    const root = bridgeId(a, 13)
    if (root) out.rootId = root
    const id = bridgeId(a, 14)
    if (id) out.bridgeId = id
    attachUnknown(a, out)
    return out
  },
}
