// Where iproute2 keeps named namespaces, and which names it accepts.
import { statSync } from 'node:fs'
import { invalidArgument, NsnetError } from '../netlink/errors.js'

/** Bind mounts of named network namespaces (`ip netns add` creates them here). */
export const NETNS_RUN_DIR = '/run/netns'
/** Per-namespace files that `ip netns exec` bind-mounts over /etc (resolv.conf, hosts...). */
export const NETNS_ETC_DIR = '/etc/netns'

const NAME_MAX = 255

/**
 * Throws EINVAL_ARGUMENT unless `name` can be a file in /run/netns: non-empty, at most
 * NAME_MAX bytes, no `/`, no whitespace (it would split `ip netns` output), not `.` or `..`.
 */
export function checkNetnsName(name: unknown, operation: string): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw invalidArgument(`namespace name must be a non-empty string, got ${JSON.stringify(name)}`, { operation })
  }
  const object = `netns ${name}`
  if (name === '.' || name === '..') {
    throw invalidArgument(`"${name}" cannot name a namespace`, { operation, object })
  }
  if (name.includes('/')) {
    throw invalidArgument(`namespace name "${name}" contains "/"`, { operation, object, hint: 'a name is one file in /run/netns' })
  }
  if (/\s/.test(name) || name.includes('\0')) {
    throw invalidArgument(`namespace name ${JSON.stringify(name)} contains whitespace or NUL`, { operation, object })
  }
  const bytes = Buffer.byteLength(name)
  if (bytes > NAME_MAX) {
    throw invalidArgument(`namespace name is ${bytes} bytes; at most ${NAME_MAX} fit a file name`, { operation, object: `netns ${name.slice(0, 32)}...` })
  }
  return name
}

/** /run/netns/NAME: open it to get a namespace fd (IFLA_NET_NS_FD, NETNSA_FD). */
export function netnsPath(name: string): string {
  return `${NETNS_RUN_DIR}/${checkNetnsName(name, 'netns.path')}`
}

/** /etc/netns/NAME */
export function netnsEtcDir(name: string): string {
  return `${NETNS_ETC_DIR}/${name}`
}

/** The error for a name that is not in /run/netns (ENOTFOUND, as src/ops/netns-ref.ts uses). */
export function noSuchNetns(name: string, operation: string): NsnetError {
  return new NsnetError(`no network namespace named "${name}"`, {
    code: 'ENOTFOUND',
    errno: 2,
    operation,
    object: `netns ${name}`,
    hint: `create it first (netns.add / ip netns add ${name})`,
  })
}

/**
 * `dev:ino:ctime` of a namespace file (/run/netns/NAME, /proc/PID/ns/net), or undefined when
 * missing. The kernel reuses a freed namespace's inode number for the next one; the nsfs
 * inode's ctime (when it was made, stable while /run/netns/NAME holds it) tells them apart.
 */
export function nsKey(path: string): string | undefined {
  try {
    const st = statSync(path, { bigint: true })
    return `${st.dev}:${st.ino}:${st.ctimeNs}`
  } catch {
    return undefined
  }
}
