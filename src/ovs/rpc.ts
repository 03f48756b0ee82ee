// JSON-RPC 1.0 over a byte stream, as RFC 7047 uses it: requests matched to replies by id,
// notifications (id null) handed to a listener, the peer's `echo` answered, and every
// pending call rejected at once when the connection ends.
import { connect as netConnect, type Socket } from 'node:net'
import { type ErrorContext, NsnetError } from '../netlink/errors.js'
import { JsonStreamReader } from './json-stream.js'

export interface RpcCallOptions {
  /** Milliseconds to wait for the reply, then ETIMEDOUT; default the session's. */
  readonly timeoutMs?: number
  readonly signal?: AbortSignal
  /** What the call concerns, for errors (`bridge br0`). */
  readonly object?: string
}

export interface RpcSessionOptions {
  /** Default timeout of every call, ms; default 15000. */
  readonly timeoutMs?: number
  /** Called for each notification the server sends (`update`, `update2`, `locked` ...). */
  readonly onNotification?: (method: string, params: readonly unknown[]) => void
  /** Called once when the connection is gone, with the error pending calls got. */
  readonly onClose?: (e: NsnetError) => void
}

interface PendingCall {
  readonly method: string
  readonly ctx: ErrorContext
  resolve(result: unknown): void
  reject(e: NsnetError): void
}

/** An error about the OVSDB connection or an OVSDB reply (code EOVSDB). */
export function ovsdbError(summary: string, ctx: ErrorContext & { hint?: string; cause?: unknown }): NsnetError {
  return new NsnetError(summary, { ...ctx, code: 'EOVSDB' })
}

/** The text an OVSDB error value carries: `"unknown method"` or `{error, details}`. */
export function describeOvsdbError(error: unknown): string {
  if (typeof error === 'string') return error
  if (error && typeof error === 'object') {
    const { error: e, details } = error as { error?: unknown; details?: unknown }
    if (typeof e === 'string') return typeof details === 'string' && details ? `${e}: ${details}` : e
  }
  return JSON.stringify(error)
}

export class RpcSession {
  private readonly pending = new Map<number, PendingCall>()
  private nextId = 1
  private closed: NsnetError | undefined
  private readonly reader: JsonStreamReader
  private readonly defaultTimeout: number

  private constructor(
    private readonly sock: Socket,
    readonly endpoint: string,
    private readonly opts: RpcSessionOptions,
  ) {
    this.defaultTimeout = opts.timeoutMs ?? 15_000
    this.reader = new JsonStreamReader((v) => this.dispatch(v))
    sock.on('data', (chunk: Buffer) => {
      try {
        this.reader.push(chunk)
      } catch (e) {
        this.fail(ovsdbError(`ovsdb-server sent bytes that are not JSON-RPC: ${(e as Error).message}`, { operation: 'read' }))
        sock.destroy()
      }
    })
    sock.on('error', (e: NodeJS.ErrnoException) => {
      this.fail(
        ovsdbError(`connection to ${endpoint} failed: ${e.code ?? e.message}`, {
          hint: 'ovsdb-server died or closed the socket',
          cause: e,
        }),
      )
    })
    sock.on('close', () => {
      this.fail(
        ovsdbError(`connection to ${endpoint} closed${this.reader.midValue ? ' in the middle of a message' : ''}`, {
          hint: 'ovsdb-server exited or dropped this client',
        }),
      )
    })
    this.updateRef()
  }

  /** Connects to `unix:PATH`, a bare socket path, or `tcp:HOST:PORT`. */
  static connect(endpoint: string, opts: RpcSessionOptions & { signal?: AbortSignal } = {}): Promise<RpcSession> {
    return new Promise((resolve, reject) => {
      const target = parseEndpoint(endpoint)
      const sock = 'path' in target ? netConnect(target.path) : netConnect(target.port, target.host)
      const timeoutMs = opts.timeoutMs ?? 15_000
      const done = (e?: NsnetError) => {
        clearTimeout(timer)
        opts.signal?.removeEventListener('abort', onAbort)
        sock.off('error', onError)
        if (e) {
          sock.destroy()
          reject(e)
        } else resolve(new RpcSession(sock, endpoint, opts))
      }
      const onError = (e: NodeJS.ErrnoException) =>
        done(
          new NsnetError(`cannot connect to ${endpoint}: ${e.code ?? e.message}`, {
            code: 'EOVSDB',
            operation: 'connect',
            object: endpoint,
            hint: e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? 'no ovsdb-server listens there; start one with Ovs.start() or check the path' : undefined,
          }),
        )
      const onAbort = () => done(new NsnetError('aborted by the caller', { code: 'EABORTED', operation: 'connect', object: endpoint }))
      const timer = setTimeout(
        () =>
          done(
            new NsnetError(`no connection within ${timeoutMs} ms`, {
              code: 'ETIMEDOUT',
              operation: 'connect',
              object: endpoint,
            }),
          ),
        timeoutMs,
      )
      if (opts.signal?.aborted) return onAbort()
      opts.signal?.addEventListener('abort', onAbort, { once: true })
      sock.once('error', onError)
      sock.once('connect', () => done())
    })
  }

