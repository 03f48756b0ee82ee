// ipvlan: IFLA_IPVLAN_MODE and IFLA_IPVLAN_FLAGS (<linux/if_link.h>) on a parent (`link`).
import { attachUnknown, nameOf } from './fields.js'
import type { KindCodec } from './kind.js'

export const IPVLAN_MODES = { l2: 0, l3: 1, l3s: 2 } as const
/** The flag values as iproute2 names them: bridge is "neither private nor vepa". */
export const IPVLAN_FLAGS = { bridge: 0, private: 1, vepa: 2 } as const

const IFLA_IPVLAN_MODE = 1
const IFLA_IPVLAN_FLAGS = 2

export const ipvlan: KindCodec = {
  kind: 'ipvlan',
  keys: ['mode', 'flags'],
  parent: 'required',
  dataMax: 2,
  check(spec, c) {
    if (spec.mode !== undefined) c.oneOf(spec.mode, 'mode', IPVLAN_MODES)
    if (spec.flags !== undefined) c.oneOf(spec.flags, 'flags', IPVLAN_FLAGS)
  },
  // As iproute2: the mode if given, then the flags whenever any option was given.
  writeData(w, spec) {
    if (spec.mode === undefined && spec.flags === undefined) return
    if (spec.mode !== undefined) w.attrU16(IFLA_IPVLAN_MODE, IPVLAN_MODES[spec.mode as keyof typeof IPVLAN_MODES])
    w.attrU16(IFLA_IPVLAN_FLAGS, spec.flags === undefined ? 0 : IPVLAN_FLAGS[spec.flags as keyof typeof IPVLAN_FLAGS])
  },
  decode(a) {
    const out: Record<string, unknown> = {}
    const mode = a.u16(IFLA_IPVLAN_MODE)
    if (mode !== undefined) out.mode = nameOf(IPVLAN_MODES, mode) ?? mode
    const flags = a.u16(IFLA_IPVLAN_FLAGS)
    if (flags !== undefined) out.flags = nameOf(IPVLAN_FLAGS, flags) ?? flags
    attachUnknown(a, out)
    return out
  },
}
