// vrf: IFLA_VRF_TABLE (<linux/if_link.h>), the routing table the VRF device binds to.
import { attachUnknown, type Field, readFields } from './fields.js'
import type { KindCodec } from './kind.js'

const fields: readonly Field[] = [{ key: 'table', attr: 1, type: 'u32' }]

export const vrf: KindCodec = {
  kind: 'vrf',
  keys: ['table'],
  dataMax: 1,
  check(spec, c) {
    if (spec.table === undefined) c.fail('a vrf needs a routing table id')
    c.int(spec.table, 'table', 1, 0xffffffff)
  },
  writeData(w, spec) {
    w.attrU32(1, spec.table as number)
  },
  decode(a) {
    const out: Record<string, unknown> = {}
    readFields(a, fields, out)
    attachUnknown(a, out)
    return out
  },
}
