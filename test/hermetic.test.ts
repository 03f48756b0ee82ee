// Proves the runner (test/run-hermetic.mjs) is hermetic: the suite runs in a throwaway
// network + mount namespace with a private /run/netns, /etc/netns and /sys.
//
// Inside the runner, every test FILE runs in a namespace of its own (test/worker-netns.sh):
// network, mount and PID, with fresh /run/netns, /etc/netns and /sys. Tests in one file run
// in sequence and share it, so each test still cleans up what it made.
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

interface Mount {
  mountPoint: string
  fsType: string
  source: string
}

function mounts(): Mount[] {
  const unoctal = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [left, right] = line.split(' - ')
      const f = left!.split(' ')
      const r = right!.split(' ')
      return { mountPoint: unoctal(f[4]!), fsType: r[0]!, source: unoctal(r[1]!) }
    })
}

/** The mount that is visible at `dir` (the last one stacked there). */
function topMount(dir: string): Mount | undefined {
  return mounts()
    .filter((m) => m.mountPoint === dir)
    .at(-1)
}

interface IpLink {
  ifindex: number
  ifname: string
  flags: string[]
  operstate: string
}

const ipLinks = (...args: string[]): IpLink[] => JSON.parse(execFileSync('ip', ['-j', 'link', 'show', ...args], { encoding: 'utf8' }) || '[]')

// The worker has its own PID namespace and /proc, so the host's processes are out of sight;
// the runner hands us the inodes of the host's and its own network namespaces instead.

const start = JSON.parse(process.env.NSNET_HERMETIC_START ?? '{}') as {
  links?: string[]
  runNetns?: string[]
  etcNetns?: string[]
}

describe('hermetic runner', () => {
  it('marks the environment', () => {
    expect(process.env.NSNET_HERMETIC).toBe('1')
    expect(process.env.NSNET_HERMETIC_START).toBeTruthy()
  })

  it('runs in a network namespace other than the host one', () => {
    const self = statSync('/proc/self/ns/net').ino
    const host = Number(process.env.NSNET_HERMETIC_HOST_NETNS)
    const runner = Number(process.env.NSNET_RUNNER_NETNS)
    expect(host).toBeGreaterThan(0)
    expect(runner).toBeGreaterThan(0)
    expect(self).not.toBe(host)
    expect(self, 'each test file has a namespace of its own').not.toBe(runner)
    expect(process.pid, 'the worker is PID 1 of its own PID namespace').toBe(1)
  })

  for (const dir of ['/run/netns', '/etc/netns']) {
    it(`${dir} is a private tmpfs that started empty`, () => {
      const m = topMount(dir)
      expect(m, `${dir} in /proc/self/mountinfo`).toBeDefined()
      expect(m!.fsType).toBe('tmpfs')
      expect(m!.source).toMatch(/^nsnet-.*-netns$/)
      expect(dir === '/run/netns' ? start.runNetns : start.etcNetns).toEqual([])
    })
  }

  it('a named namespace made here stays invisible to the host', () => {
    // This one changes state: make sure, by itself, that it is not on the host (setup.ts
    // already refuses, but a test that runs `ip netns add` should not rely on that alone).
    const host = Number(process.env.NSNET_HERMETIC_HOST_NETNS)
    if (!(host > 0) || statSync('/proc/self/ns/net').ino === host || topMount('/run/netns')?.fsType !== 'tmpfs') {
      throw new Error('not inside the hermetic runner: refusing to run `ip netns add`')
    }
    const name = `nsnet-hermetic-${process.pid}`
    execFileSync('ip', ['netns', 'add', name])
    try {
      expect(readdirSync('/run/netns')).toContain(name)
      // The file lives on this worker's own tmpfs, which nobody outside can see.
      expect(topMount('/run/netns')?.source).toBe('nsnet-worker-netns')
    } finally {
      execFileSync('ip', ['netns', 'delete', name])
    }
  })

  it('lo is up', () => {
    const [lo] = ipLinks('dev', 'lo')
    expect(lo!.ifindex).toBe(1)
    expect(lo!.flags).toContain('UP')
  })

  it('only lo existed at start, and none of the host links are visible', () => {
    expect(start.links).toEqual(['lo'])
    const ours = ipLinks().map((l) => l.ifname)
    expect(ours).toContain('lo')
    expect(ours).toEqual(['lo'])
  })

  it('/sys is a fresh sysfs showing this namespace', () => {
    expect(topMount('/sys')?.fsType).toBe('sysfs')
    const sysNet = readdirSync('/sys/class/net')
    expect(sysNet).toContain('lo')
    expect(sysNet.sort()).toEqual(
      ipLinks()
        .map((l) => l.ifname)
        .sort(),
    )
  })
})
