// The private filesystem view of a sandbox, made inside its fresh mount namespace:
// empty tmpfs directories at /run/netns, /etc/netns and /run/nsnet (so named namespaces,
// their /etc files and run markers never reach the real ones) and a fresh /sys that shows
// the sandbox's own links.
//
// A missing directory cannot simply be created: mkdir, even from inside the namespace,
// writes to the real filesystem. So the parent (/run, /etc) gets an overlay whose lower
// layer is itself and whose upper layer is a private tmpfs; the new directory lands in that
// tmpfs. The overlay hides mounts below the parent (/run/user/N, a bind-mounted
// /etc/resolv.conf), so those are bound back on top. The private tmpfs ("stage") sits on
// /sys/kernel, which always exists and which the fresh sysfs hides again afterwards.
import { spawnSync } from 'node:child_process'
import { closeSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, realpathSync, symlinkSync } from 'node:fs'
import { dirname } from 'node:path'

export const SANDBOX_DIRS = ['/run/netns', '/etc/netns', '/run/nsnet'] as const

function mount(args: readonly string[]): void {
  // -n: no /run/mount/utab bookkeeping (it would be written before our overlay exists).
  const r = spawnSync('mount', ['-n', ...args], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] })
  if (r.error) throw new Error(`mount: ${r.error.message}`)
  if (r.status !== 0) throw new Error(`mount -n ${args.join(' ')}: ${(r.stderr || '').trim() || `exit ${r.status}`}`)
}

function isDir(p: string): boolean {
  try {
    return lstatSync(p).isDirectory()
  } catch {
    return false
  }
}

function mountPoints(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' ')[4]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
}

/**
 * `dir` becomes a fresh tmpfs showing the same top-level entries as before, each bound back
 * from `orig` (directories recursively with their mounts, files, sockets; symlinks copied).
 * New top-level entries land in the tmpfs; writes below an entry reach the original, which
 * is why this is only the fallback for an overlay the kernel refuses.
 */
function rebuild(dir: string, orig: string, why: Error): void {
  try {
    mount(['-t', 'tmpfs', '-o', 'mode=0755', 'nsnet-sandbox-rebuilt', dir])
  } catch (e) {
    throw new Error(`cannot make ${dir} private: ${why.message}; ${(e as Error).message}`)
  }
  for (const name of readdirSync(orig)) {
    const from = `${orig}/${name}`
    const to = `${dir}/${name}`
    const st = lstatSync(from)
    if (st.isSymbolicLink()) {
      symlinkSync(readlinkSync(from), to)
      continue
    }
    if (st.isDirectory()) mkdirSync(to)
    else closeSync(openSync(to, 'w'))
    try {
      mount(['--rbind', from, to])
    } catch {
      // Unreadable or special (another user's): leave the empty placeholder.
    }
  }
}

/** Makes the sandbox's mounts. Must run inside its own mount namespace, as (mapped) root. */
export function setupSandboxMounts(): void {
  let stage: string | undefined
  const overlaid = new Set<string>()
  const overlay = (dir: string): void => {
    if (overlaid.has(dir)) return
    overlaid.add(dir)
    if (!stage) {
      stage = isDir('/sys/kernel') ? '/sys/kernel' : '/sys'
      mount(['-t', 'tmpfs', '-o', 'mode=0700', 'nsnet-sandbox-stage', stage])
    }
    const key = dir.replace(/[^A-Za-z0-9]/g, '_')
    const upper = `${stage}/${key}-upper`
    const work = `${stage}/${key}-work`
    mkdirSync(upper)
    mkdirSync(work)
    const below = [...new Set(mountPoints().filter((m) => m.startsWith(`${dir}/`)))]
    const top = below.filter((m) => !below.some((o) => o !== m && m.startsWith(`${o}/`)))
    let orig: string | undefined
    if (top.length) {
      orig = `${stage}/${key}-orig`
      mkdirSync(orig)
      mount(['--rbind', dir, orig])
    }
    if (/[,:\\]/.test(dir)) throw new Error(`cannot overlay ${dir}: unusual characters in its path`)
    const opts = `lowerdir=${dir},upperdir=${upper},workdir=${work}`
    try {
      try {
        mount(['-t', 'overlay', '-o', `${opts},userxattr`, 'nsnet-sandbox-overlay', dir])
      } catch {
        mount(['-t', 'overlay', '-o', opts, 'nsnet-sandbox-overlay', dir])
      }
    } catch (e) {
      // A user namespace may not stack an overlay on a mount it does not own (the kernel
      // cannot clone it: e.g. /run is already an overlay made by an outer sandbox or test
      // runner). Then rebuild it instead: a tmpfs with every entry bound back on top.
      if (!orig) {
        orig = `${stage}/${key}-orig`
        mkdirSync(orig)
        mount(['--rbind', dir, orig])
      }
      rebuild(dir, orig, e as Error)
      return
    }
    for (const m of top) mount(['--rbind', orig + m.slice(dir.length), m])
  }
  for (const want of SANDBOX_DIRS) {
    const parent = realpathSync(dirname(want))
    const dir = `${parent}/${want.slice(want.lastIndexOf('/') + 1)}`
    if (!isDir(dir)) {
      overlay(parent)
      mkdirSync(dir, { mode: 0o755 })
    }
    mount(['-t', 'tmpfs', '-o', 'mode=0755', `nsnet-sandbox${want.replace(/\//g, '-')}`, dir])
  }
  mount(['-t', 'sysfs', 'nsnet-sandbox-sysfs', '/sys'])
}
