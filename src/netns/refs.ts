// Namespaces by reference: a process (`{ pid }`) or an nsfs file (`{ path }`: /proc/PID/ns/net,
// a Docker or CNI bind mount). A handle on one gets a name in /run/netns for as long as it is
// open (`ip netns attach`, or the same bind mount for a path), so the helper still starts with
// `ip netns exec NAME`; close() detaches the name again.

import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, statfsSync, statSync, writeFileSync } from 'node:fs'
import { codeOf, invalidArgument, isNsnetError, NsnetError } from '../netlink/errors.js'
import { checkNamespaceRef, type NamespaceRef, namespaceLabel } from '../ops/netns-ref.js'
import { runCommand } from './exec.js'
import { type NetnsHandle, open } from './handle.js'
import type { HelperOptions } from './helper/client.js'
import { checkNetnsName, NETNS_RUN_DIR } from './names.js'

/** Names this process attached for handles: `nsnet-ref-<our pid>-<n>`. */
const ATTACHED = /^nsnet-ref-(\d+)-\d+$/
let counter = 0
const live = new Set<string>()
let exitHook = false

/** statfs f_type of nsfs (NSFS_MAGIC, <linux/magic.h>): what namespace files are. */
const NSFS_MAGIC = 0x6e736673

/** The nsfs inode of a reference (`stat -L -c %i /proc/PID/ns/net`, the NS column of `lsns -t net`). */
export function inode(ref: NamespaceRef | number, operation = 'netns.inode'): number {
  const r = checkNamespaceRef(typeof ref === 'number' ? { pid: ref } : ref, { operation })
  const label = namespaceLabel(r)
  const path = typeof r === 'string' ? `${NETNS_RUN_DIR}/${r}` : 'pid' in r ? `/proc/${r.pid}/ns/net` : r.path
  let ino: number, type: number
  try {
    ino = statSync(path).ino
    type = statfsSync(path).type
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (typeof r === 'object' && 'pid' in r)
      throw new NsnetError(`no process ${r.pid}`, { code: 'ESRCH', errno: 3, operation, object: `pid ${r.pid}`, cause: e })
    throw new NsnetError(`${label} does not exist (no ${path})`, {
      code: code === 'ENOENT' ? 'ENOTFOUND' : codeOf(e),
      errno: 2,
      operation,
      object: label,
      cause: e,
    })
  }
  if (type !== NSFS_MAGIC) {
    throw invalidArgument(`${label} is not a network namespace (${path} is not an nsfs file)`, {
      operation,
      object: label,
      hint: 'give /proc/PID/ns/net or a file bind-mounted from one',
    })
  }
  return ino
}

/** Names `ip netns attach NAME PID` as the process's namespace, as that command does. */
export async function attach(name: string, pid: number): Promise<void> {
  const operation = 'netns.attach'
  checkNetnsName(name, operation)
  const ref = checkNamespaceRef({ pid }, { operation, object: `netns ${name}` }) as { pid: number }
  inode(ref, operation) // ESRCH before anything is touched
  if (existsSync(`${NETNS_RUN_DIR}/${name}`)) {
    throw new NsnetError(`network namespace "${name}" already exists`, { code: 'EEXIST', errno: 17, operation, object: `netns ${name}` })
  }
  await run(['ip', 'netns', 'attach', name, String(ref.pid)], operation, name)
}

/**
 * A handle on a namespace given by name, `{ pid }` or `{ path }`: the same NetnsHandle that
 * netns.open(name) gives. For a pid or path the namespace is attached under a name of its own
 * (`handle.name`) until close(); the name is removed again if this process exits first.
 */
export async function openRef(ref: NamespaceRef, opts: HelperOptions = {}): Promise<NetnsHandle> {
  const operation = 'netns.open'
  const r = checkNamespaceRef(ref, { operation })
  if (typeof r === 'string') return open(r, opts)
  inode(r, operation) // a dead pid or a file that is no namespace fails here
  await reapStale()
  const name = `nsnet-ref-${process.pid}-${++counter}`
  if (typeof r === 'object' && 'pid' in r) await run(['ip', 'netns', 'attach', name, String(r.pid)], operation, name)
  else await bindPath(r.path, name, operation)
  track(name)
  let h: NetnsHandle
  try {
    h = await open(name, opts)
  } catch (e) {
    await detach(name)
    throw e
  }
  // close() (and `await using`) also detach the name; the rest is the named handle's.
  const close = h.close.bind(h)
  Object.defineProperty(h, 'close', {
    value: async () => {
      try {
        await close()
      } finally {
        await detach(name)
      }
    },
  })
  return h
}

/** The bind mount `ip netns attach` makes, from any nsfs file. */
async function bindPath(path: string, name: string, operation: string): Promise<void> {
  mkdirSync(NETNS_RUN_DIR, { recursive: true })
  const target = `${NETNS_RUN_DIR}/${name}`
  writeFileSync(target, '', { flag: 'wx', mode: 0 })
  try {
    await run(['mount', '-n', '--bind', path, target], operation, name)
  } catch (e) {
    spawnSync('rm', ['-f', target])
    throw e
  }
}

/** Removes an attached name (`ip netns delete` unmounts and unlinks; the namespace lives on). */
async function detach(name: string): Promise<void> {
  live.delete(name)
  try {
    await run(['ip', 'netns', 'delete', name], 'netns.close', name)
  } catch (e) {
    if (!isNsnetError(e, 'ENOENT')) throw e
  }
}

function track(name: string): void {
  live.add(name)
  if (exitHook) return
  exitHook = true
  // A handle not closed before exit: its name must not outlive this process.
  process.once('exit', () => {
    for (const n of live) spawnSync('ip', ['netns', 'delete', n], { stdio: 'ignore' })
  })
}

/** Detaches names left by processes that died without closing their handles (SIGKILL). */
async function reapStale(): Promise<void> {
  let names: string[]
  try {
    names = readdirSync(NETNS_RUN_DIR)
  } catch {
    return
  }
  for (const n of names) {
    const m = ATTACHED.exec(n)
    if (!m || Number(m[1]) === process.pid || existsSync(`/proc/${m[1]}`)) continue
    await detach(n).catch(() => undefined)
  }
}

async function run(argv: string[], operation: string, name: string): Promise<void> {
  const r = await runCommand(argv, { timeoutMs: 30_000 }, { operation, namespace: undefined })
  if (r.code !== 0) {
    const msg = r.stderr.trim() || `${argv.join(' ')} exited with ${r.code}`
    const code = /File exists/.test(msg)
      ? 'EEXIST'
      : /No such file|not exist/.test(msg)
        ? 'ENOENT'
        : /Permission denied|Operation not permitted/.test(msg)
          ? 'EPERM'
          : /No such process/.test(msg)
            ? 'ESRCH'
            : 'EIO'
    throw new NsnetError(msg, { code, operation, object: `netns ${name}` })
  }
}
