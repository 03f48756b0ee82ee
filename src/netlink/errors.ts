import { constants as osConstants } from 'node:os'

const errnoNames = new Map<number, string>() // values are keys of osConstants.errno
for (const [name, value] of Object.entries(osConstants.errno)) {
  // Several names can share a number (EAGAIN/EWOULDBLOCK); keep the first, which is the usual one.
  if (!errnoNames.has(value)) errnoNames.set(value, name)
}
// Node lists ENOTSUP before EOPNOTSUPP (both 95 on Linux); the kernel, iproute2 and our hints say EOPNOTSUPP.
if (osConstants.errno.EOPNOTSUPP !== undefined) errnoNames.set(osConstants.errno.EOPNOTSUPP, 'EOPNOTSUPP')

/** The errno's symbolic name (EEXIST, ENODEV ...), or `E<number>` when unknown. */
export function errnoName(errno: number): ErrnoCode {
  return (errnoNames.get(errno) as ErrnoCode | undefined) ?? `E${errno}`
}

/** Where an error happened; every field is optional because not every layer knows all of them. */
export interface ErrorContext {
  /** The netlink operation (RTM_NEWROUTE) or library operation (links.add). */
  readonly operation?: string
  /** What it concerned, in words: `route 10.0.2.0/24 dev veth1`. */
  readonly object?: string
  /** The namespace name; undefined means the caller's own namespace. */
  readonly namespace?: string
}

/**
 * The codes nsnet raises itself; README.md ("Error codes") says what each means. A closed list:
 * a new code is added here, with its line in the README.
 */
export const NSNET_CODES = Object.freeze({
  EINVAL_ARGUMENT: 'bad input, refused before anything was sent or changed',
  ETIMEDOUT: 'no answer before the deadline (timeoutMs)',
  EABORTED: "the caller's AbortSignal fired",
  ECLOSED: 'the socket or helper was closed with the request pending',
  EDECODE: 'the kernel (or a peer) sent bytes nsnet cannot parse',
  EUNSUPPORTED: 'the kernel or a tool lacks a feature (a link kind, say)',
  EHELPER: 'the namespace helper or a child process died or misbehaved',
  ENOTFOUND: 'a lookup by name found nothing (a namespace, a link, a run)',
  EINTERNAL: 'an unexpected failure inside nsnet or the helper (a bug: please report it)',
  EDUMPINTR: 'the kernel changed the table during a dump and nsnet gave up retrying (NLM_F_DUMP_INTR)',
  EDADFAILED: 'duplicate address detection failed: another host has the address',
  EFAILED: 'a topology step failed for a reason that is not an NsnetError; everything it made was removed',
  ENAT: 'a NAT rule could not be written (nft or iptables refused it)',
  ESERVICE: 'a lab service (DNS, echo, probe) did not start or answer',
  EOVSDB: 'ovsdb-server refused a transaction or answered with an error',
  ERESTART: "the nf_tables ruleset kept changing while a batch was computed (the kernel's ERESTART), retries ran out",
})

/** A code nsnet raises itself (NSNET_CODES). */
export type NsnetOwnCode = keyof typeof NSNET_CODES

/** A kernel or system error's errno name (EEXIST, ENODEV, ...), or `E<number>` for one Node does not name. */
export type ErrnoCode = keyof typeof osConstants.errno | `E${number}`

/** Stable codes that callers can switch on: nsnet's own, or the errno name of a kernel error. */
export type NsnetErrorCode = NsnetOwnCode | ErrnoCode

/** The code of a Node or system error `e` (its `code`, when it is one of ours), else `fallback`. */
export function codeOf(e: unknown, fallback: NsnetErrorCode = 'EIO'): NsnetErrorCode {
  const code = (e as { code?: unknown } | null | undefined)?.code
  return isNsnetErrorCode(code) ? code : fallback
}

/** Whether `v` is one of the codes above (for codes that crossed a pipe or came from Node). */
export function isNsnetErrorCode(v: unknown): v is NsnetErrorCode {
  return typeof v === 'string' && (Object.hasOwn(NSNET_CODES, v) || Object.hasOwn(osConstants.errno, v) || /^E\d+$/.test(v))
}

export interface NsnetErrorInit extends ErrorContext {
  readonly code: NsnetErrorCode
  readonly errno?: number
  readonly hint?: string
  /** Index of the failing request inside a batch. */
  readonly index?: number
  readonly cause?: unknown
}

/** The one error type of nsnet. `code` is stable; the message is for humans. */
export class NsnetError extends Error {
  readonly code: NsnetErrorCode
  readonly errno: number | undefined
  readonly operation: string | undefined
  readonly object: string | undefined
  readonly namespace: string | undefined
  readonly hint: string | undefined
  readonly index: number | undefined
  /** The message without its context prefix. */
  readonly summary: string

  constructor(summary: string, init: NsnetErrorInit) {
    super(formatMessage(summary, init), init.cause === undefined ? undefined : { cause: init.cause })
    this.name = 'NsnetError'
    this.summary = summary
    this.code = init.code
    this.errno = init.errno
    this.operation = init.operation
    this.object = init.object
    this.namespace = init.namespace
    this.hint = init.hint
    this.index = init.index
  }

  /** A plain object that survives JSON (used by the namespace helper). */
  toJSON(): SerializedError {
    return {
      name: this.name,
      message: this.message,
      summary: this.summary,
      code: this.code,
      errno: this.errno,
      operation: this.operation,
      object: this.object,
      namespace: this.namespace,
      hint: this.hint,
      index: this.index,
    }
  }

