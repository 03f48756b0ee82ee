// vlan (802.1Q/802.1ad): IFLA_VLAN_* (<linux/if_link.h>, <linux/if_vlan.h>) on a parent (`link`).
import { type Attrs, fixedAt } from '../../../netlink/codec.js'
import { VLAN_PROTOCOLS } from './bridge.js'
import { attachUnknown, checkFields, type Field, readFields, writeFields } from './fields.js'
import type { KindCodec } from './kind.js'

const IFLA_VLAN_FLAGS = 2
const IFLA_VLAN_EGRESS_QOS = 3
const IFLA_VLAN_INGRESS_QOS = 4
const IFLA_VLAN_QOS_MAPPING = 1

const fields: readonly Field[] = [
  { key: 'id', attr: 1, type: 'u16', max: 4094 },
  { key: 'protocol', attr: 5, type: 'u16be', names: VLAN_PROTOCOLS },
]

/** struct ifla_vlan_flags bits, as booleans in a spec and in `info`. */
const FLAG_BITS: ReadonlyArray<readonly [string, number]> = [
  ['reorderHdr', 0x1],
  ['gvrp', 0x2],
  ['looseBinding', 0x4],
  ['mvrp', 0x8],
  ['bridgeBinding', 0x10],
]

export const vlan: KindCodec = {
  kind: 'vlan',
  keys: ['id', 'protocol', ...FLAG_BITS.map(([k]) => k)],
  stateKeys: ['ingressQos', 'egressQos'],
  parent: 'required',
  defaults: { protocol: '802.1Q', reorderHdr: true, gvrp: false, looseBinding: false, mvrp: false, bridgeBinding: false },
  dataMax: 5,
  check(spec, c) {
    if (spec.id === undefined) c.fail('a vlan needs an id (0-4094)')
    checkFields(spec, fields, c, '')
    for (const [k] of FLAG_BITS) if (spec[k] !== undefined) c.bool(spec[k], k)
  },
  // iproute2 writes id and protocol while parsing, the flags at the end.
  writeData(w, spec) {
    writeFields(w, spec, fields)
    let flags = 0,
      mask = 0
    for (const [k, bit] of FLAG_BITS) {
      if (spec[k] === undefined) continue
      mask |= bit
      if (spec[k]) flags |= bit
    }
    if (mask) {
      const b = Buffer.alloc(8)
      b.writeUInt32LE(flags, 0)
      b.writeUInt32LE(mask, 4)
      w.attrBytes(IFLA_VLAN_FLAGS, b)
    }
  },
  decode(a) {
    const out: Record<string, unknown> = {}
    readFields(a, fields, out)
    // struct ifla_vlan_flags { u32 flags, mask }.
    const fo = a.fixed(IFLA_VLAN_FLAGS, 8, 'IFLA_VLAN_FLAGS')
    if (fo >= 0) {
      const flags = a.buf.readUInt32LE(fo)
      for (const [k, bit] of FLAG_BITS) out[k] = (flags & bit) !== 0
    }
    const ingress = qosMap(a, IFLA_VLAN_INGRESS_QOS)
    if (ingress) out.ingressQos = ingress
    const egress = qosMap(a, IFLA_VLAN_EGRESS_QOS)
    if (egress) out.egressQos = egress
    attachUnknown(a, out)
    return out
  },
}

/** A nested list of struct ifla_vlan_qos_mapping { u32 from, to }. */
function qosMap(a: Attrs, attr: number): Array<{ from: number; to: number }> | undefined {
  const n = a.nested(attr, IFLA_VLAN_QOS_MAPPING)
  if (!n) return undefined
  const out: Array<{ from: number; to: number }> = []
  for (const [o, len] of n.all(IFLA_VLAN_QOS_MAPPING)) {
    fixedAt(o, len, 8, 'IFLA_VLAN_QOS_MAPPING')
    out.push({ from: a.buf.readUInt32LE(o), to: a.buf.readUInt32LE(o + 4) })
  }
  return out.length ? out : undefined
}
