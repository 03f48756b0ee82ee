// sysctl keys inside a namespace. net.* sysctls are per network namespace, so they are
// read and written by the helper, whose /proc/sys/net is the namespace's own.
import { invalidArgument, NsnetError } from '../netlink/errors.js'
import { readText, writeText } from './files.js'

export type SysctlValue = string | number | readonly (string | number)[]

/**
 * /proc/sys path of a key. Dots separate components (net.ipv4.ip_forward); a key with `/`
 * uses slashes instead, for names that contain dots (net/ipv4/conf/eth0.5/forwarding),
 * as sysctl(8) accepts. Only net.* keys: the others are not per-namespace, so setting them
 * from "inside" a namespace would change the whole host.
 */
export function sysctlPath(key: unknown, operation: string, namespace: string | undefined): string {
  if (typeof key !== 'string' || key.length === 0) {
    throw invalidArgument(`sysctl key must be a non-empty string, got ${JSON.stringify(key)}`, { operation, namespace })
  }
  const parts = key.includes('/') ? key.split('/') : key.split('.')
  if (parts.some((p) => p === '' || p === '.' || p === '..' || !/^[\w.:@+-]+$/.test(p))) {
    throw invalidArgument(`"${key}" is not a sysctl key`, { operation, object: `sysctl ${key}`, namespace })
  }
  if (parts[0] !== 'net') {
    throw invalidArgument(`"${key}" is not a net.* sysctl; only those belong to a network namespace`, { operation, object: `sysctl ${key}`, namespace })
  }
  return `/proc/sys/${parts.join('/')}`
}

function renameError(e: unknown, key: string): never {
  if (e instanceof NsnetError) {
    const summary = e.code === 'ENOENT' ? `no sysctl ${key}` : e.summary
    throw new NsnetError(summary, { code: e.code, errno: e.errno, operation: e.operation, object: `sysctl ${key}`, namespace: e.namespace })
  }
  throw e
}

/** The value as `sysctl -n KEY` prints it (trailing newline removed). */
export async function readSysctl(key: string, namespace: string | undefined): Promise<string> {
  const path = sysctlPath(key, 'sysctl.get', namespace)
  try {
    return (await readText(path, namespace, 'sysctl.get')).replace(/\n$/, '')
  } catch (e) {
    renameError(e, key)
  }
}

/** Sets a value, as `sysctl -w KEY=VALUE`; arrays are joined with tabs (tcp_rmem...). */
export async function writeSysctl(key: string, value: SysctlValue, namespace: string | undefined): Promise<void> {
  const path = sysctlPath(key, 'sysctl.set', namespace)
  const ok = (v: unknown) => (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && !v.includes('\n'))
  if (!(Array.isArray(value) ? value.length > 0 && value.every(ok) : ok(value))) {
    throw invalidArgument(`bad value ${JSON.stringify(value)}: a number, a one-line string, or an array of them`, {
      operation: 'sysctl.set',
      object: `sysctl ${key}`,
      namespace,
    })
  }
  const text = Array.isArray(value) ? value.join('\t') : String(value)
  try {
    await writeText(path, text, namespace, 'sysctl.set')
  } catch (e) {
    renameError(e, key)
  }
}
