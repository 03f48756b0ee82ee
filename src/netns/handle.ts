// What netns.open(NAME) returns: the Rtnl interface forwarded to a helper living inside
// NAME, plus exec/spawn, sysctl and file access there. The helper starts on demand and
// stops when idle, so a handle is cheap to keep.
import type { ChildProcess } from 'node:child_process'
import { NsnetError, isNsnetError } from '../netlink/errors.js'
import type { Addresses } from '../ops/addresses/operations.js'
import type { OpsContext } from '../ops/context.js'
import type { Links } from '../ops/links/operations.js'
import { monitor, type Monitor, type MonitorKind, type MonitorOptions } from '../ops/monitor/operations.js'
import type { Neighbors } from '../ops/neighbors/operations.js'
import type { Routes } from '../ops/routes/operations.js'
import type { Rules } from '../ops/rules/operations.js'
import type { Nft, NftChains, NftRules, NftTables } from '../nftables/nft.js'
import { remoteNft } from '../nftables/remote.js'
import type { Ethtool } from '../ops/ethtool/operations.js'
import type { Nexthops } from '../ops/nexthops/operations.js'
import type { BridgeFdb, BridgePorts, BridgeVlans } from '../ops/bridge/index.js'
import { HelperProcess, defaultHelperPath, splitSignal, type HelperOptions } from './helper/client.js'
import type { HelperSlots } from './helper/slots.js'
import type { Classes, Filters, Qdiscs } from '../ops/tc/index.js'
import { execIn, requireNetns, spawnIn, type ExecOptions, type ExecResult, type SpawnInOptions } from './exec.js'
import { NamespaceIdentity } from './identity.js'
import { checkNetnsName } from './names.js'
import type { RtnlGroup } from './helper/protocol.js'
import { register, unregister } from './registry.js'
import type { SysctlValue } from './sysctl.js'

/** An ops class as seen through the helper: every method, now asynchronous. */
export type Remote<T> = {
  readonly [K in keyof T as T[K] extends (...a: never[]) => unknown ? K : never]:
    T[K] extends (...a: infer A) => infer R ? (...a: A) => Promise<Awaited<R>> : never
}

/** `rt.bridge` as seen through the helper. */
export interface RemoteBridge {
  readonly fdb: Remote<BridgeFdb>
  readonly links: Remote<BridgePorts>
  readonly vlans: Remote<BridgeVlans>
}

/** rt.nft as seen through the helper. */
export type RemoteNft = Remote<Nft> & {
  readonly tables: Remote<NftTables>
  readonly chains: Remote<NftChains>
  readonly rules: Remote<NftRules>
}

export interface NetnsSysctl {
  /** The value as `ip netns exec NAME sysctl -n KEY` prints it. */
  get(key: string): Promise<string>
  /** As `ip netns exec NAME sysctl -w KEY=VALUE`. */
  set(key: string, value: SysctlValue): Promise<void>
}

export interface NetnsFiles {
  /** As `ip netns exec NAME cat PATH` (e.g. /proc/net/dev, /sys/class/net/...). */
  read(path: string): Promise<string>
  /** As `ip netns exec NAME sh -c 'echo DATA > PATH'` (one write). */
  write(path: string, data: string): Promise<void>
  /** As `ip netns exec NAME ls PATH`. */
  list(path: string): Promise<string[]>
}

export class NetnsHandle implements AsyncDisposable {
  readonly links: Remote<Links>
  readonly addresses: Remote<Addresses>
  readonly routes: Remote<Routes>
  readonly neighbors: Remote<Neighbors>
  readonly rules: Remote<Rules>
  /** rt.nft inside the namespace (as `ip netns exec NAME nft ...`). */
  readonly nft: RemoteNft
  readonly ethtool: Remote<Ethtool>
  /** Traffic control inside the namespace, as `ip netns exec NAME tc ...`. */
  readonly tc: { readonly qdiscs: Remote<Qdiscs>; readonly classes: Remote<Classes>; readonly filters: Remote<Filters> }
  readonly nexthops: Remote<Nexthops>
  readonly bridge: RemoteBridge
  readonly sysctl: NetnsSysctl
  readonly files: NetnsFiles
  private proc: HelperProcess | undefined
  /** The helper whose namespace was checked to be this handle's. */
  private verified: HelperProcess | undefined
  private readonly identity: NamespaceIdentity
  private readonly monitors = new Set<Monitor>()
  private idleTimer: NodeJS.Timeout | undefined
  private closed = false
  private readonly helperPath: string
  private readonly idleMs: number
  private readonly startTimeoutMs: number
  private readonly slots: HelperSlots | undefined
  /** The slot of the running helper, when the handle shares a bound. */
  private slot: symbol | undefined
  private starting: Promise<HelperProcess> | undefined
  /** Calls between asking for the helper and its answer (it must not be stopped under them). */
  private calling = 0

