// One netlink socket and the requests in flight on it: sequence matching, ACKs, dumps,
// batches closed by a barrier, timeouts, AbortSignal and close(). The parts it is made of:
// the in-flight window (window.ts), the pending-request table (pending.ts), the dump lock
// (dump-lock.ts), the batch planner (planner.ts) and the binding's adapter (binding.ts).
import { parseErrorMessage, parseMessages, type RawMessage, Writer } from '../codec.js'
import {
  align4,
  NETLINK_ROUTE,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_DUMP_INTR,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_HDRLEN,
  NLMSG_NOOP,
  NLMSG_OVERRUN,
} from '../constants.js'
import { BatchError, codeOf, type ErrorContext, kernelError, NsnetError } from '../errors.js'
import { messageTypeName, trace, traceEnabled } from '../trace.js'
import { type BindingError, closeRawSocket, openRawSocket, type RawSocket } from './binding.js'
import { DumpLock } from './dump-lock.js'
import { Outbox } from './outbox.js'
import { type Entry, type Pending, PendingTable, type SeqRange, SequenceCounter } from './pending.js'
import { answerCost, asNsnetError, type BatchChunk, encodeAll, encodeInto, GET_REPLY_COST, isAnswered, planEncoded } from './planner.js'
import type { BatchOptions, BatchResult, CallOptions, DumpOptions, EncodedRequests, ExchangeOptions, Request, SocketOptions } from './types.js'
import { InflightWindow, type Waiter } from './window.js'

// Dumps have a socket of their own that reads into 32 KiB buffers: the kernel sizes its dump
// skbs after the reader's buffer, so one recvmsg brings hundreds of routes. Requests use a
// socket that reads each datagram at its exact size (MSG_PEEK first): the binding allocates
// its whole buffer per datagram and tells V8 only the bytes used, so 32 KiB per 36-byte ACK
// piled up to ~500 MiB of RSS over 10,000 pipelined adds.
const DUMP_RECV_BUFFER = 32 * 1024
const MIN_RECV_BUFFER = 32 * 1024

/** Set when a dump attempt was abandoned mid-way: the dump lock waits for it. */
interface DumpAttempt {
  drained?: Promise<void>
}

/** What withSlot()'s caller builds once the request has window room. */
interface Built {
  payload: Buffer
  pending: Pending
  range?: SeqRange
  via?: RawSocket
  /** A second datagram sent right after the first (exchange()'s barrier). */
  barrier?: Buffer
  /** One message that may share a datagram with others (see Outbox). */
  packable?: boolean
  /** Told once the request left for the kernel: later identical requests no longer share it. */
  onSent?: () => void
}

// The largest datagram the outbox builds: the kernel allocates a whole skb of this size per
// sendmsg, and beyond 64 KiB the allocation may need high-order pages.
const PACKED_DATAGRAM_BYTES = 64 * 1024

export class NetlinkSocket {
  readonly namespace: string | undefined
  private readonly sock: RawSocket
  /** Opened on the first dump; dumps are flow-controlled by the kernel, so need no window. */
  private dumpSock: RawSocket | undefined
  private readonly protocol: number
  private readonly label: string
  private readonly defaultTimeout: number
  private readonly window: InflightWindow
  private readonly pending = new PendingTable()
  private readonly dumps = new DumpLock()
  private readonly seqs = new SequenceCounter()
  private readonly outbox: Outbox
  /** Shareable requests not yet sent, by their bytes (see Request.shareable). */
  private readonly unsentShared = new Map<string, Promise<RawMessage[]>>()
  private closed: NsnetError | undefined
  private referenced = true
  private readonly onNotification: ((m: RawMessage) => void) | undefined