  /** The same error with context filled in where it was missing. */
  withContext(ctx: ErrorContext & { index?: number }): NsnetError {
    return new NsnetError(this.summary, {
      code: this.code,
      errno: this.errno,
      hint: this.hint,
      operation: this.operation ?? ctx.operation,
      object: this.object ?? ctx.object,
      namespace: this.namespace ?? ctx.namespace,
      index: this.index ?? ctx.index,
      cause: this.cause,
    })
  }
}

export interface SerializedError {
  name: string
  message: string
  summary: string
  code: NsnetErrorCode
  errno?: number
  operation?: string
  object?: string
  namespace?: string
  hint?: string
  index?: number
  /** Only for a BatchError: every failure, and how many requests were sent. */
  failures?: SerializedError[]
  sent?: number
}

/** Rebuilds an error that crossed a process boundary as JSON (a BatchError stays one). */
export function errorFromJSON(e: SerializedError): NsnetError {
  if (e.failures?.length) {
    return new BatchError(e.failures.map(errorFromJSON), e.sent ?? e.failures.length, {
      operation: e.operation,
      object: e.object,
      namespace: e.namespace,
    })
  }
  return new NsnetError(e.summary, {
    code: isNsnetErrorCode(e.code) ? e.code : 'EINTERNAL',
    errno: e.errno,
    operation: e.operation,
    object: e.object,
    namespace: e.namespace,
    hint: e.hint,
    index: e.index,
  })
}

function formatMessage(summary: string, init: NsnetErrorInit): string {
  const where: string[] = []
  if (init.operation) where.push(init.operation)
  if (init.object) where.push(init.object)
  if (init.namespace) where.push(`in netns ${init.namespace}`)
  if (init.index !== undefined) where.push(`(batch item ${init.index})`)
  let msg = where.length ? `${where.join(' ')}: ${summary}` : summary
  if (init.hint) msg += ` (hint: ${init.hint})`
  return msg
}

/** Hints for the errors users meet most; they say what usually causes them. */
const kernelHints: Record<string, Record<string, string>> = {
  EEXIST: { '*': 'it already exists; use replace() to overwrite' },
  ENODEV: { '*': 'no such network device in this namespace' },
  ENETUNREACH: { '*': 'the gateway is not reachable through any route; add an address or a link-scope route first' },
  EPERM: { '*': 'needs CAP_NET_ADMIN in the namespace that owns the network (run as root or inside `nsnet sandbox`)' },
  EOPNOTSUPP: { RTM_NEWLINK: 'the kernel lacks this link kind or option' },
  ESRCH: { '*': 'no such entry' },
  EADDRNOTAVAIL: { RTM_DELADDR: 'no such address on this link', '*': 'address not available' },
}

/** Builds the error for a negative errno that the kernel returned in NLMSG_ERROR. */
export function kernelError(errno: number, ctx: ErrorContext & { index?: number; hint?: string }): NsnetError {
  const code = errnoName(errno)
  const hints = kernelHints[code]
  const hint = ctx.hint ?? (hints ? (hints[ctx.operation ?? ''] ?? hints['*']) : undefined)
  return new NsnetError(`${code} (${describeErrno(errno)})`, { ...ctx, code, errno, hint })
}

function describeErrno(errno: number): string {
  // util.getSystemErrorMessage arrived after Node 20, so carry the common texts ourselves.
  return systemMessages[errno] ?? `errno ${errno}`
}

// The messages strerror gives for the errnos rtnetlink returns; enough for readable errors.
const systemMessages: Record<number, string> = {
  1: 'Operation not permitted',
  2: 'No such file or directory',
  3: 'No such process',
  13: 'Permission denied',
  16: 'Device or resource busy',
  17: 'File exists',
  19: 'No such device',
  22: 'Invalid argument',
  28: 'No space left on device',
  34: 'Numerical result out of range',
  61: 'No data available',
  90: 'Message too long',
  93: 'Protocol not supported',
  95: 'Operation not supported',
  97: 'Address family not supported by protocol',
  98: 'Address already in use',
  99: 'Cannot assign requested address',
  101: 'Network is unreachable',
  105: 'No buffer space available',
  113: 'No route to host',
  12: 'Cannot allocate memory',
  7: 'Argument list too long',
  36: 'File name too long',
  39: 'Directory not empty',
  66: 'Object is remote',
}

export function invalidArgument(summary: string, ctx: ErrorContext & { hint?: string }): NsnetError {
  return new NsnetError(summary, { ...ctx, code: 'EINVAL_ARGUMENT' })
}

export function isNsnetError(e: unknown, code?: NsnetErrorCode): e is NsnetError {
  return e instanceof NsnetError && (code === undefined || e.code === code)
}

/** A batch in which some requests failed; each failure carries its `index` in the batch. */
export class BatchError extends NsnetError {
  readonly failures: readonly NsnetError[]
  readonly sent: number

  constructor(failures: readonly NsnetError[], sent: number, ctx: ErrorContext) {
    const first = failures[0]!
    super(`${failures.length} of ${sent} batched requests failed; first: item ${first.index}: ${first.summary}`, {
      ...ctx,
      code: first.code,
      errno: first.errno,
      hint: first.hint,
    })
    this.name = 'BatchError'
    this.failures = failures
    this.sent = sent
  }

  override toJSON(): SerializedError {
    return { ...super.toJSON(), failures: this.failures.map((f) => f.toJSON()), sent: this.sent }
  }

  /** Keeps the failures (a plain NsnetError would drop them). */
  override withContext(ctx: ErrorContext & { index?: number }): BatchError {
    return new BatchError(
      this.failures.map((f) => f.withContext({ namespace: ctx.namespace })),
      this.sent,
      {
        operation: this.operation ?? ctx.operation,
        object: this.object ?? ctx.object,
        namespace: this.namespace ?? ctx.namespace,
      },
    )
  }
}
