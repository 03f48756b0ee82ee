#!/usr/bin/env bash
# Regenerates the nf_tables golden vectors here from real nft 1.0.6 <-> kernel traffic:
# for each *.nft file, `nft -f FILE` and then `nft -j list ruleset` run under strace in a
# throwaway network namespace; NAME.json keeps every datagram (hex), nft's JSON listing and
# its --debug=netlink text, so the tests can check our codec both ways against nft.
#
#   bash test/golden/nftables/capture.sh              # every *.nft here
#   bash test/golden/nftables/capture.sh ip-masquerade
#
# Needs root, strace, nft, node. Re-executes itself under `unshare --net --mount`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ "${NSNET_CAPTURE_INNER:-}" != 1 ]]; then
  exec unshare --net --mount --propagation private -- env NSNET_CAPTURE_INNER=1 bash "$0" "$@"
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
names=("$@")
if ((${#names[@]} == 0)); then for f in "$here"/*.nft; do names+=("$(basename "$f" .nft)"); done; fi
for name in "${names[@]}"; do
  unshare --net -- bash -c '
    set -e
    strace -o "$2/add.strace" -e trace=sendmsg,recvmsg,sendto,recvfrom -e write=all -e read=all -xx -s 0 nft -f "$1" >/dev/null
    nft --debug=netlink -c -f "$1" >"$2/debug.txt" 2>&1 || true
    strace -o "$2/list.strace" -e trace=sendmsg,recvmsg,sendto,recvfrom -e write=all -e read=all -xx -s 0 nft -j list ruleset >"$2/list.json"
  ' _ "$here/$name.nft" "$tmp"
  node "$here/../strace-to-json.mjs" "$tmp/add.strace" "$name" "nft -f $name.nft" >"$tmp/add.json"
  node "$here/../strace-to-json.mjs" "$tmp/list.strace" "$name" "nft -j list ruleset" >"$tmp/list.json.v"
  node -e '
    const fs = require("node:fs"), [add, list, listing, debug, out] = process.argv.slice(1)
    const a = JSON.parse(fs.readFileSync(add, "utf8")), l = JSON.parse(fs.readFileSync(list, "utf8"))
    const nft = require("node:child_process").execFileSync("nft", ["-v"], { encoding: "utf8" }).trim()
    fs.writeFileSync(out, JSON.stringify({
      name: a.name, command: a.command,
      note: `captured by test/golden/nftables/capture.sh with strace; kernel ${require("node:os").release()}; ${nft}`,
      add: a.exchanges, list: l.exchanges,
      listing: JSON.parse(fs.readFileSync(listing, "utf8")),
      debug: fs.readFileSync(debug, "utf8").split("\n"),
    }, null, 1) + "\n")
  ' "$tmp/add.json" "$tmp/list.json.v" "$tmp/list.json" "$tmp/debug.txt" "$here/$name.json"
  echo "captured $name" >&2
done
