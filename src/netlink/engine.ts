// One netlink socket and the requests in flight on it: sequence matching, ACKs,
// dumps (one at a time, retried on NLM_F_DUMP_INTR), batches closed by a barrier,
// timeouts, AbortSignal, and a window that keeps the receive buffer from overflowing
// (an overflow aborts the whole process inside the binding, so it must never happen).
import { RawNetlinkSocket } from 'netlink'
import { Writer, parseMessages, parseErrorMessage, type RawMessage } from './codec.js'
import {
  NETLINK_ROUTE, NLMSG_HDRLEN, align4, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN,
  NLM_F_ACK, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_ECHO, NLM_F_MULTI, NLM_F_REQUEST,
} from './constants.js'
import { BatchError, NsnetError, kernelError, type ErrorContext } from './errors.js'
import { messageTypeName, trace, traceEnabled } from './trace.js'

/** One request: its message type, flags (REQUEST/ACK/DUMP are added for you) and body. */
export interface Request {
  readonly type: number
  readonly flags?: number
  /** Writes the payload after the netlink header. */
  readonly body?: (w: Writer) => void
  /** What this request is about, for errors: `route 10.0.2.0/24 dev veth1`. */
  readonly object?: string
  /** The operation name for errors; defaults to the message type's name (RTM_NEWROUTE). */
  readonly operation?: string
  /** The kernel answers with an object before the ACK (a GET); reserves room for it in the window. */
  readonly expectsReply?: boolean
}

export interface CallOptions {
  /**
   * Milliseconds to wait for the kernel's answer once the request is sent, then ETIMEDOUT;
   * default the socket's. For an overall deadline (queueing included) pass a `signal`.
   */
  readonly timeoutMs?: number
  readonly signal?: AbortSignal
}

export interface DumpOptions extends CallOptions {
  /** How often a dump interrupted by a concurrent change (NLM_F_DUMP_INTR) is restarted; default 3. */
  readonly retries?: number
}

export interface BatchOptions extends CallOptions {
  /** Largest datagram to send; default 64 KiB. */
  readonly datagramBytes?: number
}

export interface ExchangeOptions extends CallOptions, ErrorContext {
  /** Told the sequence number of the first message once it is numbered. */
  readonly onSequence?: (first: number) => void
  /** Receive-buffer room for answers beyond one per message (echoes), added to answerCost(). */
  readonly extraAnswerBytes?: number
}

export interface BatchResult {
  /** How many requests were sent. */
  readonly sent: number
}

export interface SocketOptions {
  /** Netlink protocol; default NETLINK_ROUTE. */
  readonly protocol?: number
  /** Namespace name, used only to label errors. */
  readonly namespace?: string
  /** Default timeout of every call, ms; default 15000. */
  readonly timeoutMs?: number
  /** Requested SO_RCVBUF; the kernel caps it at net.core.rmem_max. Default 1 MiB. */
  readonly receiveBufferBytes?: number
  /** Requested SO_SNDBUF (the largest datagram is this less 32 bytes); capped at net.core.wmem_max. Default the kernel's. */
  readonly sendBufferBytes?: number
  /** Multicast groups to join (RTNLGRP_* numbers). */
  readonly groups?: readonly number[]
  /** Called for every multicast notification. */
  readonly onNotification?: (m: RawMessage) => void
}

// What one reply can occupy in the receive buffer, counted the way the kernel
// charges skbs (truesize): measured ~770 bytes for the smallest error reply.
const REPLY_OVERHEAD = 1024
const GET_REPLY_COST = 16 * 1024
// Dumps have a socket of their own that reads into 32 KiB buffers: the kernel sizes its dump
// skbs after the reader's buffer, so one recvmsg brings hundreds of routes. Requests use a
// socket that reads each datagram at its exact size (MSG_PEEK first): the binding allocates
// its whole buffer per datagram and tells V8 only the bytes used, so 32 KiB per 36-byte ACK
// piled up to ~500 MiB of RSS over 10,000 pipelined adds.
const DUMP_RECV_BUFFER = 32 * 1024
const MIN_RECV_BUFFER = 32 * 1024

