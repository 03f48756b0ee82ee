// Named network namespaces, as `ip netns add/delete/list/pids/identify/set/list-id`.
// Creation and deletion go through `ip netns` itself: it is the reference recipe (shared
// /run/netns, bind-mounted nsfs file) and measured as fast as doing it natively, which would
// need an `unshare` process anyway (bench/netns.ts compares both).
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { Attrs } from '../netlink/codec.js'
import { NetlinkSocket } from '../netlink/engine.js'
import { invalidArgument, NsnetError } from '../netlink/errors.js'
import { AF_UNSPEC, IFINFOMSG_LEN, RTM_GETLINK } from '../ops/rtnl.js'
import { runCommand } from './exec.js'
import { staleNetns } from './identity.js'
import { dumpNsids, getNsid, setNsid } from './ids.js'
import { checkNetnsName, NETNS_RUN_DIR, netnsEtcDir, netnsPath, noSuchNetns, nsKey } from './names.js'
import { closeHandlesOf } from './registry.js'

export interface NetnsInfo {
  readonly name: string
  /** The id the caller's namespace gives it (`ip netns list` "(id: N)"); undefined when none. */
  readonly id?: number
}

export interface NsidInfo {
  readonly nsid: number
  /** The named namespace with this id, when there is one. */
  readonly name?: string
}

export interface DeleteOptions {
  /** SIGKILL the processes still inside (only those pids) instead of refusing with EBUSY. */
  readonly kill?: boolean
  /** How long to wait for the kernel to release the namespace's links; default 10000 ms. */
  readonly timeoutMs?: number
  /**
   * false: return once the name is gone, as `ip netns delete` does, and let the kernel free
   * the namespace in the background (Topology.down() uses it after removing the links itself).
   */
  readonly wait?: boolean
}

async function ip(args: string[], operation: string, name: string): Promise<void> {
  const r = await runCommand(['ip', ...args], { timeoutMs: 30_000 }, { operation, namespace: undefined })
  if (r.code !== 0) {
    const msg = r.stderr.trim() || `ip ${args.join(' ')} exited with ${r.code}`
    const code = /File exists/.test(msg)
      ? 'EEXIST'
      : /No such file/.test(msg)
        ? 'ENOENT'
        : /Permission denied|Operation not permitted/.test(msg)
          ? 'EPERM'
          : /busy/i.test(msg)
            ? 'EBUSY'
            : 'EIO'
    throw new NsnetError(msg, { code, operation, object: `netns ${name}` })
  }
}

async function withSocket<T>(fn: (sock: NetlinkSocket) => Promise<T>): Promise<T> {
  const sock = NetlinkSocket.open()
  try {
    return await fn(sock)
  } finally {
    sock.close()
  }
}

/** Names in /run/netns, in directory order (as `ip netns list` prints them). */
function names(): string[] {
  try {
    return readdirSync(NETNS_RUN_DIR)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw e
  }
}

/** Creates a named namespace, as `ip netns add NAME`. */
export async function add(name: string): Promise<void> {
  checkNetnsName(name, 'netns.add')
  if (existsSync(netnsPath(name))) {
    throw new NsnetError(`network namespace "${name}" already exists`, { code: 'EEXIST', errno: 17, operation: 'netns.add', object: `netns ${name}` })
  }
  await ip(['netns', 'add', name], 'netns.add', name)
}

/**
 * Creates several named namespaces with one `ip -batch` process (`ip netns add NAME` for
 * each, ip returning to its own namespace after each). Names that exist already are refused
 * before anything is made (EEXIST naming them). Resolves with the failure of each name
 * that could not be created; the others exist.
 */
