// Proves the runner (test/run-hermetic.mjs) is hermetic: the suite runs in a throwaway
// network + mount namespace with a private /run/netns, /etc/netns and /sys.
//
// CONVENTION for every test file: the runner makes ONE namespace and all vitest workers
// (pool 'forks', up to 2 at a time) share it. So a test that creates links, addresses,
// routes, rules or firewall state must either create its own named namespace (unique name,
// e.g. `t-${process.pid}-${n}`) and work inside it, or use unique link names in the shared
// one -- and clean up after itself. Never assume the shared namespace holds only `lo` at any
// given moment: the state at start is in NSNET_HERMETIC_START (set by the runner).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

interface Mount {
  mountPoint: string;
  fsType: string;
  source: string;
}

function mounts(): Mount[] {
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [left, right] = line.split(' - ');
      const f = left!.split(' ');
      const r = right!.split(' ');
      return { mountPoint: unescape(f[4]!), fsType: r[0]!, source: unescape(r[1]!) };
    });
}

/** The mount that is visible at `dir` (the last one stacked there). */
function topMount(dir: string): Mount | undefined {
  return mounts()
    .filter((m) => m.mountPoint === dir)
    .at(-1);
}

/** Runs fn; returns undefined when the host's side is not readable (unprivileged user namespace). */
function hostSide<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'ENOENT') return undefined;
    throw e;
  }
}

interface IpLink {
  ifindex: number;
  ifname: string;
  flags: string[];
  operstate: string;
}

const ipLinks = (...args: string[]): IpLink[] =>
  JSON.parse(execFileSync('ip', ['-j', 'link', 'show', ...args], { encoding: 'utf8' }) || '[]');

// The outer runner stays in the host's namespaces, so /proc/<its pid>/... is the host's view.
// (PID 1 is the host's init too, since no PID namespace is unshared, but it may be unreadable.)
const hostPid = Number(process.env.NSNET_HERMETIC_HOST_PID);
const hostViews = [hostPid, 1].filter((p) => p > 0);

const start = JSON.parse(process.env.NSNET_HERMETIC_START ?? '{}') as {
  links?: string[];
  runNetns?: string[];
  etcNetns?: string[];
};

describe('hermetic runner', () => {
  it('marks the environment', () => {
    expect(process.env.NSNET_HERMETIC).toBe('1');
    expect(process.env.NSNET_HERMETIC_START).toBeTruthy();
  });

  it('runs in a network namespace other than the host one', () => {
    const self = statSync('/proc/self/ns/net').ino;
    const host = Number(process.env.NSNET_HERMETIC_HOST_NETNS);
    expect(host).toBeGreaterThan(0);
    expect(self).not.toBe(host);
    let compared = 0;
    for (const pid of hostViews) {
      const theirs = hostSide(() => statSync(`/proc/${pid}/ns/net`).ino);
      if (theirs === undefined) continue;
      compared++;
      expect(theirs, `host pid ${pid}`).toBe(host);
      expect(self).not.toBe(theirs);
      // ... and in a mount namespace of its own.
      expect(readlinkSync('/proc/self/ns/mnt')).not.toBe(readlinkSync(`/proc/${pid}/ns/mnt`));
    }
    // Real root can always inspect the runner; in a user namespace (unprivileged run) it cannot.
    const inUserns = !/^\s*0\s+0\s+4294967295\s*$/.test(readFileSync('/proc/self/uid_map', 'utf8'));
    if (!inUserns) expect(compared).toBeGreaterThan(0);
  });

  for (const dir of ['/run/netns', '/etc/netns']) {
    it(`${dir} is a private tmpfs that started empty`, () => {
      const m = topMount(dir);
      expect(m, `${dir} in /proc/self/mountinfo`).toBeDefined();
      expect(m!.fsType).toBe('tmpfs');
      expect(m!.source).toMatch(/^nsnet-.*-netns$/);
      expect(dir === '/run/netns' ? start.runNetns : start.etcNetns).toEqual([]);
    });
  }

  it('a named namespace made here stays invisible to the host', () => {
    // This one changes state: make sure, by itself, that it is not on the host (setup.ts
    // already refuses, but a test that runs `ip netns add` should not rely on that alone).
    const host = Number(process.env.NSNET_HERMETIC_HOST_NETNS);
    if (!(host > 0) || statSync('/proc/self/ns/net').ino === host || topMount('/run/netns')?.fsType !== 'tmpfs') {
      throw new Error('not inside the hermetic runner: refusing to run `ip netns add`');
    }
    const name = `nsnet-hermetic-${process.pid}`;
    execFileSync('ip', ['netns', 'add', name]);
    try {
      expect(readdirSync('/run/netns')).toContain(name);
      for (const pid of hostViews) {
        // ENOENT (no /run/netns on the host at all) is fine too.
        const hostList = hostSide(() => readdirSync(`/proc/${pid}/root/run/netns`));
        if (hostList !== undefined) expect(hostList).not.toContain(name);
      }
    } finally {
      execFileSync('ip', ['netns', 'delete', name]);
    }
  });

  it('lo is up', () => {
    const [lo] = ipLinks('dev', 'lo');
    expect(lo!.ifindex).toBe(1);
    expect(lo!.flags).toContain('UP');
  });

  it('only lo existed at start, and none of the host links are visible', () => {
    expect(start.links).toEqual(['lo']);
    // Live: other test files may add uniquely named links concurrently, but never the host's.
    const ours = ipLinks().map((l) => l.ifname);
    expect(ours).toContain('lo');
    const hostLinks = hostSide(() =>
      readFileSync(`/proc/${hostViews[0]}/net/dev`, 'utf8')
        .split('\n')
        .slice(2)
        .map((l) => l.split(':')[0]!.trim())
        .filter((n) => n && n !== 'lo'),
    );
    for (const n of hostLinks ?? []) expect(ours).not.toContain(n);
  });

  it('/sys is a fresh sysfs showing this namespace', () => {
    expect(topMount('/sys')?.fsType).toBe('sysfs');
    const sysNet = readdirSync('/sys/class/net');
    expect(sysNet).toContain('lo');
    expect(sysNet.sort()).toEqual(ipLinks().map((l) => l.ifname).sort());
  });
});