/** One datagram of a batch: its requests, their sequence numbers and the barrier's. */
interface BatchChunk {
  readonly payload: Buffer
  readonly firstSeq: number
  readonly barrierSeq: number
  /** How many requests precede the barrier. */
  readonly count: number
  /** Index in the whole batch of the chunk's first request. */
  readonly baseIndex: number
  readonly cost: number
  /** Error context of the chunk's i-th request. */
  contextOf(i: number): ErrorContext
}

/**
 * Requests already encoded back to back as whole netlink messages (NLM_F_REQUEST set, seq
 * left for the engine): message i is buf[starts[i], starts[i + 1]). For bulk work, where
 * one Request object per item would cost more than the item.
 */
export interface EncodedRequests {
  readonly buf: Buffer
  readonly starts: Int32Array
  readonly count: number
  /** What item i is about, for errors; asked only for failures. */
  describe(i: number): { operation: string; object?: string }
  /** Whether the kernel answers item i with an object (a GET or ECHO), which needs more room. */
  answered?(i: number): boolean
}

/** Set when a dump attempt was abandoned mid-way: the dump lock waits for it. */
interface DumpLock {
  drained?: Promise<void>
}

interface Waiter {
  cost: number
  start: () => void
  fail: (e: NsnetError) => void
  /** Taken off the queue by pump(). */
  started?: boolean
  /** Settled while queued; pump() drops it (searching the queue would be O(n) per call). */
  cancelled?: boolean
}

/** State of one sent request awaiting its answer. */
interface Pending {
  readonly seq: number
  readonly ctx: ErrorContext
  readonly cost: number
  onMessage(m: RawMessage): void
  fail(e: NsnetError): void
  /** The kernel's last message for this exchange (its ACK or error, a dump's DONE, a batch's barrier). */
  isFinal(m: RawMessage): boolean
  /** Set by receive() once the final message arrived. */
  finished?: boolean
  /** Told when the caller gave up before the final message: `drained` settles once it came. */
  abandon?(drained: Promise<void>): void
}

export class NetlinkSocket {
  readonly namespace: string | undefined
  private readonly sock: RawNetlinkSocket
  /** Opened on the first dump; dumps are flow-controlled by the kernel, so need no window. */
  private dumpSock: RawNetlinkSocket | undefined
  private readonly protocol: number
  private readonly label: string
  private readonly defaultTimeout: number
  private readonly budget: number
  private readonly pending = new Map<number, Pending>()
  /** Batch chunks, each covering a range of sequence numbers. */
  private readonly ranges: Array<{ first: number; last: number; p: Pending }> = []
  /** Requests waiting for window room, from index waitHead on (shift() is O(n) on big arrays). */
  private readonly waiting: Waiter[] = []
  private waitHead = 0
  /** Waiters queued that are not cancelled. */
  private liveWaiting = 0
  /** Entries of `pending` that stand in for abandoned exchanges (see drain()). */
  private standIns = 0
  private readonly dumpQueue: Array<() => void> = []
  private dumpActive = false
  private inflight = 0
  private seq: number
  private closed: NsnetError | undefined
  private referenced = true
  private readonly onNotification: ((m: RawMessage) => void) | undefined

  private constructor(opts: SocketOptions) {
    this.namespace = opts.namespace
    this.label = opts.namespace ?? 'local'
    this.defaultTimeout = opts.timeoutMs ?? 15_000
    this.onNotification = opts.onNotification
    this.protocol = opts.protocol ?? NETLINK_ROUTE
    this.sock = new RawNetlinkSocket(this.protocol, {
      messagePeeking: true,
    } as ConstructorParameters<typeof RawNetlinkSocket>[1])
    closeAtExit(this.sock)
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
    const rcvbuf = this.sock.getRecvBufferSize()
    // Keep a third of the buffer free for notifications.
    this.budget = Math.floor(rcvbuf * 0.66)
    this.seq = (Math.random() * 0x3fffffff) >>> 0
    try {
      for (const g of opts.groups ?? []) this.sock.addMembership(g)
    } catch (e) {
      openSockets.delete(this.sock)
      this.sock.close()
      throw e
    }
    this.listen(this.sock)
    if (!opts.groups?.length) this.updateRef()
  }

