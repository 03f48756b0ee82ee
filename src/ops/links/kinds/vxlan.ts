// vxlan: IFLA_VXLAN_* (<linux/if_link.h>). `remote` (unicast) and `group` (multicast)
// travel in the same attribute; decoding tells them apart by the address.
// `port` is the UDP destination port; without it the kernel uses 8472, not IANA's 4789.
// `ageing` is in seconds.
import type { Attrs, Writer } from '../../../netlink/codec.js'
import { formatIP, parseIP } from '../../../netlink/codec.js'
import type { LinkRef } from '../../context.js'
import { attachUnknown, checkFields, type Field, readFields, writeFields } from './fields.js'
import { type KindCodec, nameOfIndex } from './kind.js'

const IFLA_VXLAN_ID = 1
const IFLA_VXLAN_GROUP = 2
const IFLA_VXLAN_LINK = 3
const IFLA_VXLAN_LOCAL = 4
const IFLA_VXLAN_LEARNING = 7
const IFLA_VXLAN_PORT_RANGE = 10
const IFLA_VXLAN_PORT = 15
const IFLA_VXLAN_GROUP6 = 16
const IFLA_VXLAN_LOCAL6 = 17

// iproute2 writes these as it parses them (so in command order), before the ones it collects;
// we send them in this order, then portRange.
const early: readonly Field[] = [
  { key: 'ttl', attr: 5, type: 'u8' },
  { key: 'tos', attr: 6, type: 'u8' },
  { key: 'ageing', attr: 8, type: 'u32' },
  { key: 'maxAddress', attr: 9, type: 'u32' },
  { key: 'proxy', attr: 11, type: 'bool8' },
  { key: 'l2miss', attr: 13, type: 'bool8' },
  { key: 'l3miss', attr: 14, type: 'bool8' },
  { key: 'udpCsum', attr: 18, type: 'bool8' },
]

// Decoded only.
const others: readonly Field[] = [
  { key: 'id', attr: IFLA_VXLAN_ID, type: 'u32' },
  { key: 'learning', attr: IFLA_VXLAN_LEARNING, type: 'bool8' },
  { key: 'port', attr: IFLA_VXLAN_PORT, type: 'u16be' },
  { key: 'rsc', attr: 12, type: 'bool8' },
  { key: 'udpZeroCsum6Tx', attr: 19, type: 'bool8' },
  { key: 'udpZeroCsum6Rx', attr: 20, type: 'bool8' },
  { key: 'remcsumTx', attr: 21, type: 'bool8' },
  { key: 'remcsumRx', attr: 22, type: 'bool8' },
  { key: 'gbp', attr: 23, type: 'flag' },
  { key: 'remcsumNoPartial', attr: 24, type: 'flag' },
  { key: 'external', attr: 25, type: 'bool8' },
  { key: 'label', attr: 26, type: 'u32be' },
  { key: 'gpe', attr: 27, type: 'flag' },
  { key: 'ttlInherit', attr: 28, type: 'bool8' },
  { key: 'df', attr: 29, type: 'u8', names: { unset: 0, set: 1, inherit: 2 } },
  { key: 'vnifilter', attr: 30, type: 'bool8' },
  // Newer than the 6.1 headers; sent by 6.18.
  { key: 'localbypass', attr: 31, type: 'bool8' },
  { key: 'labelPolicy', attr: 32, type: 'u32', names: { fixed: 0, inherit: 1 } },
  { key: 'reservedBits', attr: 33, type: 'hex' },
]

const STATE_KEYS = [
  'rsc',
  'udpZeroCsum6Tx',
  'udpZeroCsum6Rx',
  'remcsumTx',
  'remcsumRx',
  'gbp',
  'remcsumNoPartial',
  'external',
  'label',
  'gpe',
  'ttlInherit',
  'df',
  'vnifilter',
  'localbypass',
  'labelPolicy',
  'reservedBits',
]

function isMulticast(b: Uint8Array): boolean {
  return b.length === 4 ? b[0]! >= 224 && b[0]! <= 239 : b[0] === 0xff
}

