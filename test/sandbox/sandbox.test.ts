// The sandbox: a user+network+mount namespace where the command is root over its own
// network stack, with private /run/netns, /etc/netns, /run/nsnet and /sys; whatever it
// makes or leaves running does not outlive it or reach the namespace we run in.
import { spawn } from 'node:child_process'
import { readlinkSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, test } from 'vitest'
import { sandbox } from '../../src/sandbox/sandbox.js'
import { alive, ipj, runNetnsEntries, waitFor } from '../netns/support.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const links = () => ipj<Array<{ ifname: string }>>('link').map((l) => l.ifname)

function cli(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d
    })
    child.stderr.on('data', (d: Buffer) => {
      out += d
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, out }))
  })
}

describe('sandbox.run', () => {
  test('is root over a fresh network namespace with private /run/netns, /etc/netns, /run/nsnet and /sys', async () => {
    const r = await sandbox.run(
      [
        'sh',
        '-c',
        [
          'id -u',
          'readlink /proc/self/ns/net',
          'readlink /proc/self/ns/user',
          'ls -A /run/netns /etc/netns /run/nsnet | tr "\\n" " "; echo',
          'ls /sys/class/net | tr "\\n" " "; echo',
          'cat /sys/class/net/lo/operstate',
          'echo $NSNET_SANDBOX',
        ].join('; '),
      ],
      { stdio: 'pipe' },
    )
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const [uid, net, user, dirs, sysNet, loState, flag] = r.stdout.trim().split('\n')
    expect(uid).toBe('0')
    expect(net).not.toBe(readlinkSync('/proc/self/ns/net'))
    expect(user).not.toBe(readlinkSync('/proc/self/ns/user'))
    expect(dirs!.trim().replace(/\s+/g, ' ')).toBe('/etc/netns: /run/netns: /run/nsnet:')
    expect(sysNet!.trim()).toBe('lo')
    expect(loState).toBe('unknown') // lo is up (a loopback reports "unknown")
    expect(flag).toBe('1')
  })

  test('what it makes stays inside, what it leaves running is killed', async () => {
    const before = { netns: runNetnsEntries(), links: links() }
    const r = await sandbox.run(
      [
        'sh',
        '-c',
        [
          'set -e',
          'ip netns add inner',
          'ip link add sb0 type veth peer name sb1 netns inner',
          'ip link add sbr type bridge',
          'mkdir -p /etc/netns/inner',
          'echo x > /run/nsnet/marker.json',
          'ip netns exec inner sleep 1000 > /dev/null 2>&1 &',
          'echo $!',
          'ip netns list',
        ].join('\n'),
      ],
      { stdio: 'pipe' },
    )
    expect(r.code).toBe(0)
    const [pid, list] = r.stdout.trim().split('\n')
    expect(list).toMatch(/^inner/)
    expect({ netns: runNetnsEntries(), links: links() }).toEqual(before)
    expect(await waitFor(() => !alive(Number(pid)), 2000)).toBe(true)
  })

  test('passes the exit code back, and input in', async () => {
    expect((await sandbox.run(['sh', '-c', 'exit 7'], { stdio: 'pipe' })).code).toBe(7)
    expect((await sandbox.run(['cat'], { stdio: 'pipe', input: 'through stdin' })).stdout).toBe('through stdin')
  })

  test('a timeout ends the whole sandbox', async () => {
    const t0 = Date.now()
    const r = await sandbox.run(['sh', '-c', 'sleep 30 & sleep 30'], { stdio: 'pipe', timeoutMs: 300 })
    expect(r.timedOut).toBe(true)
    expect(r.code).not.toBe(0)
    expect(Date.now() - t0).toBeLessThan(5000)
  })

  test('sandboxes nest', async () => {
    const r = await sandbox.run(
      [process.execPath, '--import', 'tsx', 'src/cli.ts', 'sandbox', '--', 'sh', '-c', 'ip netns add deep && ip netns list && readlink /proc/self/ns/user'],
      { stdio: 'pipe', cwd: ROOT },
    )
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^deep\n/)
  })
})

describe('nsnet sandbox', () => {
  test('runs a command and returns its code', async () => {
    const r = await cli(['sandbox', '--', 'sh', '-c', 'ip -br link; exit 3'])
    expect(r.out).toMatch(/^lo\s+UNKNOWN/)
    expect(r.code).toBe(3)
  })

  test('--check says whether sandboxes work', async () => {
    const r = await cli(['sandbox', '--check'])
    expect(r.out).toBe('sandboxes work here\n')
    expect(r.code).toBe(0)
  })

  test('explains when it cannot make one', async () => {
    // Without unshare in PATH the probe fails; the explanation says what to do.
    const r = await cli(['sandbox', '--check'], { ...process.env, PATH: '/nonexistent' })
    expect(r.code).toBe(1)
    expect(r.out).toMatch(/does not allow an unprivileged user\+network\+mount namespace/)
    expect(r.out).toMatch(/`unshare` is not installed: install util-linux/)
  })
})
