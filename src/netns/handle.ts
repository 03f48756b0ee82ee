// What netns.open(NAME) returns: the Rtnl interface forwarded to a helper living inside
// NAME, plus exec/spawn, sysctl and file access there. The helper starts on demand and
// stops when idle, so a handle is cheap to keep.
import type { ChildProcess } from 'node:child_process'
import type { ApiOf, BridgeApi, NftApi, RtnlApi, TcApi } from '../api.js'
import { isNsnetError, NsnetError } from '../netlink/errors.js'
import type { OpsContext } from '../ops/context.js'
import { type Monitor, type MonitorKind, type MonitorOptions, monitor } from '../ops/monitor/operations.js'
import { type ExecOptions, type ExecResult, execIn, requireNetns, type SpawnInOptions, spawnIn } from './exec.js'
import { defaultHelperPath, type HelperOptions, HelperProcess, remoteApi, splitOptions } from './helper/client.js'
import type { HelperOp, NetnsFiles, NetnsSysctl, OpArgs, OpResult } from './helper/protocol.js'
import type { HelperSlots } from './helper/slots.js'
import { NamespaceIdentity } from './identity.js'
import { checkNetnsName } from './names.js'
import { register, unregister } from './registry.js'

/** @deprecated the same as ApiOf<T>: every method of RtnlApi is asynchronous on both transports. */
export type Remote<T> = ApiOf<T>

/** @deprecated rt.nft is the same type on both transports: RtnlApi['nft']. */
export type RemoteNft = NftApi

export type { NetnsFiles, NetnsSysctl }

export class NetnsHandle implements RtnlApi, AsyncDisposable {
  readonly links: RtnlApi['links']
  readonly addresses: RtnlApi['addresses']
  readonly routes: RtnlApi['routes']
  readonly neighbors: RtnlApi['neighbors']
  readonly rules: RtnlApi['rules']
  /** rt.nft inside the namespace (as `ip netns exec NAME nft ...`). */
  readonly nft: NftApi
  readonly ethtool: RtnlApi['ethtool']
  /** Traffic control inside the namespace, as `ip netns exec NAME tc ...`. */
  readonly tc: TcApi
  readonly nexthops: RtnlApi['nexthops']
  readonly bridge: BridgeApi
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
  constructor(
    readonly name: string,
    opts: HelperOptions = {},
  ) {
    this.identity = new NamespaceIdentity(name, 'netns.open')
    this.helperPath = opts.helperPath ?? defaultHelperPath()
    this.idleMs = opts.idleMs ?? 30_000
    this.startTimeoutMs = opts.startTimeoutMs ?? 10_000
    this.slots = opts.slots
    // Every method, from the protocol's table of operations.
    const api = remoteApi((op, args) => this.send(op, args))
    this.links = api.links
    this.addresses = api.addresses
    this.routes = api.routes
    this.neighbors = api.neighbors
    this.rules = api.rules
    this.nft = api.nft
    this.ethtool = api.ethtool
    this.tc = api.tc
    this.nexthops = api.nexthops
    this.bridge = api.bridge
    this.sysctl = api.sysctl
    this.files = api.files
    register(name, this)
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
    return (this.starting ??= this.spawnHelper().finally(() => {
      this.starting = undefined
    }))
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

  /** Runs operation `op` of the helper's table (what `h.links.add(...)` does): `h.call('links.add', [spec])`. */
  call<K extends HelperOp>(op: K, args: Readonly<OpArgs<K>>): Promise<OpResult<K>> {
    return this.send(op, args) as Promise<OpResult<K>>
  }

  /** Sends `op` to the helper (starting it if needed); the call options lose their `signal` here. */
  private async send(op: string, rawArgs: readonly unknown[]): Promise<unknown> {
    const { args, signal, timeoutMs } = splitOptions(op, rawArgs, this.name)
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
