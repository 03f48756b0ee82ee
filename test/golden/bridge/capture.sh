#!/usr/bin/env bash
# Captures what `bridge vlan|fdb|link ...` sends the kernel, for the bridge encoder tests
# (test/ops/bridge/golden.test.ts compares nsnet's message for the same call with these bytes).
# Same machinery and JSON format as ../capture.sh: each scenario runs in a fresh namespace
# under strace. strace records the request even where the kernel refuses it: this kernel has
# no bridge VLAN filtering, so the vlan scenarios' answers are EOPNOTSUPP, and the requests
# are still what `bridge` sends everywhere.
#
#   bash test/golden/bridge/capture.sh [scenario...]
#
# Needs root, strace, iproute2, node. Never touches the host's network.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [[ "${NSNET_CAPTURE_INNER:-}" != 1 ]]; then
  exec unshare --net --mount --propagation private -- env NSNET_CAPTURE_INNER=1 bash "$0" "$@"
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Every scenario starts with bridge bg0 (ifindex 2) and its port bv0 (ifindex 3, peer bv1),
# and vxlan bx0 (ifindex 5); all up.
base="ip link add bg0 type bridge;ip link add bv0 type veth peer name bv1;ip link set bv0 master bg0;ip addr add 10.1.0.1/24 dev bv1;ip link add bx0 type vxlan id 42 dstport 4789 local 10.1.0.1;ip link set bg0 up;ip link set bv0 up;ip link set bv1 up;ip link set bx0 up"

# name | extra setup (`;`-separated) | the traced command
scenarios=(
  "vlan-add||bridge vlan add vid 10 dev bv0"
  "vlan-add-pvid-untagged||bridge vlan add vid 20 dev bv0 pvid untagged"
  "vlan-add-range||bridge vlan add vid 100-200 dev bv0 untagged"
  "vlan-add-self||bridge vlan add vid 30 dev bg0 self"
  "vlan-add-master||bridge vlan add vid 40 dev bv0 master"
  "vlan-del||bridge vlan del vid 10 dev bv0"
  "vlan-del-range||bridge vlan del vid 100-200 dev bv0"
  "vlan-show||bridge -compressvlans -j vlan show"
  "fdb-add-master-static||bridge fdb add 02:00:00:00:00:01 dev bv0 master static"
  "fdb-add-vxlan||bridge fdb add 02:00:00:00:00:02 dev bx0 dst 10.1.0.5 port 4790 vni 43 self"
  "fdb-del-master|bridge fdb add 02:00:00:00:00:01 dev bv0 master static|bridge fdb del 02:00:00:00:00:01 dev bv0 master"
  "link-set||bridge link set dev bv0 cost 7 priority 3 learning off flood off hairpin on isolated on neigh_suppress on"
)

. "$here/../scenarios.sh"
capture_scenarios "$here" bridge- "$base" "$@" -- "${scenarios[@]}"