  get isClosed(): boolean {
    return this.closed !== undefined
  }

  /** Sends a request and resolves with its `result`; an `error` reply rejects with EOVSDB. */
  call(method: string, params: readonly unknown[], opts: RpcCallOptions = {}): Promise<unknown> {
    const ctx: ErrorContext = { operation: method, object: opts.object }
    if (this.closed) return Promise.reject(this.closed.withContext(ctx))
    if (opts.signal?.aborted) return Promise.reject(new NsnetError('aborted by the caller', { ...ctx, code: 'EABORTED' }))
    const id = this.nextId++
    const timeoutMs = opts.timeoutMs ?? this.defaultTimeout
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined
      const finish = () => {
        this.pending.delete(id)
        if (timer) clearTimeout(timer)
        opts.signal?.removeEventListener('abort', onAbort)
        this.updateRef()
      }
      const onAbort = () => {
        finish()
        // Tell the server too, so a blocking `wait` or monitor does not linger.
        this.notify('cancel', [id])
        reject(new NsnetError('aborted by the caller', { ...ctx, code: 'EABORTED' }))
      }
      this.pending.set(id, {
        method,
        ctx,
        resolve: (r) => {
          finish()
          resolve(r)
        },
        reject: (e) => {
          finish()
          reject(e)
        },
      })
      if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
        timer = setTimeout(() => {
          finish()
          this.notify('cancel', [id])
          reject(new NsnetError(`no reply within ${timeoutMs} ms`, { ...ctx, code: 'ETIMEDOUT', hint: 'ovsdb-server is busy or stuck' }))
        }, timeoutMs)
      }
      opts.signal?.addEventListener('abort', onAbort, { once: true })
      this.updateRef()
      this.write({ method, params, id })
    })
  }

  /** Sends a notification (no reply expected), e.g. `cancel`. */
  notify(method: string, params: readonly unknown[]): void {
    if (!this.closed) this.write({ method, params, id: null })
  }

  /** Closes the connection; pending calls reject at once with EOVSDB. */
  close(): void {
    this.fail(ovsdbError(`connection to ${this.endpoint} closed by the client`, {}))
    this.sock.destroy()
  }

  private write(msg: unknown): void {
    this.sock.write(JSON.stringify(msg))
  }

  private dispatch(v: unknown): void {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return
    const msg = v as { id?: unknown; method?: unknown; params?: unknown; result?: unknown; error?: unknown }
    if (typeof msg.method === 'string') {
      const params = Array.isArray(msg.params) ? msg.params : []
      if (msg.id === null || msg.id === undefined) {
        this.opts.onNotification?.(msg.method, params)
      } else if (msg.method === 'echo') {
        // The server probes idle tcp/ssl clients with echo and drops those that do not answer.
        this.write({ id: msg.id, result: params, error: null })
      } else {
        this.write({ id: msg.id, result: null, error: 'unknown method' })
      }
      return
    }
    if (typeof msg.id !== 'number') return
    const p = this.pending.get(msg.id)
    if (!p) return // a reply to a call that already timed out or was aborted
    if (msg.error !== null && msg.error !== undefined) {
      p.reject(ovsdbError(describeOvsdbError(msg.error), { ...p.ctx }))
    } else {
      p.resolve(msg.result)
    }
  }

  private fail(e: NsnetError): void {
    if (this.closed) return
    this.closed = e
    for (const p of [...this.pending.values()]) p.reject(e.withContext(p.ctx))
    this.opts.onClose?.(e)
  }

  private updateRef(): void {
    // An idle connection must not keep the process alive.
    if (this.pending.size > 0) this.sock.ref()
    else this.sock.unref()
  }
}

function parseEndpoint(endpoint: string): { path: string } | { host: string; port: number } {
  if (endpoint.startsWith('unix:')) return { path: endpoint.slice(5) }
  const tcp = /^tcp:(.+):(\d+)$/.exec(endpoint)
  if (tcp) return { host: tcp[1]!.replace(/^\[|\]$/g, ''), port: Number(tcp[2]) }
  if (endpoint.startsWith('/') || endpoint.startsWith('.')) return { path: endpoint }
  throw new NsnetError(`OVSDB endpoint must be unix:PATH, a socket path or tcp:HOST:PORT, got ${JSON.stringify(endpoint)}`, {
    code: 'EINVAL_ARGUMENT',
    operation: 'connect',
  })
}
