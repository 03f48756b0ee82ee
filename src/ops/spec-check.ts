// Checks on caller input that end in one EINVAL_ARGUMENT carrying operation, object
// and namespace, so every ops module words bad input the same way.
import { parseIP, parseMac, type Family } from '../netlink/codec.js'
import { NsnetError, invalidArgument, type ErrorContext } from '../netlink/errors.js'
import { checkLinkName, type LinkRef } from './context.js'

export class SpecCheck {
  constructor(readonly ctx: ErrorContext) {}

  error(summary: string, hint?: string): NsnetError {
    return invalidArgument(summary, { ...this.ctx, hint })
  }

  fail(summary: string, hint?: string): never {
    throw this.error(summary, hint)
  }

  /** A plain object (not null, not an array). */
  object(v: unknown, what: string): Record<string, unknown> {
    if (!v || typeof v !== 'object' || Array.isArray(v)) this.fail(`${what} must be an object, got ${show(v)}`)
    return v as Record<string, unknown>
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
    if (typeof v === 'string' && Object.prototype.hasOwnProperty.call(names, v)) return names[v]!
    if (numbers && typeof v === 'number' && Object.values(names).includes(v)) return v
    this.fail(`${what} must be one of ${Object.keys(names).map((n) => `'${n}'`).join(', ')}, got ${show(v)}`)
  }

  mac(v: unknown, what: string): Uint8Array {
    const b = typeof v === 'string' ? parseMac(v) : undefined
    if (!b) this.fail(`${what} must be a MAC address like 02:00:00:00:00:01, got ${show(v)}`)
    return b
  }

  /** An interface name the kernel accepts (1..15 bytes, no whitespace, / or :). */
  linkName(v: unknown, what: string): string {
    // checkLinkName's error is re-told against the object being checked here (a veth's
    // peer name is the veth's problem).
    try {
      return checkLinkName(v, this.ctx, this.ctx.operation ?? 'links', what)
    } catch (e) {
      if (e instanceof NsnetError) throw invalidArgument(e.summary, { ...this.ctx, hint: e.hint })
      throw e
    }
  }

  /** A link given by name or ifindex. */
  linkRef(v: unknown, what: string): LinkRef {
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

/** A value as it appears in a message: short JSON, `undefined` spelled out. */
export function show(v: unknown): string {
  if (v === undefined) return 'undefined'
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v)
  try {
    const s = JSON.stringify(v)
    return s.length > 60 ? `${s.slice(0, 57)}...` : s
  } catch {
    return typeof v
  }
}
