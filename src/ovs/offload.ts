// TCP through the userspace (netdev) datapath. A veth hands the bridge packets whose TCP
// checksum is left to "hardware" (CHECKSUM_PARTIAL); the netdev datapath reads them off an
// AF_PACKET socket and forwards them unfinished, so the receiver drops every segment while
// ping (ICMP, checksummed in software) works. Measured here (OVS 3.1): turning TX checksum
// offload off on the bridge-side veth ends does not help; off on their peers (the ends that
// send into the bridge) does; so does vswitchd started with other_config:userspace-tso-enable,
// which makes it finish the checksums itself. Ovs.start() uses the latter (it touches no
// interface); for a vswitchd nsnet did not start, addPort turns TX checksums off on the peer.
import { netns } from '../netns/index.js'
import type { FeatureChanges } from '../ops/ethtool/operations.js'
import { Rtnl } from '../rtnl.js'

/** What addPort changed so that TCP works across the port, if anything. */
export interface OffloadChange {
  /** The namespace of the peer (undefined: the caller's). */
  readonly namespace: string | undefined
  /** The veth end that sends into the bridge, whose TX checksum offload went off. */
  readonly link: string
  /** Kernel features that changed (`tx-checksum-ip-generic: false` ...); empty when they were off already. */
  readonly changed: FeatureChanges
}

/**
 * `ethtool -K PEER tx off` on the veth peer of `port`, where `port` lives in `namespace`
 * (vswitchd's; undefined is the caller's). Returns undefined when `port` is no veth, or its
 * peer's namespace cannot be named from here (a peer in another namespace is found through
 * the caller's nsids, so only when vswitchd runs in the caller's namespace).
 */
export async function checksumOffPeer(namespace: string | undefined, port: string): Promise<OffloadChange | undefined> {
  const rt = namespace ? await netns.open(namespace) : await Rtnl.open()
  try {
    const link = await rt.links.get(port)
    if (link.kind !== 'veth' || link.link_index === undefined) return undefined
    if (link.link_netnsid === undefined) {
      const peer = await rt.links.get(link.link_index)
      return Object.freeze({ namespace, link: peer.ifname, changed: await rt.ethtool.setFeatures(peer.ifname, { tx: false }) })
    }
    if (namespace) return undefined
    const peerNs = (await netns.list()).find((n) => n.id === link.link_netnsid)?.name
    if (!peerNs) return undefined
    const h = await netns.open(peerNs)
    try {
      const peer = await h.links.get(link.link_index)
      return Object.freeze({ namespace: peerNs, link: peer.ifname, changed: await h.ethtool.setFeatures(peer.ifname, { tx: false }) })
    } finally {
      await h.close()
    }
  } finally {
    await rt.close()
  }
}
