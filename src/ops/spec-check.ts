// The one input check of the ops modules: every public operation (links, addresses, routes,
// neighbours, rules) checks its arguments with these methods, so bad input is one
// EINVAL_ARGUMENT naming the field, the operation, the object and the namespace, raised before
// anything is sent. The namespace helper runs the same code, so a handle refuses the same input
// with the same words; only an AbortSignal, which cannot cross to the helper, is checked on the
// client side, with signal() below.
import { type Family, parseIP, parseMac } from '../netlink/codec.js'
import { type ErrorContext, NsnetError } from '../netlink/errors.js'

/** Where the input belongs; `index` is its position in a batch. Read only when an error is made. */
export interface CheckContext extends ErrorContext {
  readonly index?: number
}

/** The longest timer Node keeps (setTimeout clamps anything longer to 1 ms). */
export const MAX_TIMEOUT_MS = 0x7fffffff
/** What every call's trailing options object may hold. */
export const CALL_OPTION_KEYS: readonly string[] = ['timeoutMs', 'signal']
const IFNAMSIZ = 16
const EMPTY: Readonly<Record<string, unknown>> = Object.freeze({})

export class SpecCheck {
  constructor(readonly ctx: CheckContext) {}

  error(summary: string, hint?: string): NsnetError {
    const c = this.ctx
    return new NsnetError(summary, { code: 'EINVAL_ARGUMENT', operation: c.operation, object: c.object, namespace: c.namespace, index: c.index, hint })
  }

  fail(summary: string, hint?: string): never {
    throw this.error(summary, hint)
  }

  /** A plain object (not null, not an array). */
  object(v: unknown, what: string): Record<string, unknown> {
    if (!v || typeof v !== 'object' || Array.isArray(v)) this.fail(`${what} must be an object, got ${show(v)}`)
    return v as Record<string, unknown>
  }

  /** An optional object argument: undefined is {}, anything else must be an object with only `allowed` keys. */
  optional(v: unknown, what: string, allowed: ReadonlySet<string> | readonly string[]): Readonly<Record<string, unknown>> {
    if (v === undefined) return EMPTY
    const o = this.object(v, what)
    this.only(o, allowed instanceof Set ? allowed : new Set(allowed), what)
    this.callOptions(o, what)
    return o
  }

  /**
   * A call's trailing options (`{ timeoutMs, signal }` plus `extra` keys): undefined is {},
   * null or an unknown key is refused, and timeoutMs / signal are checked.
   */
  options(v: unknown, what = 'options', extra: readonly string[] = []): Readonly<Record<string, unknown>> {
    return this.optional(v, what, extra.length ? [...CALL_OPTION_KEYS, ...extra] : CALL_OPTION_KEYS)
  }

  /** timeoutMs and signal, where an object holds them (options, or a filter that takes them too). */
  callOptions(o: Readonly<Record<string, unknown>>, what: string): void {
    if (o.timeoutMs !== undefined) this.timeout(o.timeoutMs, `${what}.timeoutMs`)
    if (o.signal !== undefined) this.signal(o.signal, `${what}.signal`)
  }

