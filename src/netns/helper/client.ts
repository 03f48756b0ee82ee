// The parent's side of a namespace helper: spawns `ip netns exec NAME node helper.js NAME`,
// pipelines JSON-line requests to it, and turns its death into prompt, typed errors.
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import type { Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import { errorFromJSON, invalidArgument, NsnetError, type NsnetErrorCode, type SerializedError } from '../../netlink/errors.js'
import { freeze } from '../../ops/context.js'
import { MAX_TIMEOUT_MS, SpecCheck } from '../../ops/spec-check.js'
import { LineSplitter, LineWriter } from '../../util/lines.js'
import { HELPER_OPS, type HelperApi, type HelperOp, isHelperOp, isStreamOp } from './protocol.js'
import type { HelperSlots } from './slots.js'

export interface HelperOptions {
  /** Stop the helper after this many ms without requests; it restarts on the next call. Default 30000; 0 = never. */
  readonly idleMs?: number
  /** How long the helper may take to say it is ready; default 10000 ms. */
  readonly startTimeoutMs?: number
  /** The bundled helper script; default dist/helper.js of this package (or $NSNET_HELPER). */
  readonly helperPath?: string
  /** A bound shared with other handles: at most `limit` of their helpers alive at once. */
  readonly slots?: HelperSlots
}

interface Pending {
  readonly op: string
  resolve(v: unknown): void
  reject(e: NsnetError): void
  items?: unknown[]
}

const STDERR_TAIL = 2000

/** The telling lines of what a dying helper printed: the first error line, else the last lines. */
function stderrSummary(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
  const err = lines.find((l) => /^(\w*Error|error)\b|Error \[|Cannot /.test(l))
  return err ?? lines.slice(-3).join(' | ')
}

/** Finds the bundled helper next to this module, wherever the package was built to. */
export function defaultHelperPath(): string {
  const env = process.env.NSNET_HELPER
  if (env) return env
  for (const rel of ['./helper.js', '../helper.js', '../../../dist/helper.js']) {
    const p = fileURLToPath(new URL(rel, import.meta.url))
    if (existsSync(p)) return p
  }
  throw new NsnetError('the helper bundle (dist/helper.js) is missing', {
    code: 'EHELPER',
    operation: 'netns.open',
    hint: 'run `npm run build` (node scripts/build.mjs) first',
  })
}

/** Live helper processes this process started, and the most alive at once (see helperCounts()). */
const counts = { live: 0, peak: 0, started: 0 }
const livePids = new Set<number>()

/**
 * How many helpers this process has running now, the most that ran at once since the last
 * resetHelperPeak(), how many it ever started, and the pids of the live ones.
 * (No `ip` equivalent; tests and benchmarks use it to check the topology's bound.)
 */
export function helperCounts(): { live: number; peak: number; started: number; pids: number[] } {
  return { ...counts, pids: [...livePids] }
}

/** Starts a new high-water mark at the number alive now. */
export function resetHelperPeak(): void {
  counts.peak = counts.live
}

/**
 * The helper's environment: the parent's, without what only slows its start. NODE_OPTIONS may
 * load a loader (tsx, a debugger); NODE_EXTRA_CA_CERTS makes node parse a CA bundle before
 * running anything (~300 ms of CPU here), and the helper never opens a TLS connection.
 */
export function helperEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env }
  delete env.NODE_OPTIONS
  delete env.NODE_EXTRA_CA_CERTS
  return env
}

/** Node flags of every helper (measured in bench/netns.ts; see the README's benchmark section). */
export const HELPER_NODE_FLAGS: readonly string[] = []

/** Grace the client gives the helper beyond a call's own timeoutMs before giving up on it. */
const TIMEOUT_GRACE_MS = 1000

/**
 * The arguments of `op` as they cross to the helper: no more than its method takes, trailing
 * undefined ones dropped, and the AbortSignal taken out of its call options (always the last
 * parameter; a signal cannot cross as JSON). `timeoutMs` stays for the helper's kernel calls
 * and is also noted for a client-side guard. An op outside HELPER_OPS goes as it is, for the
 * helper to refuse.
 */
export function splitOptions(op: string, args: readonly unknown[], namespace?: string): { args: unknown[]; signal?: AbortSignal; timeoutMs?: number } {
  const n = isHelperOp(op) ? HELPER_OPS[op] : args.length
  const out = args.slice(0, n)
  let signal: AbortSignal | undefined
  let timeout: number | undefined
  const last = out[n - 1]
  if (isHelperOp(op) && last && typeof last === 'object' && !Array.isArray(last)) {
    const { timeoutMs } = last as { timeoutMs?: unknown }
    // A value the ops will refuse (NaN, negative, beyond a timer's range) sets no guard here.
    if (typeof timeoutMs === 'number' && timeoutMs > 0 && timeoutMs <= MAX_TIMEOUT_MS) timeout = timeoutMs
    if ('signal' in last) {
      const { signal: s, ...rest } = last as { signal?: AbortSignal }
      // The one check that cannot run in the helper.
      if (s !== undefined) signal = new SpecCheck({ operation: op, namespace }).signal(s, 'options.signal')
      out[n - 1] = Object.keys(rest).length ? rest : undefined
    }
  }
  while (out.length && out[out.length - 1] === undefined) out.pop()
  return { args: out, signal, timeoutMs: timeout }
}

