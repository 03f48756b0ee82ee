// veth: a pair of devices. The peer is described inside VETH_INFO_PEER (<linux/veth.h>)
// as its own ifinfomsg plus device attributes, and can be created straight into another
// namespace. Without peer.namespace the peer lands in the caller's namespace, even when
// the device itself is created elsewhere (kernel behaviour, checked in the tests).
// The kernel does not report veth data back: a veth's `info` is undefined and its peer
// shows up as `link` (same namespace) or `link_index` + `link_netnsid`.

import { parseMac } from '../../../netlink/codec.js'
import type { NamespaceRef } from '../../netns-ref.js'
import { writeDeviceAttrs, writeIfinfomsg } from '../attrs.js'
import type { KindCodec } from './kind.js'

const VETH_INFO_PEER = 1
const PEER_KEYS = new Set(['name', 'namespace', 'address', 'mtu', 'txqlen'])

export const veth: KindCodec = {
  kind: 'veth',
  keys: ['peer'],
  dataMax: 1,
  check(spec, c) {
    if (spec.peer === undefined) c.fail('a veth needs a peer: { peer: { name } }')
    const p = c.object(spec.peer, 'peer')
    c.only(p, PEER_KEYS, 'peer')
    if (p.name === undefined) c.fail('a veth needs peer.name')
    c.linkName(p.name, 'peer.name')
    if (p.name === spec.name && p.namespace === undefined && spec.namespace === undefined) {
      c.fail(`peer.name "${p.name}" is the same as the device's name`)
    }
    if (p.address !== undefined) c.mac(p.address, 'peer.address')
    if (p.mtu !== undefined) c.int(p.mtu, 'peer.mtu', 0, 0xffffffff)
    if (p.txqlen !== undefined) c.int(p.txqlen, 'peer.txqlen', 0, 0xffffffff)
  },
  namespaceRefs(spec): Record<string, NamespaceRef> {
    const p = spec.peer as { namespace?: NamespaceRef }
    return p.namespace === undefined ? {} : { peer: p.namespace }
  },
  writeData(w, spec, r) {
    const p = spec.peer as { name: string; address?: string; mtu?: number; txqlen?: number }
    const start = w.beginNested(VETH_INFO_PEER)
    writeIfinfomsg(w)
    writeDeviceAttrs(w, {
      name: p.name,
      mtu: p.mtu,
      address: p.address === undefined ? undefined : parseMac(p.address),
      txqlen: p.txqlen,
      namespace: r.namespaces.peer,
    })
    w.endNested(start)
  },
}
