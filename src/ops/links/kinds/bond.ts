// bond: IFLA_BOND_* (<linux/if_link.h>, values from <linux/if_bonding.h>).
// Times (miimon, updelay, downdelay, arpInterval, peerNotifyDelay) are in milliseconds.
import { attachUnknown, checkFields, type Field, readFields, stateKeys, writableKeys, writeFields } from './fields.js'
import { type KindCodec, nameOfIndex } from './kind.js'

export const BOND_MODES = {
  'balance-rr': 0,
  'active-backup': 1,
  'balance-xor': 2,
  broadcast: 3,
  '802.3ad': 4,
  'balance-tlb': 5,
  'balance-alb': 6,
} as const

const IFLA_BOND_ACTIVE_SLAVE = 2
const IFLA_BOND_PRIMARY = 11

// In attribute order, which is the order we send them in.
const fields: readonly Field[] = [
  { key: 'mode', attr: 1, type: 'u8', names: BOND_MODES },
  { key: 'miimon', attr: 3, type: 'u32' },
  { key: 'updelay', attr: 4, type: 'u32' },
  { key: 'downdelay', attr: 5, type: 'u32' },
  { key: 'useCarrier', attr: 6, type: 'bool8' },
  { key: 'arpInterval', attr: 7, type: 'u32' },
  { key: 'arpValidate', attr: 9, type: 'u32', names: { none: 0, active: 1, backup: 2, all: 3, filter: 4, filter_active: 5, filter_backup: 6 } },
  { key: 'arpAllTargets', attr: 10, type: 'u32', names: { any: 0, all: 1 } },
  { key: 'primaryReselect', attr: 12, type: 'u8', names: { always: 0, better: 1, failure: 2 } },
  { key: 'failOverMac', attr: 13, type: 'u8', names: { none: 0, active: 1, follow: 2 } },
  { key: 'xmitHashPolicy', attr: 14, type: 'u8', names: { layer2: 0, 'layer3+4': 1, 'layer2+3': 2, 'encap2+3': 3, 'encap3+4': 4, 'vlan+srcmac': 5 } },
  { key: 'resendIgmp', attr: 15, type: 'u32' },
  { key: 'numPeerNotif', attr: 16, type: 'u8' },
  { key: 'allSlavesActive', attr: 17, type: 'bool8' },
  { key: 'minLinks', attr: 18, type: 'u32' },
  { key: 'lpInterval', attr: 19, type: 'u32' },
  { key: 'packetsPerSlave', attr: 20, type: 'u32' },
  { key: 'lacpRate', attr: 21, type: 'u8', names: { slow: 0, fast: 1 } },
  { key: 'adSelect', attr: 22, type: 'u8', names: { stable: 0, bandwidth: 1, count: 2 } },
  { key: 'adActorSysPrio', attr: 24, type: 'u16', min: 1 },
  { key: 'adUserPortKey', attr: 25, type: 'u16', max: 1023 },
  { key: 'adActorSystem', attr: 26, type: 'mac' },
  { key: 'tlbDynamicLb', attr: 27, type: 'bool8' },
  { key: 'peerNotifyDelay', attr: 28, type: 'u32' },
  { key: 'lacpActive', attr: 29, type: 'bool8' },
  { key: 'missedMax', attr: 30, type: 'u8', min: 1 },
]

export const bond: KindCodec = {
  kind: 'bond',
  keys: writableKeys(fields),
  stateKeys: ['activeSlave', 'primary', ...stateKeys(fields)],
  dataMax: 32,
  check(spec, c) {
    checkFields(spec, fields, c, '')
  },
  writeData(w, spec) {
    writeFields(w, spec, fields)
  },
  decode(a, names) {
    const out: Record<string, unknown> = {}
    readFields(a, fields, out)
    const active = a.u32(IFLA_BOND_ACTIVE_SLAVE)
    if (active) out.activeSlave = nameOfIndex(names, active)
    const primary = a.u32(IFLA_BOND_PRIMARY)
    if (primary) out.primary = nameOfIndex(names, primary)
    attachUnknown(a, out)
    return out
  },
}
