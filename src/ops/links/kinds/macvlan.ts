// macvlan: IFLA_MACVLAN_* (<linux/if_link.h>) on top of a parent device (`link`).
import { attachUnknown, checkFields, type Field, readFields, writeFields } from './fields.js'
import type { KindCodec } from './kind.js'

export const MACVLAN_MODES = { private: 1, vepa: 2, bridge: 4, passthru: 8, source: 16 } as const

const IFLA_MACVLAN_MODE = 1
const IFLA_MACVLAN_FLAGS = 2
const MACVLAN_FLAG_NOPROMISC = 1
const MACVLAN_FLAG_NODST = 2

// iproute2 writes bcqueuelen while parsing, then mode, then the flags.
const fields: readonly Field[] = [
  { key: 'bcQueueLen', attr: 7, type: 'u32' },
  { key: 'mode', attr: IFLA_MACVLAN_MODE, type: 'u32', names: MACVLAN_MODES },
]
const decoded: readonly Field[] = [
  ...fields,
  { key: 'macaddrCount', attr: 6, type: 'u32', state: true },
  { key: 'usedBcQueueLen', attr: 8, type: 'u32', state: true },
]

export const macvlan: KindCodec = {
  kind: 'macvlan',
  keys: ['mode', 'nopromisc', 'nodst', 'bcQueueLen'],
  stateKeys: ['macaddrCount', 'usedBcQueueLen'],
  parent: 'required',
  defaults: { bcQueueLen: 1000, nopromisc: false, nodst: false },
  dataMax: 8,
  check(spec, c) {
    checkFields(spec, fields, c, '')
    if (spec.nopromisc !== undefined) c.bool(spec.nopromisc, 'nopromisc')
    if (spec.nodst !== undefined) c.bool(spec.nodst, 'nodst')
    if (spec.nopromisc === true && spec.mode !== 'passthru') c.fail('nopromisc is only valid in passthru mode')
  },
  writeData(w, spec) {
    writeFields(w, spec, fields)
    if (spec.nopromisc !== undefined || spec.nodst !== undefined) {
      w.attrU16(IFLA_MACVLAN_FLAGS, (spec.nopromisc ? MACVLAN_FLAG_NOPROMISC : 0) | (spec.nodst ? MACVLAN_FLAG_NODST : 0))
    }
  },
  decode(a) {
    const out: Record<string, unknown> = {}
    readFields(a, decoded, out)
    const flags = a.u16(IFLA_MACVLAN_FLAGS)
    if (flags !== undefined) {
      out.nopromisc = (flags & MACVLAN_FLAG_NOPROMISC) !== 0
      out.nodst = (flags & MACVLAN_FLAG_NODST) !== 0
    }
    attachUnknown(a, out)
    return out
  },
}