  private constructor(opts: SocketOptions) {
    this.namespace = opts.namespace
    this.label = opts.namespace ?? 'local'
    this.defaultTimeout = opts.timeoutMs ?? 15_000
    this.onNotification = opts.onNotification
    this.protocol = opts.protocol ?? NETLINK_ROUTE
    this.sock = openRawSocket(this.protocol, { peek: true })
    try {
      // A buffer smaller than one GET reply can only overflow (and an overflow aborts the process).
      this.sock.setRecvBufferSize(Math.max(opts.receiveBufferBytes ?? 1 << 20, MIN_RECV_BUFFER))
    } catch {
      // Keep the default buffer; the window below adapts to whatever we got.
    }
    if (opts.sendBufferBytes !== undefined) {
      try {
        this.sock.setSendBufferSize(opts.sendBufferBytes)
      } catch {
        // Keep the default; maxDatagramBytes tells callers what they got.
      }
    }
    // Keep a third of the buffer free for notifications.
    this.window = new InflightWindow(Math.floor(this.sock.getRecvBufferSize() * 0.66))
    this.outbox = new Outbox(
      (parts, done) => {
        if (traceEnabled) for (const p of parts) trace('send', p, this.label)
        this.sock.send(parts, {}, done)
      },
      Math.min(PACKED_DATAGRAM_BYTES, this.maxDatagramBytes),
    )
    try {
      for (const g of opts.groups ?? []) this.sock.addMembership(g)
    } catch (e) {
      closeRawSocket(this.sock)
      throw e
    }
    this.listen(this.sock)
    if (!opts.groups?.length) this.updateRef()
  }

  private listen(sock: RawSocket): void {
    sock.on('message', (buf, info) => this.receive(buf, info.groups))
    sock.on('truncatedMessage', (_buf, info) => {
      this.failAll(
        new NsnetError(`a reply of ${info.truncated} bytes did not fit the ${DUMP_RECV_BUFFER}-byte receive buffer`, {
          code: 'EDECODE',
          namespace: this.namespace,
        }),
      )
    })
    // Always listening for errors: an unhandled 'error' event would throw inside the binding.
    sock.on('error', (err) => {
      this.failAll(
        new NsnetError(`socket error: ${err.code ?? err.message}`, {
          code: codeOf(err),
          errno: err.errno,
          namespace: this.namespace,
        }),
      )
    })
  }

  private dumpSocket(): RawSocket {
    if (this.dumpSock) return this.dumpSock
    const sock = openRawSocket(this.protocol, { peek: false, bufferBytes: DUMP_RECV_BUFFER })
    this.listen(sock)
    if (!this.referenced) sock.unref()
    this.dumpSock = sock
    return sock
  }

  /** Opens a netlink socket in the calling process's current network namespace. */
  static open(opts: SocketOptions = {}): NetlinkSocket {
    try {
      return new NetlinkSocket(opts)
    } catch (e) {
      const err = e as { code?: string; errno?: number; message: string }
      throw new NsnetError(`cannot open netlink socket: ${err.message}`, {
        code: codeOf(err),
        errno: err.errno,
        namespace: opts.namespace,
        operation: 'socket',
      })
    }
  }

  /** The kernel's receive buffer size actually granted, in bytes. */
  get receiveBufferBytes(): number {
    return this.sock.getRecvBufferSize()
  }

  /** The port (nl_pid) this socket is bound to. */
  get port(): number {
    return this.sock.address().port
  }

  get isClosed(): boolean {
    return this.closed !== undefined
  }

  /** What answers in flight may occupy in the receive buffer (see answerCost). */
  get windowBytes(): number {
    return this.window.budget
  }

  /** The largest datagram the kernel takes from this socket (netlink_sendmsg refuses more than SO_SNDBUF - 32). */
  get maxDatagramBytes(): number {
    return this.sock.getSendBufferSize() - 32
  }