/**
 * An object of HelperApi's shape, built from HELPER_OPS, whose every method sends its
 * operation through `send`: what a namespace handle offers.
 */
export function remoteApi(send: (op: HelperOp, args: readonly unknown[]) => Promise<unknown>): HelperApi {
  const root: { [key: string]: unknown } = {}
  for (const op of Object.keys(HELPER_OPS) as HelperOp[]) {
    const path = op.split('.')
    const method = path.pop()!
    let group = root
    for (const k of path) group = (group[k] ??= {}) as { [key: string]: unknown }
    // A stream arrives in chunks; the helper side holds one chunk at a time, this side the whole list.
    group[method] = isStreamOp(op)
      ? (...a: unknown[]) =>
          (async function* () {
            yield* (await send(op, a)) as unknown[]
          })()
      : (...a: unknown[]) => send(op, a)
  }
  // HELPER_OPS is checked against HelperApi both ways: a function at each of its paths is one.
  const api: object = freeze(root)
  return api as HelperApi
}

/** One helper process and the requests in flight to it. */
export class HelperProcess {
  readonly child: ChildProcess
  readonly ready: Promise<void>
  /** Resolves once the process has exited and its pipes are closed. */
  readonly exited: Promise<void>
  private readonly pending = new Map<number, Pending>()
  private readonly out: LineWriter
  private nextId = 1
  private dead: NsnetError | undefined
  private closing = false
  private stderrTail = ''
  private referenced = true
  private markReady!: () => void
  private failReady!: (e: NsnetError) => void

