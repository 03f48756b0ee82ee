// The batch planner: encodes requests back to back and cuts them into datagrams that fit
// the kernel's datagram limit and the window, each closed by an acknowledged NOOP barrier.
import { Writer } from '../codec.js'
import { NLM_F_ACK, NLM_F_ECHO, NLM_F_REQUEST, NLMSG_HDRLEN, NLMSG_NOOP } from '../constants.js'
import { type ErrorContext, NsnetError } from '../errors.js'
import type { BatchOptions, EncodedRequests, Request } from './types.js'

// What one reply can occupy in the receive buffer, counted the way the kernel
// charges skbs (truesize): measured ~770 bytes for the smallest error reply.
export const REPLY_OVERHEAD = 1024
export const GET_REPLY_COST = 16 * 1024

/**
 * What the answers to `messages` messages of `bytes` bytes in all may occupy in the receive
 * buffer at worst: every one an error echoing its request (the window's cost model).
 */
export function answerCost(messages: number, bytes: number): number {
  return REPLY_OVERHEAD * messages + 2 * bytes
}

/** Whether the kernel answers the request with an object (a GET or ECHO), not just an ACK. */
export function isAnswered(req: Request): boolean {
  return req.expectsReply === true || ((req.flags ?? 0) & NLM_F_ECHO) !== 0
}

export function encodeInto(w: Writer, req: Request, flags: number, seq: number): void {
  const start = w.beginMessage(req.type, flags, seq)
  req.body?.(w)
  w.endMessage(start)
}

export function asNsnetError(e: unknown, ctx: ErrorContext & { index?: number }): NsnetError {
  if (e instanceof NsnetError) return e.withContext(ctx)
  const err = e as Error
  return new NsnetError(err?.message ?? String(e), { ...ctx, code: 'EDECODE', cause: e })
}

/** One datagram of a batch: its requests, their sequence numbers and the barrier's. */
export interface BatchChunk {
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
 * Encodes the whole batch before anything is sent, so that a request that cannot be
 * encoded fails the batch with nothing applied.
 */
export function encodeAll(items: Iterable<Request>, context: (req: Request) => ErrorContext): EncodedRequests {
  const w = new Writer(64 * 1024)
  const reqs: Request[] = []
  const starts: number[] = [0]
  for (const req of items) {
    try {
      encodeInto(w, req, NLM_F_REQUEST | (req.flags ?? 0), 0)
    } catch (e) {
      throw asNsnetError(e, { ...context(req), index: reqs.length })
    }
    reqs.push(req)
    starts.push(w.pos)
  }
  return {
    buf: w.view(),
    starts: Int32Array.from(starts),
    count: reqs.length,
    describe: (i) => context(reqs[i]!) as { operation: string; object?: string },
    answered: (i) => isAnswered(reqs[i]!),
  }
}

export interface PlanLimits {
  /** Receive-buffer budget of the window. */
  readonly budget: number
  readonly namespace: string | undefined
  /** Reserves n consecutive sequence numbers, returns the first. */
  reserve(n: number): number
}

/** Cuts encoded messages into datagrams within the window's limits, one copy per datagram. */
export function planEncoded(reqs: EncodedRequests, opts: BatchOptions, limits: PlanLimits): BatchChunk[] {
  const maxDatagram = Math.min(opts.datagramBytes ?? 64 * 1024, 200 * 1024)
  // No single chunk may need more than half the budget, so two can be in flight.
  const chunkCostLimit = Math.max(REPLY_OVERHEAD * 2, Math.floor(limits.budget / 2))
  const { buf, starts, count } = reqs
  const contextOf = (i: number): ErrorContext => ({ ...reqs.describe(i), namespace: limits.namespace })
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
    const firstSeq = limits.reserve(i - first + 1)
    const barrierSeq = firstSeq + (i - first)
    const w = new Writer(starts[i]! - from + NLMSG_HDRLEN)
    w.bytes(buf.subarray(from, starts[i]!))
    for (let k = first; k < i; k++) w.buf.writeUInt32LE(firstSeq + k - first, starts[k]! - from + 8)
    w.endMessage(w.beginMessage(NLMSG_NOOP, NLM_F_REQUEST | NLM_F_ACK, barrierSeq))
    const base = first
    chunks.push({ payload: w.toBuffer(), firstSeq, barrierSeq, count: i - first, baseIndex: first, cost, contextOf: (k) => contextOf(base + k) })
  }
  return chunks
}