  /**
   * Sends whole messages in one datagram (a netfilter batch must not be split) and then an
   * acknowledged NLMSG_NOOP in a datagram of its own, and resolves with every answer to the
   * messages, in arrival order, once the NOOP's ACK came. Message k gets sequence number
   * `first + k` (patched in here; `first` is passed to `onSequence`). The kernel handles a
   * socket's datagrams in order inside sendmsg, so the NOOP's ACK follows every answer to the
   * first datagram, whatever the protocol answered (or left unanswered).
   */
  exchange(payload: Buffer, opts: ExchangeOptions = {}): Promise<RawMessage[]> {
    const ctx: ErrorContext = { namespace: this.namespace, operation: opts.operation ?? 'exchange', object: opts.object }
    const early = this.unusable(opts.signal, ctx)
    if (early) return Promise.reject(early)
    const starts: number[] = []
    for (let off = 0; off + NLMSG_HDRLEN <= payload.length; ) {
      const len = payload.readUInt32LE(off)
      if (len < NLMSG_HDRLEN || off + len > payload.length) {
        return Promise.reject(new NsnetError(`message ${starts.length} has a bad length ${len}`, { ...ctx, code: 'EINVAL_ARGUMENT' }))
      }
      starts.push(off)
      off += align4(len)
    }
    const cost = answerCost(starts.length + 1, payload.length) + (opts.extraAnswerBytes ?? 0)
    const first = this.seqs.reserve(starts.length + 1)
    const barrierSeq = first + starts.length
    starts.forEach((off, k) => payload.writeUInt32LE(first + k, off + 8))
    opts.onSequence?.(first)
    const w = new Writer(NLMSG_HDRLEN)
    w.endMessage(w.beginMessage(NLMSG_NOOP, NLM_F_REQUEST | NLM_F_ACK, barrierSeq))
    const barrier = w.toBuffer()
    return this.withSlot(
      cost,
      ctx,
      opts,
      (_seq, settle: (e?: NsnetError, v?: RawMessage[]) => void) => {
        const answers: RawMessage[] = []
        return {
          payload,
          barrier,
          range: { first, last: barrierSeq },
          pending: {
            seq: barrierSeq,
            ctx,
            cost,
            onMessage: (m) => {
              if (m.seq !== barrierSeq) {
                answers.push(m)
                return
              }
              if (m.type !== NLMSG_ERROR) return
              const { errno } = parseErrorMessage(m)
              settle(errno === 0 ? undefined : kernelError(errno, ctx), answers)
            },
            fail: (e) => settle(e),
            isFinal: (m) => m.type === NLMSG_ERROR && m.seq === barrierSeq,
          },
        }
      },
      barrierSeq,
    )
  }

  /**
   * Sends one request with NLM_F_ACK and resolves with every reply that came before the ACK
   * (none for NEW/DEL, the object for a GET).
   */
  request(req: Request, opts: CallOptions = {}): Promise<RawMessage[]> {
    const ctx = this.context(req)
    // Encoded now (the seq is patched in at send time): its size sets the window share,
    // since an error reply echoes the whole request.
    let payload: Buffer
    try {
      const w = new Writer(256)
      encodeInto(w, req, NLM_F_REQUEST | NLM_F_ACK | (req.flags ?? 0), 0)
      payload = w.toBuffer()
    } catch (e) {
      return Promise.reject(asNsnetError(e, ctx))
    }
    const estimate = answerCost(1, payload.length) + (isAnswered(req) ? GET_REPLY_COST : 0)
    const shareKey = req.shareable && opts.signal === undefined && opts.timeoutMs === undefined ? payload.toString('latin1') : undefined
    if (shareKey !== undefined) {
      const queued = this.unsentShared.get(shareKey)
      if (queued) return queued
    }
    // `answer` is read only after withSlot() returned: a request sent at once runs onSent inside it.
    let answer: Promise<RawMessage[]> | undefined
    let sentAtOnce = false
    const unshare = () => {
      if (!answer) sentAtOnce = true
      else if (this.unsentShared.get(shareKey!) === answer) this.unsentShared.delete(shareKey!)
    }
    answer = this.withSlot<RawMessage[]>(estimate, ctx, opts, (seq, settle) => {
      const replies: RawMessage[] = []
      payload.writeUInt32LE(seq >>> 0, 8)
      return {
        payload,
        packable: true,
        onSent: shareKey === undefined ? undefined : unshare,
        pending: {
          seq,
          ctx,
          cost: estimate,
          onMessage: (m) => {
            if (m.type === NLMSG_ERROR) {
              const { errno } = parseErrorMessage(m)
              if (errno === 0) settle(undefined, replies)
              else settle(kernelError(errno, ctx))
            } else {
              replies.push(m)
            }
          },
          fail: (e) => settle(e),
          isFinal: (m) => m.type === NLMSG_ERROR,
        },
      }
    })
    // Sent already (onSent ran inside withSlot) when the window was empty: nothing to share then.
    if (shareKey !== undefined && !sentAtOnce) {
      this.unsentShared.set(shareKey, answer)
      answer.then(unshare, unshare)
    }
    return answer
  }

