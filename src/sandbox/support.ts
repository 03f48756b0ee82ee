// Whether this system lets us make a throwaway user+network+mount namespace, and if
// not, why: the sysctls and security modules that forbid unprivileged user namespaces.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { release } from 'node:os'

export interface SandboxSupport {
  readonly ok: boolean
  /** What `unshare` said when it failed. */
  readonly error?: string
  /** Likely causes and fixes, one per line. */
  readonly reasons: readonly string[]
}

/** The unshare options that make a sandbox. */
export const UNSHARE_ARGS = ['--user', '--map-root-user', '--net', '--mount', '--propagation', 'private'] as const

function readProc(p: string): string | undefined {
  try {
    return readFileSync(p, 'utf8').trim()
  } catch {
    return undefined
  }
}

let cached: SandboxSupport | undefined

/** Tries `unshare --user --map-root-user --net --mount true` once and explains a failure. */
export function checkSandboxSupport(): SandboxSupport {
  if (cached) return cached
  const r = spawnSync('unshare', [...UNSHARE_ARGS, '--', 'true'], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] })
  if (r.error) {
    const missing = (r.error as NodeJS.ErrnoException).code === 'ENOENT'
    return (cached = { ok: false, error: r.error.message, reasons: [missing ? '`unshare` is not installed: install util-linux.' : r.error.message] })
  }
  if (r.status === 0) return (cached = { ok: true, reasons: [] })
  return (cached = { ok: false, error: (r.stderr || `exit ${r.status}`).trim(), reasons: explain() })
}

/** The known switches that forbid unprivileged user namespaces, as they are set here. */
function explain(): string[] {
  const reasons: string[] = []
  if (readProc('/proc/sys/kernel/unprivileged_userns_clone') === '0') {
    reasons.push(
      'kernel.unprivileged_userns_clone = 0 (Debian/Ubuntu): unprivileged user namespaces are off; `sysctl -w kernel.unprivileged_userns_clone=1` turns them on.',
    )
  }
  if (readProc('/proc/sys/user/max_user_namespaces') === '0') {
    reasons.push('user.max_user_namespaces = 0: user namespaces are disabled; `sysctl -w user.max_user_namespaces=15000` enables them.')
  }
  for (const k of ['max_net_namespaces', 'max_mnt_namespaces']) {
    if (readProc(`/proc/sys/user/${k}`) === '0') reasons.push(`user.${k} = 0: these namespaces are disabled.`)
  }
  if (readProc('/proc/sys/kernel/apparmor_restrict_unprivileged_userns') === '1') {
    reasons.push(
      'kernel.apparmor_restrict_unprivileged_userns = 1 (Ubuntu 23.10+): AppArmor denies user namespaces to unconfined programs; give `unshare` a profile with `userns,` or run as root.',
    )
  }
  if (readProc('/sys/fs/selinux/enforce') === '1') reasons.push('SELinux is enforcing: a policy may deny user namespaces (check the audit log).')
  if (existsSync('/.dockerenv') || existsSync('/run/.containerenv')) {
    reasons.push('this is a container: the default seccomp profile blocks unshare; run it with --security-opt seccomp=unconfined (or --privileged).')
  }
  if (reasons.length === 0) reasons.push(`no known switch explains it (kernel ${release()}); CONFIG_USER_NS may be off.`)
  return reasons
}

/** The whole explanation as one message. */
export function describeUnsupported(s: SandboxSupport): string {
  return [
    `this system does not allow an unprivileged user+network+mount namespace (unshare: ${s.error ?? 'failed'})`,
    ...s.reasons.map((r) => `  - ${r}`),
  ].join('\n')
}