  private listen(sock: RawNetlinkSocket): void {
    sock.on('message', (buf, info) => this.receive(buf, info.groups))
    sock.on('truncatedMessage', (_buf, info) => {
      this.failAll(new NsnetError(`a reply of ${info.truncated} bytes did not fit the ${DUMP_RECV_BUFFER}-byte receive buffer`, {
        code: 'EDECODE', namespace: this.namespace,
      }))
    })
    // Always listening for errors: an unhandled 'error' event would throw inside the binding.
    sock.on('error', (err) => {
      this.failAll(new NsnetError(`socket error: ${err.code ?? err.message}`, {
        code: err.code ?? 'EIO', errno: err.errno, namespace: this.namespace,
      }))
    })
  }

  private dumpSocket(): RawNetlinkSocket {
    if (this.dumpSock) return this.dumpSock
    const sock = new RawNetlinkSocket(this.protocol, {
      messagePeeking: false,
      msgBufferSize: DUMP_RECV_BUFFER,
    } as ConstructorParameters<typeof RawNetlinkSocket>[1])
    closeAtExit(sock)
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
        code: err.code ?? 'EIO', errno: err.errno, namespace: opts.namespace, operation: 'socket',
      })
    }
  }

  /** The kernel's receive buffer size actually granted, in bytes. */
  get receiveBufferBytes(): number { return this.sock.getRecvBufferSize() }

  /** The port (nl_pid) this socket is bound to. */
  get port(): number { return this.sock.address().port }

  get isClosed(): boolean { return this.closed !== undefined }

  /** What answers in flight may occupy in the receive buffer (see answerCost). */
  get windowBytes(): number { return this.budget }

  /** The largest datagram the kernel takes from this socket (netlink_sendmsg refuses more than SO_SNDBUF - 32). */
  get maxDatagramBytes(): number { return this.sock.getSendBufferSize() - 32 }

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
    for (let off = 0; off + NLMSG_HDRLEN <= payload.length;) {
      const len = payload.readUInt32LE(off)
      if (len < NLMSG_HDRLEN || off + len > payload.length) {
        return Promise.reject(new NsnetError(`message ${starts.length} has a bad length ${len}`, { ...ctx, code: 'EINVAL_ARGUMENT' }))
      }
      starts.push(off)
      off += align4(len)
    }
    const cost = answerCost(starts.length + 1, payload.length) + (opts.extraAnswerBytes ?? 0)
    const first = this.nextSeq(1)
    const barrierSeq = first + starts.length
    this.seq = barrierSeq
    starts.forEach((off, k) => payload.writeUInt32LE(first + k, off + 8))
    opts.onSequence?.(first)
    const w = new Writer(NLMSG_HDRLEN)
    w.endMessage(w.beginMessage(NLMSG_NOOP, NLM_F_REQUEST | NLM_F_ACK, barrierSeq))
    const barrier = w.toBuffer()
    return this.withSlot(cost, ctx, opts, (_seq, settle: (e?: NsnetError, v?: RawMessage[]) => void) => {
      const answers: RawMessage[] = []
      return {
        payload, then: barrier, range: { first, last: barrierSeq },
        pending: {
          seq: barrierSeq, ctx, cost,
          onMessage: (m) => {
            if (m.seq !== barrierSeq) { answers.push(m); return }
            if (m.type !== NLMSG_ERROR) return
            const { errno } = parseErrorMessage(m)
            settle(errno === 0 ? undefined : kernelError(errno, ctx), answers)
          },
          fail: (e) => settle(e),
          isFinal: (m) => m.type === NLMSG_ERROR && m.seq === barrierSeq,
        },
      }
    }, barrierSeq)
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
    const answered = req.expectsReply || ((req.flags ?? 0) & NLM_F_ECHO) !== 0
    const estimate = answerCost(1, payload.length) + (answered ? GET_REPLY_COST : 0)
    return this.withSlot(estimate, ctx, opts, (seq, settle) => {
      const replies: RawMessage[] = []
      payload.writeUInt32LE(seq >>> 0, 8)
      return {
        payload,
        pending: {
          seq, ctx, cost: estimate,
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
  }

  /**
   * Dumps (NLM_F_DUMP) and decodes each message with `decode`, skipping `undefined`.
   * Dumps on one socket run one at a time, so callers never see EBUSY; a dump marked
   * NLM_F_DUMP_INTR is restarted up to `retries` times.
   */
  async dump<T>(req: Request, decode: (m: RawMessage) => T | undefined, opts: DumpOptions = {}): Promise<T[]> {
    const retries = opts.retries ?? 3
    await this.acquireDump(opts.signal)
    const lock: DumpLock = {}
    try {
      for (let attempt = 0; ; attempt++) {
        const { items, interrupted } = await this.dumpOnce(req, decode, opts, lock)
        if (!interrupted) return items
        if (attempt >= retries) {
          throw new NsnetError(`dump was interrupted by concurrent changes ${retries + 1} times`, {
            ...this.context(req), code: 'EDUMPINTR',
            hint: 'the table kept changing while it was read; retry later or pass a larger `retries`',
          })
        }
      }
    } finally {
      // The kernel runs one dump per socket and refuses another (EBUSY) until it finished
      // the previous one, even one we gave up on: wait for its DONE before the next dump.
      if (lock.drained) void lock.drained.then(() => this.releaseDump())
      else this.releaseDump()
    }
  }

  private dumpOnce<T>(req: Request, decode: (m: RawMessage) => T | undefined, opts: CallOptions, lock: DumpLock) {
    const ctx = this.context(req)
    return this.withSlot(0, ctx, opts, (seq, settle: (e?: NsnetError, v?: { items: T[]; interrupted: boolean }) => void) => {
      const items: T[] = []
      let interrupted = false
      let failure: NsnetError | undefined
      const w = new Writer(128)
      encodeInto(w, req, NLM_F_REQUEST | NLM_F_DUMP | (req.flags ?? 0), seq)
      return {
        payload: w.toBuffer(),
        via: this.dumpSocket(),
        pending: {
          seq, ctx, cost: 0,
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
              if (v !== undefined) items.push(v)
            } catch (e) {
              failure = asNsnetError(e, ctx)
            }
          },
          fail: (e) => settle(e),
          isFinal: (m) => m.type === NLMSG_DONE || m.type === NLMSG_ERROR,
          abandon: (drained) => { lock.drained = drained },
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
    return this.sendChunks(this.planEncoded(this.encodeAll(items), opts), opts)
  }

  /** batch() for requests encoded by the caller (see EncodedRequests); same guarantees. */
  async batchEncoded(reqs: EncodedRequests, opts: BatchOptions = {}): Promise<BatchResult> {
    this.throwIfUnusable(opts.signal, { namespace: this.namespace, operation: 'batch' })
    return this.sendChunks(this.planEncoded(reqs, opts), opts)
  }

  private async sendChunks(chunks: BatchChunk[], opts: BatchOptions): Promise<BatchResult> {
    const failures: NsnetError[] = []
    await Promise.all(chunks.map((c) => this.sendChunk(c, failures, opts)))
    const sent = chunks.reduce((n, c) => n + c.count, 0)
    if (failures.length) {
      failures.sort((a, b) => (a.index ?? 0) - (b.index ?? 0))
      throw new BatchError(failures, sent, { namespace: this.namespace, operation: 'batch' })
    }
    return { sent }
  }

  /**
   * Encodes the whole batch before anything is sent, so that a request that cannot be
   * encoded fails the batch with nothing applied.
   */
  private encodeAll(items: Iterable<Request>): EncodedRequests {
    const w = new Writer(64 * 1024)
    const reqs: Request[] = []
    const starts: number[] = [0]
    for (const req of items) {
      try {
        encodeInto(w, req, NLM_F_REQUEST | (req.flags ?? 0), 0)
      } catch (e) {
        throw asNsnetError(e, { ...this.context(req), index: reqs.length })
      }
      reqs.push(req)
      starts.push(w.pos)
    }
    return {
      buf: w.view(), starts: Int32Array.from(starts), count: reqs.length,
      describe: (i) => this.context(reqs[i]!) as { operation: string; object?: string },
      // A GET (or ECHO) is answered with a whole object, not just an error.
      answered: (i) => reqs[i]!.expectsReply === true || ((reqs[i]!.flags ?? 0) & NLM_F_ECHO) !== 0,
    }
  }

  private chunkLimits(opts: BatchOptions): { maxDatagram: number; chunkCostLimit: number } {
    return {
      maxDatagram: Math.min(opts.datagramBytes ?? 64 * 1024, 200 * 1024),
      // No single chunk may need more than half the budget, so two can be in flight.
      chunkCostLimit: Math.max(REPLY_OVERHEAD * 2, Math.floor(this.budget / 2)),
    }
  }

  /** Cuts encoded messages into datagrams within the window's limits, one copy per datagram. */
  private planEncoded(reqs: EncodedRequests, opts: BatchOptions): BatchChunk[] {
    const { maxDatagram, chunkCostLimit } = this.chunkLimits(opts)
    const { buf, starts, count } = reqs
    const contextOf = (i: number): ErrorContext => ({ ...reqs.describe(i), namespace: this.namespace })
    const chunks: BatchChunk[] = []
    let i = 0
    while (i < count) {
      const first = i
      const from = starts[first]!
      let cost = REPLY_OVERHEAD
      while (i < count) {
        // An error reply echoes the request.
        const itemCost = answerCost(1, starts[i + 1]! - starts[i]!) + (reqs.answered?.(i) ? GET_REPLY_COST : 0)
        if (i > first && (starts[i + 1]! - from > maxDatagram || cost + itemCost > chunkCostLimit)) break
        cost += itemCost
        i++
      }
      const firstSeq = this.nextSeq(1)
      const barrierSeq = firstSeq + (i - first)
      this.seq = barrierSeq
      const w = new Writer(starts[i]! - from + NLMSG_HDRLEN)
      w.bytes(buf.subarray(from, starts[i]!))
      for (let k = first; k < i; k++) w.buf.writeUInt32LE(firstSeq + k - first, starts[k]! - from + 8)
      w.endMessage(w.beginMessage(NLMSG_NOOP, NLM_F_REQUEST | NLM_F_ACK, barrierSeq))
      const base = first
      chunks.push({ payload: w.toBuffer(), firstSeq, barrierSeq, count: i - first, baseIndex: first, cost, contextOf: (k) => contextOf(base + k) })
    }
    return chunks
  }

  private sendChunk(chunk: BatchChunk, failures: NsnetError[], opts: CallOptions): Promise<void> {
    const { payload, firstSeq, barrierSeq, count, baseIndex, cost } = chunk
    const ctx: ErrorContext = { namespace: this.namespace, operation: 'batch' }
    return this.withSlot(cost, ctx, opts, (_seq, settle) => {
      const pending: Pending = {
        seq: barrierSeq, ctx, cost,
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
    }, barrierSeq)
  }

  /**
   * Takes a window slot worth `cost`, sends the payload built by `build`, and resolves when
   * `settle` is called (by a reply, a timeout, an abort or close).
   */
  private withSlot<T>(
    cost: number, ctx: ErrorContext, opts: CallOptions,
    build: (seq: number, settle: (e?: NsnetError, v?: T) => void) => {
      payload: Buffer; pending: Pending; range?: { first: number; last: number }; via?: RawNetlinkSocket
      /** A second datagram sent right after the first (exchange()'s barrier). */
      then?: Buffer
    },
    fixedSeq?: number,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const early = this.unusable(opts.signal, ctx)
      if (early) return reject(early)
      const timeoutMs = opts.timeoutMs ?? this.defaultTimeout
      let timer: NodeJS.Timeout | undefined
      let done = false
      let entry: Pending | undefined
      let range: { first: number; last: number; p: Pending } | undefined
      const onAbort = () => settle(new NsnetError('aborted by the caller', { ...ctx, code: 'EABORTED' }))
      const settle = (e?: NsnetError, v?: T) => {
        if (done) return
        done = true
        if (timer) clearTimeout(timer)
        opts.signal?.removeEventListener('abort', onAbort)
        if (entry) {
          this.pending.delete(entry.seq)
          if (range) this.ranges.splice(this.ranges.indexOf(range), 1)
          if (e && !entry.finished && !this.closed) {
            // The kernel still owes answers that will land in the receive buffer: keep the
            // window share until they came, or the buffer could overflow (and abort us).
            const drained = this.drain(entry, cost, range) // not inside ?.(): it must always run
            entry.abandon?.(drained)
          } else {
            this.inflight -= cost
          }
          this.pump()
        } else if (!waiter.started) {
          waiter.cancelled = true
          if (--this.liveWaiting === 0) { this.waiting.length = 0; this.waitHead = 0 }
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
          const seq = fixedSeq ?? this.nextSeq(1)
          let built
          try {
            built = build(seq, settle)
          } catch (err) {
            return settle(asNsnetError(err, ctx))
          }
          entry = built.pending
          this.pending.set(entry.seq, entry)
          if (built.range) {
            range = { ...built.range, p: entry }
            this.ranges.push(range)
          }
          this.inflight += cost
          this.updateRef()
          // The deadline is for the kernel's answer: time spent waiting for window room
          // does not count (a large batch would otherwise time out before its last chunk left).
          if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
            timer = setTimeout(() => settle(new NsnetError(`no answer within ${timeoutMs} ms`, { ...ctx, code: 'ETIMEDOUT' })), timeoutMs)
            timer.unref?.()
          }
          try {
            for (const datagram of built.then ? [built.payload, built.then] : [built.payload]) {
              if (traceEnabled) trace('send', datagram, this.label)
              ;(built.via ?? this.sock).send(datagram, {}, (err) => {
                if (err) settle(new NsnetError(`send failed: ${err.code}`, { ...ctx, code: err.code, errno: err.errno }))
              })
            }
          } catch (err) {
            // The binding closes its socket by itself after a poll error, then throws on send.
            settle(new NsnetError(`send failed: ${(err as Error).message}`, { ...ctx, code: 'EIO', cause: err }))
          }
        },
        fail: (e) => settle(e.withContext(ctx)),
      }
      opts.signal?.addEventListener('abort', onAbort, { once: true })
      this.waiting.push(waiter)
      this.liveWaiting++
      this.pump()
    })
  }

  /** Starts waiting requests while the window has room; one oversized request may always start alone. */
  private pump(): void {
    while (this.waitHead < this.waiting.length && !this.closed) {
      const w = this.waiting[this.waitHead]!
      if (!w.cancelled && this.inflight > 0 && this.inflight + w.cost > this.budget) break
      this.waiting[this.waitHead++] = undefined as unknown as Waiter // let it be collected
      if (w.cancelled) continue
      this.liveWaiting--
      w.started = true
      w.start()
    }
    if (this.waitHead > 1024 && this.waitHead * 2 > this.waiting.length) {
      this.waiting.splice(0, this.waitHead)
      this.waitHead = 0
    }
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
      const p = this.pending.get(m.seq) ?? this.rangeFor(m.seq)
      if (!p) continue // answer to a request that already ended
      if (p.isFinal(m)) p.finished = true
      try {
        p.onMessage(m)
      } catch (e) {
        p.fail(asNsnetError(e, p.ctx))
      }
    }
  }

  private rangeFor(seq: number): Pending | undefined {
    for (const r of this.ranges) if (seq >= r.first && seq <= r.last) return r.p
    return undefined
  }

  private nextSeq(n: number): number {
    // Stay below 2^31 so a batch range never wraps.
    if (this.seq > 0x7ff00000) this.seq = 1
    this.seq += n
    return this.seq
  }

  /**
   * Stands in for an exchange the caller gave up on after it was sent: swallows its remaining
   * messages and keeps its window share until the final one, then resolves. Also ends on
   * close, or after the default timeout for a protocol that never answers.
   */
  private drain(gone: Pending, cost: number, range: { first: number; last: number } | undefined): Promise<void> {
    return new Promise((resolve) => {
      let over = false
      const end = () => {
        if (over) return
        over = true
        clearTimeout(timer)
        this.standIns--
        if (this.pending.get(gone.seq) === stand) this.pending.delete(gone.seq)
        if (standRange) this.ranges.splice(this.ranges.indexOf(standRange), 1)
        this.inflight -= cost
        this.updateRef()
        this.pump()
        resolve()
      }
      const stand: Pending = {
        seq: gone.seq, ctx: gone.ctx, cost,
        onMessage: (m) => { if (gone.isFinal(m)) end() },
        fail: end,
        isFinal: gone.isFinal,
      }
      const standRange = range && { ...range, p: stand }
      const timer = setTimeout(end, this.defaultTimeout)
      timer.unref?.()
      this.pending.set(gone.seq, stand)
      this.standIns++
      if (standRange) this.ranges.push(standRange)
    })
  }

  private acquireDump(signal?: AbortSignal): Promise<void> {
    if (!this.dumpActive) {
      this.dumpActive = true
      return Promise.resolve()
    }
    return new Promise((resolve, reject) => {
      const go = () => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }
      const onAbort = () => {
        const i = this.dumpQueue.indexOf(go)
        if (i >= 0) this.dumpQueue.splice(i, 1)
        reject(new NsnetError('aborted by the caller', { code: 'EABORTED', namespace: this.namespace }))
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.dumpQueue.push(go)
    })
  }

  private releaseDump(): void {
    const next = this.dumpQueue.shift()
    if (next) next()
    else this.dumpActive = false
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
    const queued = this.waiting.slice(this.waitHead)
    this.waiting.length = 0
    this.waitHead = 0
    for (const w of queued) w.fail(e)
    for (const p of [...this.pending.values()]) p.fail(e.withContext(p.ctx))
  }

  private updateRef(): void {
    // Idle sockets must not keep the process alive; multicast listeners decide for themselves.
    // Stand-ins for abandoned exchanges do not count, unless a dump waits for one to drain.
    const busy = this.pending.size > this.standIns || this.liveWaiting > 0 || this.dumpQueue.length > 0
    try {
      if (busy && !this.referenced) { this.sock.ref(); this.dumpSock?.ref(); this.referenced = true }
      else if (!busy && this.referenced && !this.onNotification) { this.sock.unref(); this.dumpSock?.unref(); this.referenced = false }
    } catch {
      // The native socket is gone (closed by the binding after a poll error): nothing to hold.
    }
  }

  /** Keeps the process alive while a listener wants notifications (or not). */
  setKeepAlive(on: boolean): void {
    if (on) { this.sock.ref(); this.referenced = true } else this.updateRef()
  }

  /** Closes the socket; everything pending or queued rejects at once with ECLOSED. */
  close(): void {
    if (this.closed) return
    this.closed = new NsnetError('socket closed', { code: 'ECLOSED', namespace: this.namespace })
    this.failAll(this.closed)
    for (const go of this.dumpQueue.splice(0)) go()
    for (const sock of [this.sock, this.dumpSock]) {
      if (!sock) continue
      openSockets.delete(sock)
      try { sock.close() } catch { /* already closed by the binding after a poll error */ }
    }
  }

  [Symbol.dispose](): void { this.close() }
}

// A native socket still open when the process exits can get a poll or send callback while
// Node tears the environment down; the binding cannot call into JS then and aborts the
// process. Closing every open socket on 'exit' (before the teardown) prevents that.
const openSockets = new Set<RawNetlinkSocket>()
let exitHookInstalled = false
function closeAtExit(sock: RawNetlinkSocket): void {
  openSockets.add(sock)
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const s of openSockets) {
      try { s.close() } catch { /* already closed by the binding */ }
    }
    openSockets.clear()
  })
}

/**
 * What the answers to `messages` messages of `bytes` bytes in all may occupy in the receive
 * buffer at worst: every one an error echoing its request (the window's cost model).
 */
export function answerCost(messages: number, bytes: number): number {
  return REPLY_OVERHEAD * messages + 2 * bytes
}

function encodeInto(w: Writer, req: Request, flags: number, seq: number): void {
  const start = w.beginMessage(req.type, flags, seq)
  req.body?.(w)
  w.endMessage(start)
}

export function asNsnetError(e: unknown, ctx: ErrorContext & { index?: number }): NsnetError {
  if (e instanceof NsnetError) return e.withContext(ctx)
  const err = e as Error
  return new NsnetError(err?.message ?? String(e), { ...ctx, code: 'EDECODE', cause: e })
}

// Re-exported so callers can tell a multicast message from a reply without importing constants.
export { NLM_F_MULTI }