export async function addMany(names: readonly string[]): Promise<Map<string, NsnetError>> {
  const operation = 'netns.add'
  for (const name of names) checkNetnsName(name, operation)
  const taken = names.filter((name) => existsSync(netnsPath(name)))
  if (taken.length) {
    throw new NsnetError(
      `network namespace${taken.length === 1 ? '' : 's'} ${taken.map((n) => `"${n}"`).join(', ')} already exist${taken.length === 1 ? 's' : ''}`,
      {
        code: 'EEXIST',
        errno: 17,
        operation,
        object: `netns ${taken[0]}`,
      },
    )
  }
  const failed = new Map<string, NsnetError>()
  if (names.length === 0) return failed
  const r = await runCommand(['ip', '-force', '-batch', '-'], { timeoutMs: 60_000, input: names.map((n) => `netns add ${n}\n`).join('') }, { operation })
  // ip names each line it could not run ("Command failed -:LINE"), after that line's own message.
  // A name that exists now may still be somebody else's (a racing `ip netns add`): only the
  // lines ip ran without a failure are ours.
  const lines = r.stderr.split('\n')
  const failedLines = new Map<number, string>()
  lines.forEach((l, i) => {
    const m = /^Command failed -:(\d+)/.exec(l)
    if (m)
      failedLines.set(
        Number(m[1]),
        lines
          .slice(0, i)
          .reverse()
          .find((x) => x.trim() && !x.startsWith('Command failed')) ?? l,
      )
  })
  names.forEach((name, i) => {
    const msg = failedLines.get(i + 1) ?? (existsSync(netnsPath(name)) ? undefined : r.stderr.trim() || `ip netns add ${name} exited with ${r.code}`)
    if (msg === undefined) return
    failed.set(
      name,
      new NsnetError(msg, {
        code: /File exists/.test(msg) ? 'EEXIST' : 'EIO',
        errno: /File exists/.test(msg) ? 17 : undefined,
        operation,
        object: `netns ${name}`,
      }),
    )
  })
  if (r.code !== 0 && failedLines.size === 0) {
    // ip stopped without naming a line: none of them can be called ours.
    for (const name of names)
      if (!failed.has(name))
        failed.set(name, new NsnetError(r.stderr.trim() || `ip -batch exited with ${r.code}`, { code: 'EIO', operation, object: `netns ${name}` }))
  }
  return failed
}

/** Whether /run/netns/NAME exists. */
export async function exists(name: string): Promise<boolean> {
  checkNetnsName(name, 'netns.exists')
  return existsSync(netnsPath(name))
}

/** Named namespaces with their ids, as `ip -j netns list`. */
export async function list(): Promise<NetnsInfo[]> {
  const all = names()
  if (all.length === 0) return []
  return withSocket((sock) =>
    Promise.all(
      all.map(async (name) => {
        let id: number | undefined
        try {
          id = await getNsid(sock, name)
        } catch {
          // A stale file that is no longer a namespace: listed without an id, as ip does.
        }
        return id === undefined ? { name } : { name, id }
      }),
    ),
  )
}

/** Every assigned nsid and the namespace name it belongs to, as `ip -j netns list-id`. */
export async function listIds(): Promise<NsidInfo[]> {
  return withSocket(async (sock) => {
    const ids = await dumpNsids(sock)
    const byId = new Map<number, string>()
    for (const n of await list()) if (n.id !== undefined && !byId.has(n.id)) byId.set(n.id, n.name)
    return ids.map((nsid) => (byId.has(nsid) ? { nsid, name: byId.get(nsid)! } : { nsid }))
  })
}

/** Gives NAME the id ID in the caller's namespace, as `ip netns set NAME ID` (or `auto`). */
export async function setId(name: string, id: number | 'auto'): Promise<void> {
  checkNetnsName(name, 'netns.setId')
  if (id !== 'auto' && (!Number.isInteger(id) || id < 0 || id > 0x7fffffff)) {
    throw invalidArgument(`nsid must be a non-negative 32-bit integer or 'auto', got ${id}`, { operation: 'netns.setId', object: `netns ${name}` })
  }
  await withSocket((sock) => setNsid(sock, name, id))
}

/** The id the caller's namespace gives NAME, or undefined when none is assigned. */
export async function id(name: string): Promise<number | undefined> {
  checkNetnsName(name, 'netns.id')
  return withSocket((sock) => getNsid(sock, name))
}

function procPids(): number[] {
  const out: number[] = []
  for (const e of readdirSync('/proc')) {
    const c = e.charCodeAt(0)
    if (c >= 48 && c <= 57) out.push(Number(e))
  }
  return out
}

/** Pids of the processes inside NAME, as `ip netns pids NAME`. */
export async function pids(name: string): Promise<number[]> {
  checkNetnsName(name, 'netns.pids')
  const key = nsKey(netnsPath(name))
  if (!key) {
    throw noSuchNetns(name, 'netns.pids')
  }
  return procPids().filter((pid) => nsKey(`/proc/${pid}/ns/net`) === key)
}

