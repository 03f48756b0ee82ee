// tun/tap: IFLA_TUN_* (<linux/if_link.h>), decoded only. These devices are created by
// opening /dev/net/tun (`ip tuntap add`); the kernel refuses to create them over rtnetlink.
import { attachUnknown, type Field, readFields } from './fields.js'
import type { KindCodec } from './kind.js'

const fields: readonly Field[] = [
  { key: 'owner', attr: 1, type: 'u32' },
  { key: 'group', attr: 2, type: 'u32' },
  { key: 'type', attr: 3, type: 'u8', names: { tun: 1, tap: 2 } },
  { key: 'pi', attr: 4, type: 'bool8' },
  { key: 'vnetHdr', attr: 5, type: 'bool8' },
  { key: 'persist', attr: 6, type: 'bool8' },
  { key: 'multiQueue', attr: 7, type: 'bool8' },
  { key: 'numQueues', attr: 8, type: 'u32' },
  { key: 'numDisabledQueues', attr: 9, type: 'u32' },
]

export const tun: KindCodec = {
  kind: 'tun',
  keys: [],
  notCreatable: 'tun/tap devices are created through /dev/net/tun (ip tuntap add), not rtnetlink',
  dataMax: 9,
  decode(a) {
    const out: Record<string, unknown> = {}
    readFields(a, fields, out)
    attachUnknown(a, out)
    return out
  },
}