  /**
   * Dumps (NLM_F_DUMP) and decodes each message with `decode`, skipping `undefined`.
   * Dumps on one socket run one at a time, so callers never see EBUSY; a dump marked
   * NLM_F_DUMP_INTR is restarted up to `retries` times.
   */
  async dump<T>(req: Request, decode: (m: RawMessage) => T | undefined, opts: DumpOptions = {}): Promise<T[]> {
    const retries = opts.retries ?? 3
    await this.dumps.acquire(opts.signal, this.namespace)
    const attempt: DumpAttempt = {}
    try {
      for (let n = 0; ; n++) {
        const { items, interrupted } = await this.dumpOnce(req, decode, opts, attempt)
        if (!interrupted) return items
        if (n >= retries) {
          throw new NsnetError(`dump was interrupted by concurrent changes ${retries + 1} times`, {
            ...this.context(req),
            code: 'EDUMPINTR',
            hint: 'the table kept changing while it was read; retry later or pass a larger `retries`',
          })
        }
      }
    } finally {
      // The kernel runs one dump per socket and refuses another (EBUSY) until it finished
      // the previous one, even one we gave up on: wait for its DONE before the next dump.
      if (attempt.drained) void attempt.drained.then(() => this.dumps.release())
      else this.dumps.release()
    }
  }

  /**
   * dump() as an async iterator: each object is handed over as its datagram is decoded and
   * none are kept, so memory stays that of one datagram (32 KiB) while the loop keeps up (the
   * binding reads at most 32 datagrams per turn of the event loop). A dump marked
   * NLM_F_DUMP_INTR cannot be restarted (objects were handed out already): it ends with
   * EDUMPINTR. Leaving the loop early is fine; the rest of the dump is read and dropped.
   * No timeout unless `timeoutMs` is given (a slow loop is not a silent kernel).
   */
  async *stream<T>(req: Request, decode: (m: RawMessage) => T | undefined, opts: CallOptions = {}): AsyncGenerator<T, void, undefined> {
    await this.dumps.acquire(opts.signal, this.namespace)
    const attempt: DumpAttempt = {}
    let queue: T[] = []
    let wake: (() => void) | undefined
    let end: { error?: NsnetError } | undefined
    let stop: ((e: NsnetError) => void) | undefined
    const finish = (error?: NsnetError) => {
      end ??= { error }
      wake?.()
    }
    this.dumpOnce(
      req,
      decode,
      { timeoutMs: opts.timeoutMs ?? Infinity, signal: opts.signal },
      attempt,
      (v) => {
        queue.push(v)
        if (queue.length === 1) wake?.()
      },
      (settle) => {
        stop = settle
      },
    ).then(
      ({ interrupted }) =>
        finish(
          interrupted
            ? new NsnetError('dump was interrupted by concurrent changes', {
                ...this.context(req),
                code: 'EDUMPINTR',
                hint: 'the table changed while it was read; what was streamed may be inconsistent: read it again',
              })
            : undefined,
        ),
      (e: NsnetError) => finish(e),
    )
    try {
      for (;;) {
        if (queue.length) {
          const got = queue
          queue = []
          for (const v of got) yield v
          continue
        }
        if (end) {
          if (end.error) throw end.error
          return
        }
        await new Promise<void>((resolve) => {
          wake = resolve
        })
        wake = undefined
      }
    } finally {
      // Left early: stop, and let the rest of the dump drain before the next one may start.
      if (!end) stop?.(new NsnetError('the stream was closed by its reader', { ...this.context(req), code: 'EABORTED' }))
      if (attempt.drained) void attempt.drained.then(() => this.dumps.release())
      else this.dumps.release()
    }
  }

