// The golden cases: an `ip` command line and the nsnet spec that must encode to the same
// bytes. capture.ts records what iproute2 sends for each (vectors.json); kinds.test.ts
// encodes the spec and compares. Options are given to ip in the order nsnet writes them.
//
// Every case runs in a fresh network namespace prepared by SETUP, so indexes are fixed:
// lo = 1, br0 = 2, v1 = 3, v0 = 4 (a veth's peer registers first). The netns `nsnet-golden` is opened by ip as fd 4.

export const SETUP = [
  'ip link add br0 type bridge',
  'ip link add v0 type veth peer name v1',
]
export const NETNS = 'nsnet-golden'

export interface GoldenCase {
  readonly name: string
  /** Arguments to `ip`. */
  readonly ip: readonly string[]
  readonly op: 'add' | 'set' | 'delete'
  /** add: a LinkSpec; set: the changes; delete: unused. */
  readonly spec?: Record<string, unknown>
  /** set/delete: the ifindex ip resolved the device to. */
  readonly index?: number
  /** Link references and their indexes, as resolved in SETUP's namespace. */
  readonly links?: Record<string, number>
  /** Which namespace keys the spec opens (their fd is ip's, read from the capture). */
  readonly namespaces?: readonly string[]
  /** Kinds this kernel lacks: ip's request fails, which the capture does not mind. */
  readonly kernelLacks?: boolean
}

const ns = NETNS

