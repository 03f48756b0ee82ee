#!/usr/bin/env bash
# Captures what `ip route ...` sends the kernel, for the route encoder tests (test/ops/routes/routes.test.ts
# compares nsnet's message for the same route with these bytes). Same machinery and JSON format as
# ../capture.sh: each scenario runs in a fresh namespace under strace.
#
#   bash test/golden/routes/capture.sh [scenario...]
#
# Needs root, strace, iproute2, node. Never touches the host's network.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [[ "${NSNET_CAPTURE_INNER:-}" != 1 ]]; then
  exec unshare --net --mount --propagation private -- env NSNET_CAPTURE_INNER=1 bash "$0" "$@"
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Every scenario starts with lo up, veth rg0 (ifindex 3) / rg1 up, 10.0.0.1/24 and 2001:db8::1/64 on rg0.
base="ip link set lo up;ip link add rg0 type veth peer name rg1;ip link set rg0 up;ip link set rg1 up;ip addr add 10.0.0.1/24 dev rg0;ip addr add 2001:db8::1/64 dev rg0 nodad"

# name | extra setup (`;`-separated) | the traced command
scenarios=(
  "add-via||ip route add 10.9.0.0/16 via 10.0.0.2"
  "add-dev-scope-src||ip route add 10.9.1.0/24 dev rg0 scope link src 10.0.0.1 proto static metric 5"
  "add-unreachable-table||ip route add unreachable 192.0.2.0/24 table 1000"
  "add-blackhole-table100||ip route add blackhole 192.0.2.0/25 table 100"
  "add-metrics||ip route add 10.9.2.0/24 via 10.0.0.2 dev rg0 mtu 1400 advmss 1300 hoplimit 5 rtt 12ms"
  "add-multipath||ip route add 10.9.3.0/24 nexthop via 10.0.0.2 weight 2 nexthop via 10.0.0.3 dev rg0"
  "add-onlink||ip route add 10.9.4.0/24 via 10.9.9.9 dev rg0 onlink"
  "add-local||ip route add local 10.9.5.1 dev rg0 table 100"
  "add-v6||ip -6 route add 2001:db8:1::/64 via 2001:db8::2 metric 5 pref high"
  "add-v6-multipath||ip -6 route add 2001:db8:2::/64 nexthop via 2001:db8::2 dev rg0 weight 3 nexthop via 2001:db8::3 dev rg0"
  "replace-default||ip route replace default via 10.0.0.254 table 100"
  "append-v4||ip route append 10.9.6.0/24 via 10.0.0.2"
  "del-dst|ip route add 10.9.0.0/16 via 10.0.0.2|ip route del 10.9.0.0/16"
  "del-full|ip route add 10.9.7.0/24 via 10.0.0.2 dev rg0 table 1000 metric 9|ip route del 10.9.7.0/24 via 10.0.0.2 dev rg0 table 1000 metric 9"
  "get|ip route add 10.9.0.0/16 via 10.0.0.2|ip route get 10.9.0.7"
  "get-from-mark|ip route add 10.9.0.0/16 via 10.0.0.2|ip route get 10.9.0.7 from 10.0.0.1 mark 7"
  "get-v6||ip -6 route get 2001:db8::99"
)

. "$here/../scenarios.sh"
capture_scenarios "$here" route- "$base" "$@" -- "${scenarios[@]}"
