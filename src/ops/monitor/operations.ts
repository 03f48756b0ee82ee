// rt.monitor(): typed change events, as `ip monitor link address route neigh rule`.
// The multicast socket lives in a child process (child.ts), because the netlink
// binding aborts the whole process when that socket overflows; here an overflow costs
// the child only: we yield `overrun`, start a new child that dumps the current state
// (`resync: true` events, then `synced`), and carry on.
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { codeOf, NsnetError } from '../../netlink/errors.js'
import { LineSplitter } from '../../util/lines.js'
import { freeze, type OpsContext } from '../context.js'
import { SpecCheck, show } from '../spec-check.js'
import { type ChildConfig, type ChildControl, EXIT_OVERRUN, MONITOR_KINDS, type MonitorEvent, type MonitorKind } from './protocol.js'

export type {
  MonitorAction,
  MonitorEvent,
  MonitorKind,
} from './protocol.js'

export interface MonitorOptions {
  /** Stops the monitor: the child is killed and the iteration ends. */
  readonly signal?: AbortSignal
  /**
   * SO_RCVBUF requested for the multicast socket (default 4 MiB, capped by net.core.rmem_max).
   * A smaller buffer overruns sooner under a burst of changes.
   */
  readonly receiveBufferBytes?: number
}

/** Internal options: for the netns layer, and for tests of the limits. */
export interface MonitorSpawnOptions extends MonitorOptions {
  /** Command that enters the namespace, put before the child, e.g. ['ip', 'netns', 'exec', 'blue']. */
  readonly spawnPrefix?: readonly string[]
  /** Undelivered events at which we stop reading the child (default 50,000). */
  readonly maxQueuedEvents?: number
  /** Unsent output at which the child reports an overrun (default 16 MiB). */
  readonly maxBacklogBytes?: number
}

/** An event stream; also `ready`, `pid` and `close()`. Iterate it once. */
export interface Monitor extends AsyncIterableIterator<MonitorEvent>, AsyncDisposable {
  /** Resolves when the kernel subscription is active: changes made after it are reported. */
  readonly ready: Promise<void>
  /** The current child's pid; undefined once closed. */
  readonly pid: number | undefined
  /** Kills the child and ends the iteration; resolves when the child is gone. */
  close(): Promise<void>
}

// Above this many undelivered events we stop reading the child; its output then backs up
// until it reports an overrun, so a slow consumer costs a resync, not unbounded memory.
const HIGH_WATER = 50_000
const KILL_GRACE_MS = 2_000
const MAX_BACKOFF_MS = 2_000

/**
 * Starts monitoring `kinds` (`ip monitor`): the child is started at once, so `await m.ready`
 * before making the changes you want to see. Stops on `signal`, `close()`, or `break`.
 */
export function monitor(ctx: OpsContext, kinds: readonly MonitorKind[], opts: MonitorSpawnOptions = {}): Monitor {
  const c: SpecCheck = new SpecCheck({ operation: 'monitor', namespace: ctx.namespace })
  if (!Array.isArray(kinds) || kinds.length === 0) c.fail(`kinds must be a non-empty array of ${MONITOR_KINDS.join(', ')}`)
  for (const k of kinds) {
    if (!MONITOR_KINDS.includes(k)) c.fail(`unknown monitor kind ${show(k)}`, `one of ${MONITOR_KINDS.join(', ')}`)
  }
  c.optional(opts, 'options', ['signal', 'receiveBufferBytes', 'spawnPrefix', 'maxQueuedEvents', 'maxBacklogBytes'])
  for (const k of ['receiveBufferBytes', 'maxQueuedEvents', 'maxBacklogBytes'] as const) {
    if (opts[k] !== undefined) c.int(opts[k], k, 1, Number.MAX_SAFE_INTEGER)
  }
  if (opts.spawnPrefix !== undefined && (!Array.isArray(opts.spawnPrefix) || opts.spawnPrefix.some((s) => typeof s !== 'string'))) {
    c.fail('spawnPrefix must be an array of strings')
  }
  return new MonitorStream(ctx.namespace, [...new Set(kinds)], opts)
}