  private dumpOnce<T>(
    req: Request,
    decode: (m: RawMessage) => T | undefined,
    opts: CallOptions,
    attempt: DumpAttempt,
    onItem?: (v: T) => void,
    onStart?: (stop: (e: NsnetError) => void) => void,
  ) {
    const ctx = this.context(req)
    return this.withSlot(0, ctx, opts, (seq, settle: (e?: NsnetError, v?: { items: T[]; interrupted: boolean }) => void) => {
      onStart?.(settle)
      const items: T[] = []
      let interrupted = false
      let failure: NsnetError | undefined
      const w = new Writer(128)
      encodeInto(w, req, NLM_F_REQUEST | NLM_F_DUMP | (req.flags ?? 0), seq)
      return {
        payload: w.toBuffer(),
        via: this.dumpSocket(),
        pending: {
          seq,
          ctx,
          cost: 0,
          onMessage: (m) => {
            if (m.flags & NLM_F_DUMP_INTR) interrupted = true
            if (m.type === NLMSG_DONE) {
              // DONE may carry an errno (e.g. a dump that failed half-way).
              if (m.end - m.start >= 4) {
                const err = m.buf.readInt32LE(m.start)
                if (err < 0 && !failure) failure = kernelError(-err, ctx)
              }
              if (failure) settle(failure)
              else settle(undefined, { items, interrupted })
              return
            }
            if (m.type === NLMSG_ERROR) {
              const { errno } = parseErrorMessage(m)
              settle(errno === 0 ? failure : kernelError(errno, ctx), errno === 0 ? { items, interrupted } : undefined)
              return
            }
            if (failure) return // drain to DONE so the socket stays in step
            try {
              const v = decode(m)
              if (v !== undefined) {
                if (onItem) onItem(v)
                else items.push(v)
              }
            } catch (e) {
              failure = asNsnetError(e, ctx)
            }
          },
          fail: (e) => settle(e),
          isFinal: (m) => m.type === NLMSG_DONE || m.type === NLMSG_ERROR,
          abandon: (drained) => {
            attempt.drained = drained
          },
        },
      }
    })
  }

  /**
   * Sends many requests packed into few datagrams without per-message ACK; each datagram
   * ends with an acknowledged NLMSG_NOOP barrier. Kernel errors still come back (the kernel
   * always answers a failure), matched to their request by sequence number; if any request
   * failed the promise rejects with a BatchError listing every failure with its index.
   */
  async batch(items: Iterable<Request>, opts: BatchOptions = {}): Promise<BatchResult> {
    this.throwIfUnusable(opts.signal, { namespace: this.namespace, operation: 'batch' })
    return this.batchEncoded(
      encodeAll(items, (r) => this.context(r)),
      opts,
    )
  }

  /** batch() for requests encoded by the caller (see EncodedRequests); same guarantees. */
  async batchEncoded(reqs: EncodedRequests, opts: BatchOptions = {}): Promise<BatchResult> {
    this.throwIfUnusable(opts.signal, { namespace: this.namespace, operation: 'batch' })
    const chunks = planEncoded(reqs, opts, { budget: this.window.budget, namespace: this.namespace, reserve: (n) => this.seqs.reserve(n) })
    const failures: NsnetError[] = []
    await Promise.all(chunks.map((c) => this.sendChunk(c, failures, opts)))
    const sent = chunks.reduce((n, c) => n + c.count, 0)
    if (failures.length) {
      failures.sort((a, b) => (a.index ?? 0) - (b.index ?? 0))
      throw new BatchError(failures, sent, { namespace: this.namespace, operation: 'batch' })
    }
    return { sent }
  }

  private sendChunk(chunk: BatchChunk, failures: NsnetError[], opts: CallOptions): Promise<void> {
    const { payload, firstSeq, barrierSeq, count, baseIndex, cost } = chunk
    const ctx: ErrorContext = { namespace: this.namespace, operation: 'batch' }
    return this.withSlot(
      cost,
      ctx,
      opts,
      (_seq, settle) => {
        const pending: Pending = {
          seq: barrierSeq,
          ctx,
          cost,
          onMessage: (m) => {
            if (m.type !== NLMSG_ERROR) return
            const { errno } = parseErrorMessage(m)
            if (m.seq === barrierSeq) {
              settle(errno === 0 ? undefined : kernelError(errno, { ...ctx, object: 'batch barrier' }))
              return
            }
            const i = m.seq - firstSeq
            if (errno !== 0 && i >= 0 && i < count) {
              failures.push(kernelError(errno, { ...chunk.contextOf(i), index: baseIndex + i }))
            }
          },
          fail: (e) => settle(e),
          isFinal: (m) => m.type === NLMSG_ERROR && m.seq === barrierSeq,
        }
        return { payload, pending, range: { first: firstSeq, last: barrierSeq } }
      },
      barrierSeq,
    )
  }