  constructor(
    readonly namespace: string,
    helperPath: string,
    startTimeoutMs: number,
    private readonly onIdle: () => void,
  ) {
    this.child = spawn('ip', ['netns', 'exec', namespace, process.execPath, ...HELPER_NODE_FLAGS, helperPath, namespace], {
      stdio: ['pipe', 'pipe', 'pipe'],
      // Its own session: a terminal's Ctrl-C goes to the parent, which decides.
      detached: true,
      env: helperEnv(),
    })
    const pid = this.child.pid
    if (pid !== undefined) {
      livePids.add(pid)
      counts.started++
      counts.peak = Math.max(counts.peak, ++counts.live)
    }
    this.ready = new Promise<void>((resolve, reject) => {
      this.markReady = resolve
      this.failReady = reject
    })
    this.ready.catch(() => undefined)
    const startTimer = setTimeout(() => {
      this.kill()
      this.failReady(this.error(`did not become ready within ${startTimeoutMs} ms`, 'EHELPER'))
    }, startTimeoutMs)
    this.ready.then(
      () => clearTimeout(startTimer),
      () => clearTimeout(startTimer),
    )

    this.out = new LineWriter((text) => {
      if (!this.dead) this.child.stdin!.write(text)
    })
    const splitter = new LineSplitter((line) => this.onLine(line))
    this.child.stdout!.setEncoding('utf8')
    this.child.stdout!.on('data', (t: string) => splitter.push(t))
    this.child.stderr!.setEncoding('utf8')
    this.child.stderr!.on('data', (t: string) => {
      this.stderrTail = (this.stderrTail + t).slice(-STDERR_TAIL)
    })
    this.child.stdin!.on('error', () => {
      /* EPIPE: the exit handler reports it */
    })

    this.exited = new Promise<void>((resolve) => {
      let code: number | null = null
      let signal: NodeJS.Signals | null = null
      const died = (): void => {
        if (this.dead) return
        if (pid !== undefined && livePids.delete(pid)) counts.live--
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`
        const tail = stderrSummary(this.stderrTail)
        this.dead = this.closing
          ? this.error('helper was closed', 'ECLOSED')
          : this.error(`helper (pid ${this.child.pid}) ${how}${tail ? `: ${tail}` : ''}`, 'EHELPER')
        this.failReady(this.dead)
        for (const p of this.pending.values()) p.reject(this.dead)
        this.pending.clear()
        this.child.stdin!.destroy()
        resolve()
      }
      this.child.on('error', (e) => {
        this.stderrTail += e.message
        died()
      })
      // Replies already in the pipe are still delivered: 'close' comes after stdout ends.
      // Should something else hold the pipe open, do not wait for it long.
      this.child.on('exit', (c, s) => {
        if (pid !== undefined && livePids.delete(pid)) counts.live--
        code = c
        signal = s
        setTimeout(died, 20).unref()
      })
      this.child.on('close', died)
    })
  }

  get pid(): number | undefined {
    return this.child.pid
  }
  get isDead(): boolean {
    return this.dead !== undefined
  }
  get inFlight(): number {
    return this.pending.size
  }

  private error(summary: string, code: NsnetErrorCode): NsnetError {
    return new NsnetError(summary, { code, namespace: this.namespace, operation: 'netns helper' })
  }

  private onLine(line: string): void {
    let msg: { id?: number; ready?: boolean; result?: unknown; error?: SerializedError; chunk?: unknown[]; done?: boolean }
    try {
      msg = JSON.parse(line)
    } catch {
      this.stderrTail = (this.stderrTail + `\nunparseable line from helper: ${line.slice(0, 200)}`).slice(-STDERR_TAIL)
      return
    }
    if (msg.ready) {
      this.markReady()
      if (this.pending.size === 0) this.becameIdle()
      return
    }
    const p = this.pending.get(msg.id!)
    if (!p) return // abandoned (aborted) or unknown
    if (msg.chunk) {
      ;(p.items ??= []).push(...msg.chunk)
      return
    }
    this.pending.delete(msg.id!)
    if (msg.error) p.reject(errorFromJSON(msg.error))
    else p.resolve(freeze(msg.done ? (p.items ?? []) : msg.result))
    if (this.pending.size === 0) this.becameIdle()
  }

  private becameIdle(): void {
    this.setRef(false)
    this.onIdle()
  }

  /** An idle helper must not keep the parent's event loop alive; a busy one must. */
  private setRef(on: boolean): void {
    if (on === this.referenced || this.dead) return
    this.referenced = on
    const streams = [this.child.stdin, this.child.stdout, this.child.stderr] as unknown as Socket[]
    if (on) {
      this.child.ref()
      for (const s of streams) s.ref?.()
    } else {
      this.child.unref()
      for (const s of streams) s.unref?.()
    }
  }

  /**
   * Sends one request; resolves with its (frozen) result. With `timeoutMs`, a helper that has
   * not answered a second after the deadline it was given is not waited for (ETIMEDOUT).
   */
  call(op: string, args: readonly unknown[], signal?: AbortSignal, timeoutMs?: number): Promise<unknown> {
    if (this.dead) return Promise.reject(this.dead)
    if (signal?.aborted) return Promise.reject(new NsnetError('aborted', { code: 'EABORTED', operation: op, namespace: this.namespace }))
    const id = this.nextId++
    let line: string
    try {
      // JSON turns an undefined argument into null: say which were undefined, so null stays null.
      const unset = args.flatMap((a, i) => (a === undefined ? [i] : []))
      line = JSON.stringify(unset.length ? { id, op, args, unset } : { id, op, args })
    } catch (e) {
      return Promise.reject(
        invalidArgument(`arguments cannot be sent to the helper as JSON: ${(e as Error).message}`, { operation: op, namespace: this.namespace }),
      )
    }
    return new Promise<unknown>((resolve, reject) => {
      const p: Pending = { op, resolve, reject }
      if (signal || timeoutMs !== undefined) {
        // Either gives up on the call here; the helper finishes it anyway and its answer is dropped.
        const giveUp = (e: NsnetError): void => {
          if (this.pending.delete(id)) {
            p.reject(e)
            if (this.pending.size === 0) this.becameIdle()
          }
        }
        const onAbort = (): void => giveUp(new NsnetError('aborted', { code: 'EABORTED', operation: op, namespace: this.namespace }))
        const timer =
          timeoutMs === undefined
            ? undefined
            : setTimeout(
                () =>
                  giveUp(
                    new NsnetError(`the helper did not answer within ${timeoutMs + TIMEOUT_GRACE_MS} ms`, {
                      code: 'ETIMEDOUT',
                      operation: op,
                      namespace: this.namespace,
                    }),
                  ),
                timeoutMs + TIMEOUT_GRACE_MS,
              )
        signal?.addEventListener('abort', onAbort, { once: true })
        const done = (): void => {
          signal?.removeEventListener('abort', onAbort)
          clearTimeout(timer)
        }
        p.resolve = (v) => {
          done()
          resolve(v)
        }
        p.reject = (e) => {
          done()
          reject(e)
        }
      }
      this.pending.set(id, p)
      if (this.pending.size === 1) this.setRef(true)
      this.out.send(line)
    })
  }

  private kill(): void {
    try {
      this.child.kill('SIGKILL')
    } catch {
      /* gone */
    }
  }

  /** Ends the helper: closes its stdin (it exits at once), SIGKILLs it if it has not after `graceMs`. */
  async close(graceMs = 2000): Promise<void> {
    if (!this.dead) {
      this.closing = true
      this.out.flush()
      this.child.stdin!.end()
      const t = setTimeout(() => this.kill(), graceMs)
      await this.exited
      clearTimeout(t)
    }
    await this.exited
  }
}
