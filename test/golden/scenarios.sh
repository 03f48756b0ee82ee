# Sourced by the capture scripts (capture.sh, routes/capture.sh, bridge/capture.sh): runs each
# scenario in a fresh network namespace under strace and writes its golden vector.
#
#   capture_scenarios OUTDIR PREFIX BASE WANTED... -- SCENARIO...
# SCENARIO is "name|extra setup (;-separated)|traced command"; BASE runs before every setup;
# WANTED, when given, limits the run to those names. Each vector is OUTDIR/NAME.json, named
# PREFIX+NAME inside. Needs `tmp` (a scratch directory) set by the caller.
golden_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

capture_scenarios() {
  local out="$1" prefix="$2" base="$3"; shift 3
  local want=()
  while (($#)) && [[ "$1" != -- ]]; do want+=("$1"); shift; done
  shift
  local s name setup cmd steps
  for s in "$@"; do
    IFS='|' read -r name setup cmd <<<"$s"
    if ((${#want[@]})) && [[ ! " ${want[*]} " == *" $name "* ]]; then continue; fi
    steps="${base:+$base;}$setup"
    unshare --net -- bash -c '
      set -e
      ip link set lo up
      IFS=";" read -ra steps <<<"$1"
      for step in "${steps[@]}"; do [[ -n "$step" ]] && $step; done
      strace -f -o "$2" -e trace=sendmsg,recvmsg,sendto,recvfrom -e write=all -e read=all -xx -s 0 $3 >/dev/null 2>&1 || true
    ' _ "$steps" "$tmp/$name.strace" "$cmd"
    node "$golden_dir/strace-to-json.mjs" "$tmp/$name.strace" "$prefix$name" "$cmd" "$steps" >"$out/$name.json"
    echo "captured $name" >&2
  done
}