  /** Use netns.open(). */
  constructor(readonly name: string, opts: HelperOptions = {}) {
    this.identity = new NamespaceIdentity(name, 'netns.open')
    this.helperPath = opts.helperPath ?? defaultHelperPath()
    this.idleMs = opts.idleMs ?? 30_000
    this.startTimeoutMs = opts.startTimeoutMs ?? 10_000
    this.slots = opts.slots
    const g = (group: RtnlGroup) => this.group(group)
    this.links = g('links') as Remote<Links>
    this.addresses = g('addresses') as Remote<Addresses>
    this.routes = g('routes') as Remote<Routes>
    this.neighbors = g('neighbors') as Remote<Neighbors>
    this.rules = g('rules') as Remote<Rules>
    this.nft = remoteNft<RemoteNft>((op, args) => this.call(op, args))
    this.ethtool = g('ethtool') as Remote<Ethtool>
    this.tc = Object.freeze({
      qdiscs: g('tc.qdiscs') as Remote<Qdiscs>, classes: g('tc.classes') as Remote<Classes>, filters: g('tc.filters') as Remote<Filters>,
    })
    this.nexthops = g('nexthops') as Remote<Nexthops>
    this.bridge = Object.freeze({
      fdb: g('bridge.fdb') as Remote<BridgeFdb>, links: g('bridge.links') as Remote<BridgePorts>, vlans: g('bridge.vlans') as Remote<BridgeVlans>,
    })
    this.sysctl = {
      get: (key) => this.call('sysctl.get', [key]) as Promise<string>,
      set: (key, value) => this.call('sysctl.set', [key, value]) as Promise<void>,
    }
    this.files = {
      read: (path) => this.call('files.read', [path]) as Promise<string>,
      write: (path, data) => this.call('files.write', [path, data]) as Promise<void>,
      list: (path) => this.call('files.list', [path]) as Promise<string[]>,
    }
    register(name, this)
  }

  /** A forwarding object: any method name becomes a request `group.method` to the helper. */
  private group(group: RtnlGroup): object {
    const methods = new Map<string, (...a: unknown[]) => Promise<unknown>>()
    return new Proxy(Object.freeze({}), {
      get: (_t, key) => {
        // Not thenable, not iterable: only string method names forward.
        if (typeof key !== 'string' || key === 'then' || key === 'toJSON') return undefined
        let fn = methods.get(key)
        if (!fn) {
          const op = `${group}.${key}`
          fn = (...a: unknown[]) => this.call(op, a)
          methods.set(key, fn)
        }
        return fn
      },
    })
  }

  /** The helper's pid while one is running. */
  get pid(): number | undefined {
    return this.proc && !this.proc.isDead ? this.proc.pid : undefined
  }

  /** Starts the helper unless one is running; resolves when it is ready. */
  async start(): Promise<void> {
    this.calling++
    try {
      await this.readyHelper('netns.open')
    } finally {
      this.calling--
    }
  }

  /** The helper, started if needed and known to live in this handle's namespace (else ESTALE). */
  private async readyHelper(op: string): Promise<HelperProcess> {
    this.identity.check(op)
    const proc = await this.helper()
    clearTimeout(this.idleTimer)
    await proc.ready
    if (this.verified !== proc) {
      try {
        this.identity.checkProcess(proc.pid, op)
      } catch (e) {
        if (this.proc === proc) this.proc = undefined
        void proc.close()
        throw e
      }
      this.verified = proc
    }
    return proc
  }

  private closedError(): NsnetError {
    return new NsnetError('namespace handle is closed', { code: 'ECLOSED', namespace: this.name, operation: 'netns helper' })
  }

  private helper(): Promise<HelperProcess> {
    if (this.closed) return Promise.reject(this.closedError())
    if (this.proc && !this.proc.isDead) {
      if (this.slot) this.slots?.touch(this.slot)
      return Promise.resolve(this.proc)
    }
    return (this.starting ??= this.spawnHelper().finally(() => { this.starting = undefined }))
  }

