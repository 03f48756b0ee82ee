// What the bridge messages share: IFLA_AF_SPEC and its IFLA_BRIDGE_* members (<linux/if_bridge.h>).
import type { Writer } from '../../netlink/codec.js'

export const IFLA_AF_SPEC = 26
export const IFLA_EXT_MASK = 29
export const IFLA_BRIDGE_FLAGS = 0
export const IFLA_BRIDGE_MODE = 1
export const IFLA_BRIDGE_VLAN_INFO = 2

export const BRIDGE_FLAGS_MASTER = 1
export const BRIDGE_FLAGS_SELF = 2

/**
 * Opens a nest without NLA_F_NESTED, as iproute2's addattr_nest() does for IFLA_AF_SPEC
 * (the kernel accepts both); keeps our bytes equal to `bridge`'s. Close with endNested().
 */
export function beginPlainNest(w: Writer, type: number): number {
  const start = w.beginNested(type)
  w.buf.writeUInt16LE(type, start + 2)
  return start
}
