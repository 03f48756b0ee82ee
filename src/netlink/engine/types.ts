// What callers of the engine hand it and get back: requests, call options, socket options.
import type { RawMessage, Writer } from '../codec.js'
import type { ErrorContext } from '../errors.js'

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
  /**
   * Read-only (a GET by name): an identical request made while this one still waits to be
   * sent gets the same answer instead of a datagram of its own. Calls with a signal or a
   * timeout of their own never share.
   */
  readonly shareable?: boolean
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