/** Names of the namespaces process `pid` is in (default: this one), as `ip netns identify PID`. */
export async function identify(pid: number = process.pid): Promise<string[]> {
  if (!Number.isInteger(pid) || pid <= 0) throw invalidArgument(`pid must be a positive integer, got ${pid}`, { operation: 'netns.identify' })
  const key = nsKey(`/proc/${pid}/ns/net`)
  if (!key) throw new NsnetError(`no process ${pid}`, { code: 'ESRCH', errno: 3, operation: 'netns.identify', object: `pid ${pid}` })
  return names().filter((n) => nsKey(`${NETNS_RUN_DIR}/${n}`) === key)
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Ifindexes of the links in the caller's namespace, with the nsid their other end lives in
 * (IFLA_LINK_NETNSID: veth peers and the like), -1 when none.
 */
function linksHere(sock: NetlinkSocket): Promise<Array<[index: number, linkNsid: number]>> {
  const IFLA_LINK_NETNSID = 37
  return sock.dump(
    {
      type: RTM_GETLINK,
      operation: 'netns.delete',
      body: (w) => {
        w.u8(AF_UNSPEC).u8(0).u16(0).s32(0).u32(0).u32(0)
      },
    },
    (m) => {
      const a = new Attrs(m.buf, m.start + IFINFOMSG_LEN, m.end, IFLA_LINK_NETNSID)
      return [m.buf.readInt32LE(m.start + 4), a.s32(IFLA_LINK_NETNSID) ?? -1]
    },
  )
}

/**
 * Deletes a named namespace, as `ip netns delete NAME`, and removes /etc/netns/NAME.
 * Helpers this process opened into it are closed first. Other processes still inside
 * make it refuse with EBUSY (listing them), unless `kill: true` ends exactly those pids.
 * It returns once the kernel has destroyed the namespace as far as the caller can see:
 * its nsid is gone and so are the links here that pointed into it (veth peers).
 */
export async function remove(name: string, opts: DeleteOptions = {}): Promise<void> {
  const operation = 'netns.delete'
  checkNetnsName(name, operation)
  const object = `netns ${name}`
  if (!existsSync(netnsPath(name))) {
    throw noSuchNetns(name, operation)
  }
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000)
  await closeHandlesOf(name)
  let inside = await pids(name)
  if (inside.length && !opts.kill) {
    throw new NsnetError(`processes still inside: ${inside.join(', ')}`, {
      code: 'EBUSY',
      errno: 16,
      operation,
      object,
      hint: 'end them first, or pass { kill: true } to SIGKILL exactly these pids',
    })
  }
  if (inside.length) {
    for (const pid of inside) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        /* gone already */
      }
    }
    // A killed process leaves the namespace when it exits, before it is reaped.
    while ((inside = (await pids(name)).filter((p) => inside.includes(p))).length) {
      if (Date.now() > deadline) {
        throw new NsnetError(`processes ${inside.join(', ')} did not exit after SIGKILL`, { code: 'ETIMEDOUT', operation, object })
      }
      await sleep(5)
    }
  }
  if (opts.wait === false) {
    await ip(['netns', 'delete', name], operation, name)
    rmSync(netnsEtcDir(name), { recursive: true, force: true })
    return
  }
  await withSocket(async (sock) => {
    const nsid = await getNsid(sock, name).catch(() => undefined)
    const peers = nsid === undefined ? [] : (await linksHere(sock)).filter(([, n]) => n === nsid).map(([i]) => i)
    await ip(['netns', 'delete', name], operation, name)
    rmSync(netnsEtcDir(name), { recursive: true, force: true })
    if (nsid === undefined) return
    // The kernel frees a namespace in a workqueue: first its nsids go, then its devices,
    // and a veth's peer here goes with its twin. Wait for both. The peers are followed by
    // ifindex: once the nsid is gone, they no longer say where their other end is.
    for (;;) {
      const idGone = !(await dumpNsids(sock)).includes(nsid)
      const left = idGone && peers.length ? (await linksHere(sock)).map(([i]) => i).filter((i) => peers.includes(i)) : peers
      if (idGone && left.length === 0) return
      if (Date.now() > deadline) {
        throw new NsnetError(`the kernel has not released it yet (${idGone ? `links ${left.join(', ')} remain` : `nsid ${nsid} remains`})`, {
          code: 'ETIMEDOUT',
          operation,
          object,
          hint: 'something else still holds it (an open fd or a bind mount elsewhere)',
        })
      }
      await sleep(5)
    }
  })
}