  /**
   * Takes a window slot worth `cost`, sends the payload built by `build`, and resolves when
   * `settle` is called (by a reply, a timeout, an abort or close).
   */
  private withSlot<T>(
    cost: number,
    ctx: ErrorContext,
    opts: CallOptions,
    build: (seq: number, settle: (e?: NsnetError, v?: T) => void) => Built,
    fixedSeq?: number,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const early = this.unusable(opts.signal, ctx)
      if (early) return reject(early)
      const timeoutMs = opts.timeoutMs ?? this.defaultTimeout
      let timer: NodeJS.Timeout | undefined
      let done = false
      let entry: Entry | undefined
      const onAbort = () => settle(new NsnetError('aborted by the caller', { ...ctx, code: 'EABORTED' }))
      const settle = (e?: NsnetError, v?: T) => {
        if (done) return
        done = true
        if (timer) clearTimeout(timer)
        opts.signal?.removeEventListener('abort', onAbort)
        if (entry) {
          this.pending.remove(entry)
          if (e && !entry.p.finished && !this.closed) {
            // The kernel still owes answers that will land in the receive buffer: keep the
            // window share until they came, or the buffer could overflow (and abort us).
            const drained = this.drain(entry.p, cost, entry.range) // not inside ?.(): it must always run
            entry.p.abandon?.(drained)
          } else {
            this.window.release(cost)
          }
          if (!this.closed) this.window.pump()
        } else if (!waiter.started) {
          this.window.cancel(waiter)
        }
        this.updateRef()
        if (e) reject(e)
        else resolve(v as T)
      }
      const waiter: Waiter = {
        cost,
        start: () => {
          // Aborting many requests at once frees room that pump() would otherwise hand
          // (and send) to waiters whose own abort listener has not run yet.
          if (opts.signal?.aborted) return onAbort()
          if (this.closed) return settle(this.closed.withContext(ctx))
          const seq = fixedSeq ?? this.seqs.reserve(1)
          let built: Built
          try {
            built = build(seq, settle)
          } catch (err) {
            return settle(asNsnetError(err, ctx))
          }
          entry = this.pending.add(built.pending, built.range)
          this.window.take(cost)
          this.updateRef()
          // The deadline is for the kernel's answer: time spent waiting for window room
          // does not count (a large batch would otherwise time out before its last chunk left).
          if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
            timer = setTimeout(() => settle(new NsnetError(`no answer within ${timeoutMs} ms`, { ...ctx, code: 'ETIMEDOUT' })), timeoutMs)
            timer.unref?.()
          }
          const failed = (err: BindingError) =>
            settle(
              err.code
                ? new NsnetError(`send failed: ${err.code}`, { ...ctx, code: codeOf(err), errno: err.errno })
                : // The binding closes its socket by itself after a poll error, then throws on send.
                  new NsnetError(`send failed: ${err.message}`, { ...ctx, code: 'EIO', cause: err }),
            )
          if (built.packable) {
            this.outbox.add({ payload: built.payload, failed, flushed: built.onSent })
            // Alone on the wire: nothing to wait for, so nothing to gain by waiting.
            if (this.window.inflight === cost) this.outbox.flush()
            return
          }
          // What is packed goes first: requests leave in the order they started.
          this.outbox.flush()
          built.onSent?.()
          try {
            for (const datagram of built.barrier ? [built.payload, built.barrier] : [built.payload]) {
              if (traceEnabled) trace('send', datagram, this.label)
              ;(built.via ?? this.sock).send(datagram, {}, (err) => {
                if (err) failed(err)
              })
            }
          } catch (err) {
            failed(err as BindingError)
          }
        },
        fail: (e) => settle(e.withContext(ctx)),
      }
      opts.signal?.addEventListener('abort', onAbort, { once: true })
      this.window.enqueue(waiter)
      if (!this.closed) this.window.pump()
    })
  }

  private receive(buf: Buffer, groups: number): void {
    if (traceEnabled) trace('recv', buf, this.label)
    let msgs: RawMessage[]
    try {
      msgs = parseMessages(buf)
    } catch (e) {
      this.failAll(asNsnetError(e, { namespace: this.namespace }))
      return
    }
    // A socket in no group gets group-tagged messages only as echoes (NLM_F_ECHO) of its own
    // requests, which the kernel sends as notifications unicast back: those are replies.
    if (groups !== 0 && this.onNotification) {
      for (const m of msgs) this.onNotification(m)
      return
    }
    for (const m of msgs) {
      if (m.type === NLMSG_OVERRUN) {
        this.failAll(new NsnetError('kernel reported NLMSG_OVERRUN', { code: 'ENOBUFS', namespace: this.namespace }))
        return
      }
      const p = this.pending.lookup(m.seq)
      if (!p) continue // answer to a request that already ended
      if (p.isFinal(m)) p.finished = true
      try {
        p.onMessage(m)
      } catch (e) {
        p.fail(asNsnetError(e, p.ctx))
      }
    }
  }

  /**
   * Stands in for an exchange the caller gave up on after it was sent: swallows its remaining
   * messages and keeps its window share until the final one, then resolves. Also ends on
   * close, or after the default timeout for a protocol that never answers.
   */
  private drain(gone: Pending, cost: number, range: SeqRange | undefined): Promise<void> {
    return new Promise((resolve) => {
      let over = false
      const end = () => {
        if (over) return
        over = true
        clearTimeout(timer)
        this.pending.remove(standIn, true)
        this.window.release(cost)
        this.updateRef()
        if (!this.closed) this.window.pump()
        resolve()
      }
      const stand: Pending = {
        seq: gone.seq,
        ctx: gone.ctx,
        cost,
        onMessage: (m) => {
          if (gone.isFinal(m)) end()
        },
        fail: end,
        isFinal: gone.isFinal,
      }
      const timer = setTimeout(end, this.defaultTimeout)
      timer.unref?.()
      const standIn = this.pending.add(stand, range, true)
    })
  }

  private context(req: Request): ErrorContext {
    return { operation: req.operation ?? messageTypeName(req.type), object: req.object, namespace: this.namespace }
  }

  private unusable(signal: AbortSignal | undefined, ctx: ErrorContext): NsnetError | undefined {
    if (this.closed) return this.closed.withContext(ctx)
    if (signal?.aborted) return new NsnetError('aborted by the caller', { ...ctx, code: 'EABORTED' })
    return undefined
  }

  private throwIfUnusable(signal: AbortSignal | undefined, ctx: ErrorContext): void {
    const e = this.unusable(signal, ctx)
    if (e) throw e
  }

  private failAll(e: NsnetError): void {
    // Waiting ones first: failing a pending one frees window room, and pump() would
    // otherwise start (send!) the waiting ones instead of failing them.
    for (const w of this.window.takeQueue()) if (!w.cancelled) w.fail(e)
    for (const p of this.pending.all()) p.fail(e.withContext(p.ctx))
  }

  private updateRef(): void {
    // Idle sockets must not keep the process alive; multicast listeners decide for themselves.
    // Stand-ins for abandoned exchanges do not count, unless a dump waits for one to drain.
    const busy = this.pending.waitedFor || this.window.waiting > 0 || this.dumps.waiting > 0
    try {
      if (busy && !this.referenced) {
        this.sock.ref()
        this.dumpSock?.ref()
        this.referenced = true
      } else if (!busy && this.referenced && !this.onNotification) {
        this.sock.unref()
        this.dumpSock?.unref()
        this.referenced = false
      }
    } catch {
      // The native socket is gone (closed by the binding after a poll error): nothing to hold.
    }
  }

  /** Keeps the process alive while a listener wants notifications (or not). */
  setKeepAlive(on: boolean): void {
    if (on) {
      this.sock.ref()
      this.referenced = true
    } else this.updateRef()
  }

  /** Closes the socket; everything pending or queued rejects at once with ECLOSED. */
  close(): void {
    if (this.closed) return
    this.closed = new NsnetError('socket closed', { code: 'ECLOSED', namespace: this.namespace })
    this.failAll(this.closed)
    this.outbox.discard(this.closed)
    this.dumps.releaseAll()
    closeRawSocket(this.sock)
    if (this.dumpSock) closeRawSocket(this.dumpSock)
  }

  [Symbol.dispose](): void {
    this.close()
  }
}