export const CASES: readonly GoldenCase[] = [
  // ---- veth ----
  { name: 'veth', op: 'add', ip: ['link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb'],
    spec: { kind: 'veth', name: 'va', peer: { name: 'vb' } } },
  { name: 'veth-options', op: 'add',
    ip: ['link', 'add', 'mtu', '1400', 'address', '02:00:00:00:00:01', 'txqueuelen', '500', 'alias', 'hello world',
      'master', 'br0', 'name', 'va', 'up', 'type', 'veth', 'peer', 'mtu', '1300', 'address', '02:00:00:00:00:02',
      'txqueuelen', '600', 'name', 'vb'],
    spec: { kind: 'veth', name: 'va', mtu: 1400, address: '02:00:00:00:00:01', txqlen: 500, alias: 'hello world',
      master: 'br0', up: true, peer: { name: 'vb', mtu: 1300, address: '02:00:00:00:00:02', txqlen: 600 } },
    links: { master: 2 } },
  { name: 'veth-peer-netns', op: 'add', ip: ['link', 'add', 'va', 'type', 'veth', 'peer', 'netns', ns, 'name', 'vb'],
    spec: { kind: 'veth', name: 'va', peer: { name: 'vb', namespace: ns } }, namespaces: ['peer'] },
  { name: 'veth-self-netns', op: 'add', ip: ['link', 'add', 'netns', ns, 'name', 'va', 'type', 'veth', 'peer', 'name', 'vb'],
    spec: { kind: 'veth', name: 'va', namespace: ns, peer: { name: 'vb' } }, namespaces: ['self'] },

  // ---- bridge ----
  { name: 'bridge', op: 'add', ip: ['link', 'add', 'br1', 'type', 'bridge'], spec: { kind: 'bridge', name: 'br1' } },
  { name: 'bridge-stp', op: 'add', ip: ['link', 'add', 'br1', 'type', 'bridge', 'stp_state', '1'],
    spec: { kind: 'bridge', name: 'br1', stp: true } },
  { name: 'bridge-options', op: 'add',
    ip: ['link', 'add', 'br1', 'type', 'bridge', 'forward_delay', '400', 'hello_time', '300', 'max_age', '2500',
      'ageing_time', '6000', 'stp_state', '0', 'priority', '100', 'vlan_filtering', '1', 'vlan_protocol', '802.1ad',
      'group_fwd_mask', '8', 'group_address', '01:80:c2:00:00:0e', 'mcast_router', '2', 'mcast_snooping', '0',
      'mcast_query_use_ifaddr', '1', 'mcast_querier', '1', 'mcast_hash_elasticity', '8', 'mcast_hash_max', '512',
      'mcast_last_member_count', '3', 'mcast_startup_query_count', '4', 'mcast_last_member_interval', '200',
      'mcast_membership_interval', '30000', 'mcast_querier_interval', '26000', 'mcast_query_interval', '13000',
      'mcast_query_response_interval', '900', 'mcast_startup_query_interval', '3000', 'nf_call_iptables', '1',
      'nf_call_ip6tables', '1', 'nf_call_arptables', '1', 'vlan_default_pvid', '10', 'vlan_stats_enabled', '1',
      'mcast_stats_enabled', '1', 'mcast_igmp_version', '3', 'mcast_mld_version', '2', 'vlan_stats_per_port', '1'],
    spec: { kind: 'bridge', name: 'br1', forwardDelay: 400, helloTime: 300, maxAge: 2500, ageingTime: 6000, stpState: 0,
      priority: 100, vlanFiltering: true, vlanProtocol: '802.1ad', groupFwdMask: 8, groupAddr: '01:80:c2:00:00:0e',
      mcastRouter: 2, mcastSnooping: false, mcastQueryUseIfaddr: true, mcastQuerier: true, mcastHashElasticity: 8,
      mcastHashMax: 512, mcastLastMemberCnt: 3, mcastStartupQueryCnt: 4, mcastLastMemberIntvl: 200,
      mcastMembershipIntvl: 30000, mcastQuerierIntvl: 26000, mcastQueryIntvl: 13000, mcastQueryResponseIntvl: 900,
      mcastStartupQueryIntvl: 3000, nfCallIptables: true, nfCallIp6tables: true, nfCallArptables: true,
      vlanDefaultPvid: 10, vlanStatsEnabled: true, mcastStatsEnabled: true, mcastIgmpVersion: 3, mcastMldVersion: 2,
      vlanStatsPerPort: true } },

  // ---- vxlan ----
  { name: 'vxlan', op: 'add', ip: ['link', 'add', 'vx1', 'type', 'vxlan', 'id', '1'], spec: { kind: 'vxlan', name: 'vx1', id: 1 } },
  { name: 'vxlan-options', op: 'add',
    ip: ['link', 'add', 'vx1', 'type', 'vxlan', 'dev', 'lo', 'ttl', '10', 'tos', '4', 'ageing', '100', 'maxaddress', '50',
      'proxy', 'l2miss', 'l3miss', 'udpcsum', 'srcport', '1000', '2000', 'id', '42', 'local', '192.0.2.1',
      'remote', '192.0.2.2', 'dstport', '4789'],
    spec: { kind: 'vxlan', name: 'vx1', dev: 'lo', ttl: 10, tos: 4, ageing: 100, maxAddress: 50, proxy: true, l2miss: true,
      l3miss: true, udpCsum: true, portRange: { low: 1000, high: 2000 }, id: 42, local: '192.0.2.1', remote: '192.0.2.2',
      port: 4789 },
    links: { dev: 1 } },
  { name: 'vxlan-group6', op: 'add',
    ip: ['link', 'add', 'vx1', 'type', 'vxlan', 'dev', 'lo', 'id', '7', 'local', '2001:db8::1', 'group', 'ff05::100',
      'nolearning', 'dstport', '4789'],
    spec: { kind: 'vxlan', name: 'vx1', dev: 'lo', id: 7, local: '2001:db8::1', group: 'ff05::100', learning: false, port: 4789 },
    links: { dev: 1 } },

  // ---- macvlan ----
  { name: 'macvlan', op: 'add', ip: ['link', 'add', 'link', 'v0', 'name', 'mv0', 'type', 'macvlan', 'mode', 'bridge'],
    spec: { kind: 'macvlan', name: 'mv0', link: 'v0', mode: 'bridge' }, links: { link: 4 } },
  { name: 'macvlan-passthru', op: 'add',
    ip: ['link', 'add', 'link', 'v0', 'name', 'mv0', 'type', 'macvlan', 'bcqueuelen', '500', 'mode', 'passthru', 'nopromisc'],
    spec: { kind: 'macvlan', name: 'mv0', link: 'v0', bcQueueLen: 500, mode: 'passthru', nopromisc: true }, links: { link: 4 } },

  // ---- kinds this kernel lacks ----
  { name: 'vlan', op: 'add', kernelLacks: true,
    ip: ['link', 'add', 'link', 'v0', 'name', 'vl0', 'type', 'vlan', 'id', '5'],
    spec: { kind: 'vlan', name: 'vl0', link: 'v0', id: 5 }, links: { link: 4 } },
  { name: 'vlan-options', op: 'add', kernelLacks: true,
    ip: ['link', 'add', 'mtu', '1400', 'link', 'v0', 'name', 'vl0', 'type', 'vlan', 'id', '5', 'protocol', '802.1ad',
      'reorder_hdr', 'on', 'gvrp', 'off', 'loose_binding', 'on'],
    spec: { kind: 'vlan', name: 'vl0', mtu: 1400, link: 'v0', id: 5, protocol: '802.1ad', reorderHdr: true, gvrp: false,
      looseBinding: true },
    links: { link: 4 } },
  { name: 'dummy', op: 'add', kernelLacks: true, ip: ['link', 'add', 'd0', 'type', 'dummy'], spec: { kind: 'dummy', name: 'd0' } },
  { name: 'dummy-options', op: 'add', kernelLacks: true,
    ip: ['link', 'add', 'mtu', '9000', 'address', '02:00:00:00:00:03', 'master', 'br0', 'name', 'd0', 'up', 'type', 'dummy'],
    spec: { kind: 'dummy', name: 'd0', mtu: 9000, address: '02:00:00:00:00:03', master: 'br0', up: true }, links: { master: 2 } },
  { name: 'bond', op: 'add', kernelLacks: true, ip: ['link', 'add', 'b0', 'type', 'bond'], spec: { kind: 'bond', name: 'b0' } },
  { name: 'bond-options', op: 'add', kernelLacks: true,
    ip: ['link', 'add', 'b0', 'type', 'bond', 'mode', '802.3ad', 'miimon', '100', 'updelay', '200', 'downdelay', '300',
      'use_carrier', '1', 'xmit_hash_policy', 'layer3+4', 'all_slaves_active', '1', 'min_links', '1', 'lacp_rate', 'fast',
      'ad_select', 'bandwidth', 'ad_actor_sys_prio', '100', 'ad_user_port_key', '5', 'ad_actor_system', '02:00:00:00:00:04',
      'tlb_dynamic_lb', '1', 'peer_notify_delay', '500', 'lacp_active', 'on', 'arp_missed_max', '3'],
    spec: { kind: 'bond', name: 'b0', mode: '802.3ad', miimon: 100, updelay: 200, downdelay: 300, useCarrier: true,
      xmitHashPolicy: 'layer3+4', allSlavesActive: true, minLinks: 1, lacpRate: 'fast', adSelect: 'bandwidth',
      adActorSysPrio: 100, adUserPortKey: 5, adActorSystem: '02:00:00:00:00:04', tlbDynamicLb: true, peerNotifyDelay: 500,
      lacpActive: true, missedMax: 3 } },
  { name: 'vrf', op: 'add', kernelLacks: true, ip: ['link', 'add', 'vr0', 'type', 'vrf', 'table', '10'],
    spec: { kind: 'vrf', name: 'vr0', table: 10 } },
  { name: 'ipvlan', op: 'add', kernelLacks: true, ip: ['link', 'add', 'link', 'v0', 'name', 'ipv0', 'type', 'ipvlan'],
    spec: { kind: 'ipvlan', name: 'ipv0', link: 'v0' }, links: { link: 4 } },
  { name: 'ipvlan-options', op: 'add', kernelLacks: true,
    ip: ['link', 'add', 'link', 'v0', 'name', 'ipv0', 'type', 'ipvlan', 'mode', 'l3', 'private'],
    spec: { kind: 'ipvlan', name: 'ipv0', link: 'v0', mode: 'l3', flags: 'private' }, links: { link: 4 } },
  { name: 'wireguard', op: 'add', kernelLacks: true, ip: ['link', 'add', 'wg0', 'type', 'wireguard'],
    spec: { kind: 'wireguard', name: 'wg0' } },

  // ---- set / delete ----
  { name: 'set-up', op: 'set', ip: ['link', 'set', 'dev', 'v0', 'up'], spec: { up: true }, index: 4 },
  { name: 'set-down', op: 'set', ip: ['link', 'set', 'dev', 'v0', 'down'], spec: { up: false }, index: 4 },
  { name: 'set-options', op: 'set',
    ip: ['link', 'set', 'dev', 'v0', 'mtu', '1400', 'address', '02:00:00:00:00:09', 'txqueuelen', '500', 'master', 'br0', 'name', 'v9'],
    spec: { mtu: 1400, address: '02:00:00:00:00:09', txqlen: 500, master: 'br0', name: 'v9' }, index: 4, links: { master: 2 } },
  { name: 'set-alias', op: 'set', ip: ['link', 'set', 'dev', 'v0', 'alias', 'uplink'], spec: { alias: 'uplink' }, index: 4 },
  { name: 'set-nomaster', op: 'set', ip: ['link', 'set', 'dev', 'v0', 'nomaster'], spec: { master: null }, index: 4 },
  { name: 'set-netns', op: 'set', ip: ['link', 'set', 'dev', 'v0', 'netns', ns], spec: { namespace: ns }, index: 4, namespaces: ['self'] },
  { name: 'set-netns-rename', op: 'set', ip: ['link', 'set', 'dev', 'v0', 'netns', ns, 'name', 'eth0'],
    spec: { namespace: ns, name: 'eth0' }, index: 4, namespaces: ['self'] },
  { name: 'set-flags', op: 'set', ip: ['link', 'set', 'dev', 'v0', 'promisc', 'on', 'allmulticast', 'on', 'multicast', 'off', 'arp', 'off'],
    spec: { promisc: true, allmulticast: true, multicast: false, arp: false }, index: 4 },
  { name: 'delete', op: 'delete', ip: ['link', 'delete', 'dev', 'v0'], index: 4 },
]