/**
 * Deletes several named namespaces at once, as `ip -force -batch -` of `netns delete NAME`
 * lines (+ rm -r /etc/netns/NAME): this process's helpers in them closed together, one /proc
 * scan for the processes still inside (SIGKILLed with `kill`, else that name is refused with
 * EBUSY), one `ip` process. Like `wait: false`, it returns once the names are gone.
 * Resolves with the failure of each name that could not be deleted. With `keys` (name ->
 * dev:ino), a name that now refers to another namespace is left alone (ESTALE), looked at
 * again just before the kill and the delete.
 */
export async function removeMany(
  names: readonly string[],
  opts: { kill?: boolean; timeoutMs?: number; keys?: ReadonlyMap<string, string> } = {},
): Promise<Map<string, NsnetError>> {
  const operation = 'netns.delete'
  const failed = new Map<string, NsnetError>()
  const todo = names.filter((name) => {
    checkNetnsName(name, operation)
    if (existsSync(netnsPath(name))) return true
    failed.set(name, noSuchNetns(name, operation))
    return false
  })
  if (todo.length === 0) return failed
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000)
  const swapped = (name: string): boolean => {
    if (failed.get(name)?.code === 'ESTALE') return true
    if (!opts.keys || opts.keys.get(name) === nsKey(netnsPath(name))) return false
    failed.set(name, staleNetns(name, operation))
    return true
  }
  await Promise.all(todo.filter((name) => !swapped(name)).map((name) => closeHandlesOf(name)))
  const byKey = new Map<string, string>()
  for (const name of todo) {
    const k = nsKey(netnsPath(name))
    if (k && !swapped(name)) byKey.set(k, name)
  }
  let inside = procPids().filter((pid) => {
    const k = nsKey(`/proc/${pid}/ns/net`)
    return k !== undefined && byKey.has(k)
  })
  if (inside.length && !opts.kill) {
    const busy = new Set(inside.map((pid) => byKey.get(nsKey(`/proc/${pid}/ns/net`) ?? '')).filter((n) => n !== undefined))
    for (const name of busy) {
      failed.set(
        name,
        new NsnetError('processes still inside', {
          code: 'EBUSY',
          errno: 16,
          operation,
          object: `netns ${name}`,
          hint: 'end them first, or pass { kill: true } to SIGKILL exactly these pids',
        }),
      )
    }
    inside = []
  }
  for (const pid of inside) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      /* gone already */
    }
  }
  // A killed process leaves its namespace when it exits, before it is reaped.
  while (
    (inside = inside.filter((pid) => {
      const k = nsKey(`/proc/${pid}/ns/net`)
      return k !== undefined && byKey.has(k)
    })).length
  ) {
    if (Date.now() > deadline) {
      throw new NsnetError(`processes ${inside.join(', ')} did not exit after SIGKILL`, { code: 'ETIMEDOUT', operation, object: `netns ${todo.join(', ')}` })
    }
    await sleep(5)
  }
  const go = todo.filter((name) => !failed.has(name) && !swapped(name))
  if (go.length === 0) return failed
  const r = await runCommand(['ip', '-force', '-batch', '-'], { timeoutMs: 30_000, input: go.map((n) => `netns delete ${n}\n`).join('') }, { operation })
  for (const name of go) {
    if (existsSync(netnsPath(name))) {
      const msg = r.stderr.trim() || `ip netns delete ${name} exited with ${r.code}`
      failed.set(name, new NsnetError(msg, { code: /busy/i.test(msg) ? 'EBUSY' : 'EIO', operation, object: `netns ${name}` }))
    } else {
      rmSync(netnsEtcDir(name), { recursive: true, force: true })
    }
  }
  return failed
}

/** Writes /etc/netns/NAME/resolv.conf, which `ip netns exec` (and exec/spawn) put in place of /etc/resolv.conf. */
export async function setResolvConf(name: string, lines: readonly string[]): Promise<void> {
  const operation = 'netns.setResolvConf'
  checkNetnsName(name, operation)
  if (!Array.isArray(lines) || !lines.every((l) => typeof l === 'string' && !l.includes('\n'))) {
    throw invalidArgument('lines must be an array of strings without newlines', { operation, object: `netns ${name}` })
  }
  // As documented: a namespace that does not exist is ENOTFOUND, not a new /etc/netns/NAME.
  if (!existsSync(netnsPath(name))) throw noSuchNetns(name, operation)
  const dir = netnsEtcDir(name)
  mkdirSync(dir, { recursive: true })
  writeFileSync(`${dir}/resolv.conf`, lines.map((l) => `${l}\n`).join(''))
}