export const vxlan: KindCodec = {
  kind: 'vxlan',
  keys: ['id', 'group', 'remote', 'local', 'dev', 'port', 'portRange', 'learning', ...early.map((f) => f.key)],
  stateKeys: STATE_KEYS,
  defaults: { learning: true, ttl: 0, tos: 0, ageing: 300, maxAddress: 0, proxy: false, l2miss: false, l3miss: false, udpCsum: true, port: 8472 },
  dataMax: 33,
  check(spec, c) {
    if (spec.id === undefined) c.fail('a vxlan needs an id (the VNI)')
    c.int(spec.id, 'id', 0, 0xffffff)
    if (spec.group !== undefined && spec.remote !== undefined) c.fail('give either group (multicast) or remote (unicast), not both')
    let family: 4 | 6 | undefined
    if (spec.group !== undefined) {
      const a = c.ip(spec.group, 'group')
      if (!isMulticast(a.bytes)) c.fail(`group ${spec.group} is not a multicast address; use remote for unicast`)
      family = a.family
    }
    if (spec.remote !== undefined) {
      const a = c.ip(spec.remote, 'remote')
      if (isMulticast(a.bytes)) c.fail(`remote ${spec.remote} is a multicast address; use group`)
      family = a.family
    }
    if (spec.local !== undefined) {
      const a = c.ip(spec.local, 'local', family)
      if (isMulticast(a.bytes)) c.fail(`local ${spec.local} is a multicast address`)
    }
    if (spec.dev !== undefined) c.linkRef(spec.dev, 'dev')
    if (spec.port !== undefined) c.int(spec.port, 'port', 0, 0xffff)
    if (spec.learning !== undefined) c.bool(spec.learning, 'learning')
    if (spec.portRange !== undefined) {
      const r = c.object(spec.portRange, 'portRange')
      c.only(r, new Set(['low', 'high']), 'portRange')
      const low = c.int(r.low, 'portRange.low', 1, 0xffff)
      const high = c.int(r.high, 'portRange.high', 1, 0xffff)
      if (high < low) c.fail(`portRange.high ${high} is below portRange.low ${low}`)
    }
    checkFields(spec, early, c, '')
  },
  // What `ip link set DEV type vxlan ...` may send; the kernel refuses some (the VNI, say).
  changeKeys: ['id', 'remote', 'group', 'local', 'port', 'learning', ...early.map((f) => f.key)],
  checkChange(spec, c) {
    if (spec.id !== undefined) c.int(spec.id, 'id', 0, 0xffffff)
    for (const k of ['remote', 'group', 'local']) if (spec[k] !== undefined) c.ip(spec[k], k)
    if (spec.port !== undefined) c.int(spec.port, 'port', 0, 0xffff)
    if (spec.learning !== undefined) c.bool(spec.learning, 'learning')
    checkFields(spec, early, c, '')
  },
  writeChange(w, spec) {
    writeFields(w, spec, early)
    if (spec.id !== undefined) w.attrU32(IFLA_VXLAN_ID, spec.id as number)
    writeAddresses(w, spec)
    if (spec.learning !== undefined) w.attrU8(IFLA_VXLAN_LEARNING, spec.learning ? 1 : 0)
    if (spec.port !== undefined) w.attrU16be(IFLA_VXLAN_PORT, spec.port as number)
  },
  linkRefs(spec): Record<string, LinkRef> {
    return spec.dev === undefined ? {} : { dev: spec.dev as LinkRef }
  },
  // The order of `ip link add ... type vxlan`: options written while parsing, then
  // id, local, group/remote, learning (always on create) and port.
  writeData(w, spec, r) {
    if (r.links.dev !== undefined) w.attrU32(IFLA_VXLAN_LINK, r.links.dev)
    writeFields(w, spec, early)
    if (spec.portRange !== undefined) {
      const { low, high } = spec.portRange as { low: number; high: number }
      const b = Buffer.alloc(4)
      b.writeUInt16BE(low, 0)
      b.writeUInt16BE(high, 2)
      w.attrBytes(IFLA_VXLAN_PORT_RANGE, b)
    }
    w.attrU32(IFLA_VXLAN_ID, spec.id as number)
    writeAddresses(w, spec)
    w.attrU8(IFLA_VXLAN_LEARNING, spec.learning === false ? 0 : 1)
    if (spec.port) w.attrU16be(IFLA_VXLAN_PORT, spec.port as number)
  },
  decode(a, names) {
    const out: Record<string, unknown> = {}
    readFields(a, others, out)
    const peerAttr = a.has(IFLA_VXLAN_GROUP) ? IFLA_VXLAN_GROUP : a.has(IFLA_VXLAN_GROUP6) ? IFLA_VXLAN_GROUP6 : 0
    if (peerAttr) {
      const b = a.bytes(peerAttr)!
      // The kernel reports an unset remote as all zeros.
      if (b.some((x) => x !== 0)) out[isMulticast(b) ? 'group' : 'remote'] = formatIP(b, 0, b.length)
    }
    const localAttr = a.has(IFLA_VXLAN_LOCAL) ? IFLA_VXLAN_LOCAL : a.has(IFLA_VXLAN_LOCAL6) ? IFLA_VXLAN_LOCAL6 : 0
    if (localAttr) {
      const b = a.bytes(localAttr)!
      if (b.some((x) => x !== 0)) out.local = formatIP(b, 0, b.length)
    }
    const link = a.u32(IFLA_VXLAN_LINK)
    if (link) out.dev = nameOfIndex(names, link)
    readFields(a, early, out)
    const range = portRange(a)
    if (range) out.portRange = range
    attachUnknown(a, out)
    return out
  },
}

/** local, then group or remote, as ip writes them. */
function writeAddresses(w: Writer, spec: Record<string, unknown>): void {
  if (spec.local !== undefined) {
    const a = parseIP(spec.local as string)!
    w.attrBytes(a.family === 4 ? IFLA_VXLAN_LOCAL : IFLA_VXLAN_LOCAL6, a.bytes)
  }
  const peer = (spec.group ?? spec.remote) as string | undefined
  if (peer !== undefined) {
    const a = parseIP(peer)!
    w.attrBytes(a.family === 4 ? IFLA_VXLAN_GROUP : IFLA_VXLAN_GROUP6, a.bytes)
  }
}

function portRange(a: Attrs): { low: number; high: number } | undefined {
  const o = a.fixed(IFLA_VXLAN_PORT_RANGE, 4, 'IFLA_VXLAN_PORT_RANGE')
  if (o < 0) return undefined
  const low = a.buf.readUInt16BE(o),
    high = a.buf.readUInt16BE(o + 2)
  return low === 0 && high === 0 ? undefined : { low, high }
}
