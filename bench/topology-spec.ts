// The benchmark topology, described once for both sides: N hosts h1..hN, each on a veth to
// bridge br0 in the current namespace (the gateway, 10.0.0.1/16), each with an address from
// 10.0.0.0/16 and a default route via the gateway.
import type { TopologySpec } from '../src/topology/spec.js'

/** `rate`, when given, shapes every host's link (tbf on both ends), as a TCLink(bw=) lab would. */
export function benchSpec(n: number, rate?: string): TopologySpec {
  const hosts = Array.from({ length: n }, (_, i) => ({ name: `h${i + 1}`, gateway: '10.0.0.1' }))
  return {
    name: `bench-${n}`,
    pools: [{ name: 'lan', subnet: '10.0.0.0/16' }],
    hosts,
    bridges: [{ name: 'br0', addresses: ['10.0.0.1/16'] }],
    links: hosts.map((h) => ({
      a: { node: h.name, ifname: `veth-${h.name}`, addresses: [{ pool: 'lan' }] },
      b: { node: 'br0', ifname: `veth-${h.name}-br` },
      ...(rate !== undefined ? { rate } : {}),
    })),
  }
}

/** The address the pool gives host i (1-based): 10.0.0.2 onwards, as validate() hands them out. */
export function benchAddress(i: number): string {
  const v = i + 1
  return `10.0.${v >> 8}.${v & 255}/16`
}

/**
 * Hosts verified between two releases of their ARP entries. The kernel has one IPv4
 * neighbour table for all namespaces, limited by the host's gc_thresh3 (1,024 entries here),
 * and a ping to the gateway leaves two entries (the host's and br0's) that hold a timer, so
 * cannot be collected, for 15-50 s: unreleased, about 500 hosts pinged within that time fill
 * the table and further pings are lost (measured: table_fulls in /proc/net/stat/arp_cache of
 * the host rose by 397 in a 1,000-host run, failures from h513 on). Both sides release the
 * entries after each wave from outside the hosts: the wave's bridge ports down (the hosts'
 * veths lose carrier, which evicts their entries), br0's entries deleted.
 */
export const VERIFY_WAVE = 250

/**
 * The same lab as a shell script of `ip` commands, written the way the walkthroughs do it
 * (make the pair, move one end, enslave, raise, address, route; one command per step), with
 * phase marks on stdout.
 */
export function benchShell(n: number): string {
  const L: string[] = [
    'set -e',
    `trap 'echo "failed: $BASH_COMMAND" >&2' ERR`,
    'mark() { echo "$1 $(date +%s%N)"; }',
    'mark start',
    'ip link add br0 type bridge',
    'ip addr add 10.0.0.1/16 dev br0',
    'ip link set br0 up',
  ]
  for (let i = 1; i <= n; i++) {
    const h = `h${i}`
    L.push(
      `ip netns add ${h}`,
      `ip link add veth-${h} type veth peer name veth-${h}-br`,
      `ip link set veth-${h} netns ${h}`,
      `ip link set veth-${h}-br master br0`,
      `ip link set veth-${h}-br up`,
      `ip -n ${h} link set lo up`,
      `ip -n ${h} addr add ${benchAddress(i)} dev veth-${h}`,
      `ip -n ${h} link set veth-${h} up`,
      `ip -n ${h} route add default via 10.0.0.1`,
    )
  }
  L.push('mark up')
  for (let first = 1; first <= n; first += VERIFY_WAVE) {
    const last = Math.min(n, first + VERIFY_WAVE - 1)
    // Three tries, as the nsnet worker gives each host: one lost ping must not end either side.
    for (let i = first; i <= last; i++) {
      const ping = `ip netns exec h${i} ping -c 1 -W 1 10.0.0.1 > /dev/null`
      L.push(`${ping} || ${ping} || ${ping}`)
    }
    if (last < n) {
      L.push('ip -batch - <<EOF')
      for (let i = first; i <= last; i++) L.push(`link set veth-h${i}-br down`)
      L.push('EOF', 'ip -4 neigh flush dev br0')
    }
  }
  L.push('mark verified')
  for (let i = 1; i <= n; i++) L.push(`ip netns del h${i}`)
  L.push('ip link del br0', 'mark down')
  return L.join('\n') + '\n'
}