  /** Milliseconds, 0 (no deadline) up to what a timer can hold. */
  timeout(v: unknown, what = 'timeoutMs'): number {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > MAX_TIMEOUT_MS) {
      this.fail(`${what} must be a number of milliseconds from 0 to ${MAX_TIMEOUT_MS}, got ${show(v)}`)
    }
    return v
  }

  signal(v: unknown, what = 'signal'): AbortSignal {
    if (!(v instanceof AbortSignal)) this.fail(`${what} must be an AbortSignal, got ${show(v)}`)
    return v
  }

  /** Refuses keys outside `allowed` that carry a value; `ignored` keys pass silently. */
  only(o: Record<string, unknown>, allowed: ReadonlySet<string>, what: string, ignored?: ReadonlySet<string>): void {
    for (const k of Object.keys(o)) {
      if (o[k] === undefined || allowed.has(k) || ignored?.has(k)) continue
      this.fail(`${what} has unknown field "${k}"`, `known fields: ${[...allowed].join(', ')}`)
    }
  }

  int(v: unknown, what: string, min: number, max: number): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(`${what} must be an integer from ${min} to ${max}, got ${show(v)}`)
    }
    return v
  }

  bool(v: unknown, what: string): boolean {
    if (typeof v !== 'boolean') this.fail(`${what} must be true or false, got ${show(v)}`)
    return v
  }

  str(v: unknown, what: string, maxBytes = 0xffff): string {
    if (typeof v !== 'string') this.fail(`${what} must be a string, got ${show(v)}`)
    if (Buffer.byteLength(v) > maxBytes) this.fail(`${what} is longer than ${maxBytes} bytes`)
    if (v.includes('\0')) this.fail(`${what} contains a NUL character`)
    return v
  }

  /** One of the names in `names` (or, when `numbers` is true, a value among them). */
  oneOf(v: unknown, what: string, names: Readonly<Record<string, number>>, numbers = false): number {
    if (typeof v === 'string' && Object.hasOwn(names, v)) return names[v]!
    if (numbers && typeof v === 'number' && Object.values(names).includes(v)) return v
    this.fail(
      `${what} must be one of ${Object.keys(names)
        .map((n) => `'${n}'`)
        .join(', ')}, got ${show(v)}`,
    )
  }

  /** A name or number of a table (route types, protocols, scopes, tables). */
  named(table: { number(v: string | number): number | undefined; names(): string[] }, v: unknown, what: string): number {
    const n = typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v)) ? table.number(v) : undefined
    if (n === undefined) this.fail(`unknown ${what} ${show(v)}`, `use a number or one of: ${table.names().join(', ')}`)
    return n
  }

  mac(v: unknown, what: string): Uint8Array {
    const b = typeof v === 'string' ? parseMac(v) : undefined
    if (!b) this.fail(`${what} must be a MAC address like 02:00:00:00:00:01, got ${show(v)}`)
    return b
  }

  /**
   * An interface name the kernel takes as it is: 1..15 bytes, no whitespace, `/`, `:`, NUL,
   * and no `%` (the kernel would expand `%d` into a number and make another name).
   */
  linkName(v: unknown, what = 'link name'): string {
    if (typeof v !== 'string' || v.length === 0) this.fail(`${what} must be a non-empty string, got ${show(v)}`)
    const bytes = Buffer.byteLength(v)
    if (bytes >= IFNAMSIZ) this.fail(`${what} "${v}" is ${bytes} bytes; the kernel allows at most ${IFNAMSIZ - 1}`)
    if (/[\s/:\0]/.test(v) || v === '.' || v === '..') {
      this.fail(`${what} ${show(v)} contains a character the kernel refuses (whitespace, /, : or NUL)`)
    }
    if (v.includes('%')) this.fail(`${what} "${v}" contains %, which the kernel expands (eth%d becomes eth0)`)
    return v
  }

  /** A link given by name or ifindex. */
  linkRef(v: unknown, what: string): string | number {
    if (typeof v === 'number') return this.int(v, what, 1, 0x7fffffff)
    return this.linkName(v, what)
  }

  ip(v: unknown, what: string, family?: Family): { family: Family; bytes: Uint8Array } {
    const a = typeof v === 'string' ? parseIP(v) : undefined
    if (!a || (family && a.family !== family)) {
      this.fail(`${what} must be an IPv${family ?? '4 or IPv6'} address, got ${show(v)}`)
    }
    return a
  }
}

/** A value as it appears in a message: short JSON, `undefined` and NaN spelled out. */
export function show(v: unknown): string {
  if (v === undefined) return 'undefined'
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v)
  if (typeof v === 'bigint') return `${v}n`
  if (typeof v === 'function') return 'a function'
  try {
    const s = JSON.stringify(v)
    return s.length > 60 ? `${s.slice(0, 57)}...` : s
  } catch {
    return typeof v
  }
}