/** How to start the child: the bundled dist/monitor-child.js, or the .ts source through tsx. */
function childCommand(namespace: string | undefined): { script: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url)
  const dir = dirname(here)
  if (here.endsWith('.ts')) {
    const tsx = createRequire(import.meta.url).resolve('tsx')
    return { script: join(dir, 'child.ts'), execArgv: ['--import', pathToFileURL(tsx).href] }
  }
  for (const script of [join(dir, 'monitor-child.js'), join(dir, '..', 'monitor-child.js')]) {
    if (existsSync(script)) return { script, execArgv: [] }
  }
  throw new NsnetError('the monitor child script monitor-child.js is missing', {
    code: 'EHELPER',
    operation: 'monitor',
    namespace,
    hint: 'it is built next to index.js by `npm run build`',
  })
}

interface ChildState {
  readonly proc: ChildProcess
  overrun: boolean
  fatal?: { error: string; code?: string }
  stderr: string
  exited: Promise<void>
}

type Waiter = { resolve: (r: IteratorResult<MonitorEvent>) => void; reject: (e: unknown) => void }

class MonitorStream implements Monitor {
  readonly ready: Promise<void>
  private resolveReady!: () => void
  private rejectReady!: (e: unknown) => void
  private readySettled = false
  private queue: MonitorEvent[] = []
  private head = 0
  private readonly waiters: Waiter[] = []
  private child: ChildState | undefined
  private closed = false
  private failure: NsnetError | undefined
  private restartTimer: NodeJS.Timeout | undefined
  private backoff = 0
  private paused = false
  private readonly highWater: number
  private readonly onAbort = () => {
    void this.close()
  }

