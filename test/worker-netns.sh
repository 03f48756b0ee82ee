#!/bin/sh
# Starts one vitest worker (one test file) in its own network, mount and PID namespace,
# inside the runner's throwaway one: each test file sees a fresh namespace holding only lo,
# with its own /run/netns, /etc/netns and /sys. Being PID 1 of its own PID namespace, the
# worker takes every process it started down with it when it ends, even after a crash.
# vitest.config.ts points process.execPath here; NSNET_REAL_NODE is the real node binary.
# The runner's namespace, so tests can check that they are not in it.
NSNET_RUNNER_NETNS=$(stat -L -c %i /proc/self/ns/net) && export NSNET_RUNNER_NETNS
exec unshare --net --mount --pid --fork --kill-child --mount-proc --propagation private -- /bin/sh -c '
  mount -n -t tmpfs -o mode=0755 nsnet-worker-netns /run/netns &&
  mount -n -t tmpfs -o mode=0755 nsnet-worker-etc-netns /etc/netns &&
  mount -n -t tmpfs -o mode=0755 nsnet-worker-run-nsnet /run/nsnet &&
  mount -n -t sysfs nsnet-sysfs /sys &&
  ip link set lo up &&
  exec "$0" "$@"' "$NSNET_REAL_NODE" "$@"
