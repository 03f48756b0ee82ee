// wireguard: rtnetlink only creates the device; keys and peers are set over the
// "wireguard" generic netlink family, which nsnet does not speak.
import type { KindCodec } from './kind.js'

export const wireguard: KindCodec = { kind: 'wireguard', keys: [], dataMax: 0 }