  /** Takes a slot (when the handle shares a bound), then spawns; the slot comes back when the process exits. */
  private async spawnHelper(): Promise<HelperProcess> {
    requireNetns(this.name, 'netns.open')
    const slots = this.slots
    const token = slots ? await slots.acquire(this) : undefined
    if (this.closed) {
      if (token) slots!.release(token)
      throw this.closedError()
    }
    let proc: HelperProcess
    try {
      proc = new HelperProcess(this.name, this.helperPath, this.startTimeoutMs, () => this.armIdle())
    } catch (e) {
      if (token) slots!.release(token)
      throw e
    }
    this.proc = proc
    this.slot = token
    if (token) {
      void proc.exited.then(() => {
        slots!.release(token)
        if (this.slot === token) this.slot = undefined
      })
    }
    return proc
  }

  /** Ends the helper if it has nothing in flight (the handle starts a new one on its next call). */
  stopIfIdle(): boolean {
    const proc = this.proc
    if (!proc || proc.isDead || proc.inFlight > 0 || this.calling > 0 || this.starting) return false
    this.proc = undefined
    clearTimeout(this.idleTimer)
    void proc.close()
    return true
  }

  private armIdle(): void {
    this.slots?.nudge()
    if (this.idleMs <= 0 || this.closed) return
    clearTimeout(this.idleTimer)
    const proc = this.proc
    this.idleTimer = setTimeout(() => {
      if (proc && this.proc === proc && proc.inFlight === 0) {
        this.proc = undefined
        void proc.close()
      }
    }, this.idleMs)
    this.idleTimer.unref()
  }

  /** Sends `op` to the helper (starting it if needed). A trailing options object loses its `signal` here. */
  async call(op: string, rawArgs: readonly unknown[]): Promise<unknown> {
    const { args, signal, timeoutMs } = splitSignal(rawArgs, op, this.name)
    this.calling++
    try {
      const proc = await this.readyHelper(op)
      try {
        return await proc.call(op, args, signal, timeoutMs)
      } catch (e) {
        // "No such link" may mean the name now leads elsewhere: look again before saying so.
        if (isNsnetError(e, 'ENOENT') || isNsnetError(e, 'ENODEV') || isNsnetError(e, 'ENOTFOUND')) this.identity.check(op, true, e)
        throw e
      }
    } finally {
      this.calling--
    }
  }

  /**
   * Typed change events inside the namespace, as `ip -n NAME monitor link address route...`.
   * The monitor runs its own child there (not through the helper); close() of the handle ends it too.
   */
  monitor(kinds: readonly MonitorKind[], opts: MonitorOptions = {}): Monitor {
    if (this.closed) throw new NsnetError('namespace handle is closed', { code: 'ECLOSED', namespace: this.name, operation: 'monitor' })
    requireNetns(this.name, 'monitor')
    this.identity.check('monitor')
    // monitor() uses the context for its namespace label only; the socket lives in its child.
    const ctx = { namespace: this.name } as OpsContext
    const m = monitor(ctx, kinds, { ...opts, spawnPrefix: ['ip', 'netns', 'exec', this.name] })
    this.monitors.add(m) // closing one twice is harmless; the set goes with the handle
    return m
  }

  /** Runs a program inside the namespace, as `ip netns exec NAME argv...`. */
  async exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
    this.identity.check('netns.exec')
    return execIn(this.name, argv, opts)
  }

  /** Starts a program inside the namespace with streamed stdio, as `ip netns exec NAME argv...`. */
  spawn(argv: readonly string[], opts?: SpawnInOptions): ChildProcess {
    this.identity.check('netns.spawn')
    return spawnIn(this.name, argv, opts)
  }

  /** Ends the helper; pending calls reject with ECLOSED. The handle cannot be used after. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.idleTimer)
    unregister(this.name, this)
    const proc = this.proc
    this.proc = undefined
    const monitors = [...this.monitors]
    this.monitors.clear()
    await Promise.all([proc?.close(), ...monitors.map((m) => m.close())])
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}

/** Opens a handle on NAME and starts its helper, as a long-lived `ip netns exec NAME`. */
export async function open(name: string, opts: HelperOptions = {}): Promise<NetnsHandle> {
  checkNetnsName(name, 'netns.open')
  requireNetns(name, 'netns.open')
  const h = new NetnsHandle(name, opts)
  try {
    await h.start()
  } catch (e) {
    await h.close()
    throw e
  }
  return h
}
