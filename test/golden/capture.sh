#!/usr/bin/env bash
# Regenerates the golden netlink vectors in test/golden/*.json from real kernel traffic:
# each scenario runs one `ip` command under strace inside a throwaway network namespace
# and stores every netlink datagram it sent and received, as hex, with the command.
#
#   bash test/golden/capture.sh            # all scenarios
#   bash test/golden/capture.sh link-show-lo addr-add-v4
#
# Needs root, strace, iproute2, node. Never touches the host's network: it re-executes
# itself under `unshare --net --mount` unless NSNET_CAPTURE_INNER=1.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [[ "${NSNET_CAPTURE_INNER:-}" != 1 ]]; then
  exec unshare --net --mount --propagation private -- env NSNET_CAPTURE_INNER=1 bash "$0" "$@"
fi

ip link set lo up
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# name | setup commands run before (untraced, `;`-separated) | the traced command
scenarios=(
  "link-show-lo||ip link show lo"
  "link-show-missing||ip link show nsnet-missing"
  "link-dump||ip link show"
  "addr-add-v4||ip addr add 10.0.0.1/24 dev lo"
  "addr-add-v4-exists|ip addr add 10.0.0.1/24 dev lo|ip addr add 10.0.0.1/24 dev lo"
  "addr-add-v6||ip -6 addr add 2001:db8::1/64 dev lo"
  "route-add-dev||ip route add 10.9.0.0/16 dev lo"
  "route-add-blackhole||ip route add blackhole 10.8.0.0/16"
  "route-dump-v4|ip addr add 10.0.0.1/24 dev lo;ip route add 10.9.0.0/16 dev lo;ip route add blackhole 10.8.0.0/16|ip route show table all"
  "link-add-veth||ip link add nsnet-v0 type veth peer name nsnet-v1"
  "link-del-lo||ip link del lo"
  "route-get|ip addr add 10.0.0.1/24 dev lo|ip route get 10.0.0.7"
  "route-dump-v6|ip -6 addr add 2001:db8::1/64 dev lo nodad|ip -6 route show table all"
)

. "$here/scenarios.sh"
capture_scenarios "$here" "" "" "$@" -- "${scenarios[@]}"
