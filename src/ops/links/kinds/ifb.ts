// ifb: no kind data; an Intermediate Functional Block, where a mirred redirect sends a link's
// ingress traffic so that an egress qdisc can shape it (`ip link add NAME type ifb`).
import type { KindCodec } from './kind.js'

export const ifb: KindCodec = { kind: 'ifb', keys: [], dataMax: 0 }
