# Peer: pyroute2 (Debian python3-pyroute2), used only as a benchmark peer.
# Runs inside the namespace under test, times itself (interpreter and import start-up
# excluded), prints one JSON line.
#   insert FILE COUNT GATEWAY DEV   IPRoute().route('add', ...) per route
#   dump GATEWAY                    IPRoute().get_routes(family=AF_INET, table=254)
import json
import resource
import socket
import sys
import time

from pyroute2 import IPRoute


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime * 1000, r.ru_stime * 1000


def insert(path, count, gateway, dev):
    with open(path) as f:
        dsts = [line.strip() for _, line in zip(range(count), f)]
    u0, s0 = cpu()
    t0 = time.perf_counter()
    with IPRoute() as ipr:
        oif = ipr.link_lookup(ifname=dev)[0]
        for d in dsts:
            ipr.route('add', dst=d, gateway=gateway, oif=oif)
    ms = (time.perf_counter() - t0) * 1000
    u1, s1 = cpu()
    print(json.dumps({'ms': ms, 'userMs': u1 - u0, 'sysMs': s1 - s0, 'count': len(dsts)}))


def dump(gateway):
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    u0, s0 = cpu()
    t0 = time.perf_counter()
    with IPRoute() as ipr:
        routes = list(ipr.get_routes(family=socket.AF_INET, table=254))
    ms = (time.perf_counter() - t0) * 1000
    u1, s1 = cpu()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    matched = sum(1 for r in routes if r.get_attr('RTA_GATEWAY') == gateway)
    print(json.dumps({'ms': ms, 'userMs': u1 - u0, 'sysMs': s1 - s0, 'total': len(routes), 'matched': matched, 'baseKb': base, 'peakKb': peak}))


if __name__ == '__main__':
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == 'insert':
        insert(args[0], int(args[1]), args[2], args[3])
    elif mode == 'dump':
        dump(args[0])
    else:
        sys.exit('pyroute2_worker: unknown mode ' + mode)
