// A reference to a network namespace as rtnetlink takes it: an open fd (IFLA_NET_NS_FD)
// for a named namespace or a path, or a process id (IFLA_NET_NS_PID).
import { closeSync, openSync } from 'node:fs'
import type { Writer } from '../netlink/codec.js'
import { codeOf, type ErrorContext, invalidArgument, isNsnetError, NsnetError } from '../netlink/errors.js'
import { checkNetnsName, NETNS_RUN_DIR, noSuchNetns } from '../netns/names.js'

const IFLA_NET_NS_PID = 19
const IFLA_NET_NS_FD = 28

/**
 * A network namespace: its name under /run/netns (`'mario'`), the namespace of a
 * process (`{ pid }`), or any nsfs file (`{ path: '/proc/123/ns/net' }`).
 */
export type NamespaceRef = string | { readonly pid: number } | { readonly path: string }

/** An opened reference, ready to be written into a message; close() releases the fd. */
export interface OpenNamespace {
  /** How the namespace is named in errors. */
  readonly label: string
  /** Writes IFLA_NET_NS_FD or IFLA_NET_NS_PID. */
  write(w: Writer): void
  close(): void
}

/** Words for errors: `netns mario`, `netns of pid 42`, `netns /proc/1/ns/net`. */
export function namespaceLabel(ns: NamespaceRef): string {
  if (typeof ns === 'string') return `netns ${ns}`
  if ('pid' in ns) return `netns of pid ${ns.pid}`
  return `netns ${ns.path}`
}

/** Throws EINVAL_ARGUMENT unless `ns` is a well-formed reference; touches nothing. */
export function checkNamespaceRef(ns: unknown, ctx: ErrorContext, what = 'namespace'): NamespaceRef {
  if (typeof ns === 'string') {
    try {
      return checkNetnsName(ns, ctx.operation ?? 'netns')
    } catch (e) {
      // Same rule as `ip netns add`, reported against this operation and object.
      if (isNsnetError(e)) throw invalidArgument(`${what}: ${e.summary}`, { ...ctx, hint: e.hint })
      throw e
    }
  }
  if (ns && typeof ns === 'object') {
    const o = ns as Record<string, unknown>
    const keys = Object.keys(o).filter((k) => o[k] !== undefined)
    if (keys.length === 1 && keys[0] === 'pid' && Number.isInteger(o.pid) && (o.pid as number) > 0 && (o.pid as number) <= 0x7fffffff) {
      return { pid: o.pid as number }
    }
    if (keys.length === 1 && keys[0] === 'path' && typeof o.path === 'string' && o.path.length > 0 && !o.path.includes('\0')) {
      return { path: o.path }
    }
  }
  throw invalidArgument(`${what} must be a namespace name, { pid } or { path }, got ${JSON.stringify(ns)}`, ctx)
}

/**
 * Opens the namespace for one request. A name that is not under /run/netns fails here,
 * before anything is sent, with code ENOTFOUND.
 */
export function openNamespace(ns: NamespaceRef, ctx: ErrorContext): OpenNamespace {
  const label = namespaceLabel(ns)
  if (typeof ns === 'object' && 'pid' in ns) {
    return {
      label,
      write: (w) => {
        w.attrU32(IFLA_NET_NS_PID, ns.pid)
      },
      close: () => {},
    }
  }
  const path = typeof ns === 'string' ? `${NETNS_RUN_DIR}/${ns}` : ns.path
  let fd: number
  try {
    fd = openSync(path, 'r') // libuv adds O_CLOEXEC
  } catch (e) {
    const err = e as NodeJS.ErrnoException
    if (err.code === 'ENOENT') {
      const base = typeof ns === 'string' ? noSuchNetns(ns, ctx.operation ?? 'netns') : undefined
      throw new NsnetError(base ? base.summary : `${label} does not exist (no ${path})`, {
        ...ctx,
        code: 'ENOTFOUND',
        errno: 2,
        hint: base?.hint,
      })
    }
    throw new NsnetError(`cannot open ${path}: ${err.code ?? err.message}`, {
      ...ctx,
      code: codeOf(err),
      errno: err.errno === undefined ? undefined : -err.errno,
    })
  }
  let open = true
  return {
    label,
    write: (w) => {
      w.attrU32(IFLA_NET_NS_FD, fd)
    },
    close: () => {
      if (open) {
        open = false
        closeSync(fd)
      }
    },
  }
}