  constructor(
    private readonly namespace: string | undefined,
    private readonly kinds: readonly MonitorKind[],
    private readonly opts: MonitorSpawnOptions,
  ) {
    this.highWater = opts.maxQueuedEvents ?? HIGH_WATER
    this.ready = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve
      this.rejectReady = reject
    })
    this.ready.catch(() => {}) // reported through next() too; never an unhandled rejection
    if (opts.signal?.aborted) {
      this.closed = true
      this.settleReady(this.abortError())
      return
    }
    opts.signal?.addEventListener('abort', this.onAbort, { once: true })
    try {
      this.start(false)
    } catch (e) {
      this.fail(e as NsnetError)
    }
  }

  get pid(): number | undefined {
    return this.closed ? undefined : this.child?.proc.pid
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  next(): Promise<IteratorResult<MonitorEvent>> {
    if (this.head < this.queue.length) {
      const value = this.queue[this.head++]!
      if (this.head > 4096 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head)
        this.head = 0
      }
      if (this.paused && this.queue.length - this.head <= this.highWater >> 3) {
        this.paused = false
        this.child?.proc.stdout?.resume()
      }
      return Promise.resolve({ value, done: false })
    }
    if (this.failure) {
      const e = this.failure
      this.failure = undefined
      this.closed = true
      return Promise.reject(e)
    }
    if (this.closed) return Promise.resolve({ value: undefined, done: true })
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject })
      this.updateRef()
    })
  }

  async return(): Promise<IteratorResult<MonitorEvent>> {
    await this.close()
    return { value: undefined, done: true }
  }

  async throw(e?: unknown): Promise<IteratorResult<MonitorEvent>> {
    await this.close()
    throw e
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  async close(): Promise<void> {
    const child = this.child
    if (!this.closed) {
      this.closed = true
      this.opts.signal?.removeEventListener('abort', this.onAbort)
      if (this.restartTimer) clearTimeout(this.restartTimer)
      this.restartTimer = undefined
      this.settleReady(this.abortError())
      this.queue = []
      this.head = 0
      for (const w of this.waiters.splice(0)) w.resolve({ value: undefined, done: true })
      if (child && child.proc.exitCode === null && child.proc.signalCode === null) {
        child.proc.kill('SIGTERM')
        child.proc.ref() // whoever awaits close() must see the child gone before the process may exit
        const force = setTimeout(() => child.proc.kill('SIGKILL'), KILL_GRACE_MS)
        force.unref()
        void child.exited.then(() => clearTimeout(force))
      }
    }
    if (child) await child.exited
  }

  private abortError(): NsnetError {
    return new NsnetError('monitor closed before it was ready', { code: 'EABORTED', operation: 'monitor', namespace: this.namespace })
  }

  private settleReady(e?: unknown): void {
    if (this.readySettled) return
    this.readySettled = true
    if (e) this.rejectReady(e)
    else this.resolveReady()
  }

  private start(resync: boolean): void {
    const { script, execArgv } = childCommand(this.namespace)
    const cfg: ChildConfig = {
      kinds: this.kinds,
      receiveBufferBytes: this.opts.receiveBufferBytes,
      resync,
      maxBacklogBytes: this.opts.maxBacklogBytes,
    }
    const prefix = this.opts.spawnPrefix ?? []
    const argv = [...prefix, process.execPath, ...execArgv, script, JSON.stringify(cfg)]
    const proc = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] })
    let markExited!: () => void
    const state: ChildState = {
      proc,
      overrun: false,
      stderr: '',
      exited: new Promise((r) => {
        markExited = r
      }),
    }
    this.child = state
    this.paused = false
    const lines = new LineSplitter((line) => this.onLine(state, line))
    proc.stdout!.setEncoding('utf8')
    proc.stdout!.on('data', (text: string) => lines.push(text))
    proc.stderr!.setEncoding('utf8')
    proc.stderr!.on('data', (text: string) => {
      state.stderr = (state.stderr + text).slice(-4096)
    })
    proc.stdin!.on('error', () => {}) // EPIPE once the child is gone; its exit tells us why
    proc.on('error', (err) => {
      state.fatal = { error: `cannot start the monitor child (${argv[0]}): ${err.message}`, code: 'EHELPER' }
    })
    proc.on('close', (code, signal) => {
      markExited()
      this.onExit(state, code, signal)
    })
    this.updateRef()
  }

  private onLine(state: ChildState, line: string): void {
    if (this.closed || state !== this.child) return
    let ev: MonitorEvent | ChildControl
    try {
      ev = JSON.parse(line)
    } catch {
      this.fail(
        new NsnetError(`monitor child wrote a line that is not JSON: ${line.slice(0, 200)}`, {
          code: 'EHELPER',
          operation: 'monitor',
          namespace: this.namespace,
        }),
      )
      return
    }
    switch (ev.kind) {
      case 'ready':
        this.settleReady()
        this.updateRef()
        return
      case 'fatal':
        state.fatal = { error: ev.error, code: ev.code }
        return
      case 'overrun':
        state.overrun = true
        break
      case 'synced':
        this.backoff = 0
        break
    }
    this.push(freeze(ev as MonitorEvent))
  }

  private onExit(state: ChildState, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.closed || state !== this.child) return
    const overflow = state.overrun || code === EXIT_OVERRUN || signal === 'SIGABRT' || code === 134
    if (overflow && !state.fatal) {
      if (!state.overrun) this.push(freeze({ kind: 'overrun' }))
      const delay = this.backoff
      this.backoff = Math.min(MAX_BACKOFF_MS, Math.max(50, this.backoff * 2))
      this.restartTimer = setTimeout(() => {
        this.restartTimer = undefined
        if (this.closed) return
        try {
          this.start(true)
        } catch (e) {
          this.fail(e as NsnetError)
        }
      }, delay)
      return
    }
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`
    const detail = state.fatal?.error ?? `the monitor child ${how}${state.stderr.trim() ? `: ${state.stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`
    this.fail(new NsnetError(detail, { code: codeOf(state.fatal, 'EHELPER'), operation: 'monitor', namespace: this.namespace }))
  }

  private push(ev: MonitorEvent): void {
    const w = this.waiters.shift()
    if (w) {
      w.resolve({ value: ev, done: false })
      this.updateRef()
      return
    }
    this.queue.push(ev)
    if (!this.paused && this.queue.length - this.head >= this.highWater) {
      this.paused = true
      this.child?.proc.stdout?.pause()
    }
  }

  /** Ends the stream with an error: queued events are still delivered, then next() rejects once. */
  private fail(e: NsnetError): void {
    if (this.closed) return
    this.settleReady(e)
    this.opts.signal?.removeEventListener('abort', this.onAbort)
    const child = this.child
    if (child && child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill('SIGKILL')
    const w = this.waiters.shift()
    if (w) {
      this.closed = true
      w.reject(e)
      for (const x of this.waiters.splice(0)) x.resolve({ value: undefined, done: true })
    } else {
      this.failure = e
    }
    this.updateRef()
  }

  /**
   * Keeps the process alive only while someone waits: for `ready`, or in next(). A monitor
   * nobody reads from does not hold the process open.
   */
  private updateRef(): void {
    const c = this.child
    if (!c) return
    const want = !this.closed && (!this.readySettled || this.waiters.length > 0)
    const handles = [c.proc, c.proc.stdin, c.proc.stdout, c.proc.stderr] as unknown as Array<{ ref?: () => void; unref?: () => void } | null>
    for (const h of handles) {
      if (want) h?.ref?.()
      else h?.unref?.()
    }
  }
}
