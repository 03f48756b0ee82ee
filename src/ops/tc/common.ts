// What the three tc operation groups share: turning spec errors into NsnetErrors that name the
// operation, object and namespace; resolving the spec's dev; sending a NEW/DEL with tc's flags.

import { Writer } from '../../netlink/codec.js'
import { NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE } from '../../netlink/constants.js'
import type { CallOptions } from '../../netlink/engine.js'
import { invalidArgument } from '../../netlink/errors.js'
import { type LinkRef, linkIndex, linkNames, type OpsContext } from '../context.js'
import { SpecCheck } from '../spec-check.js'
import { TcSpecError } from './units.js'

/** How a NEW request treats an existing object: tc's add, replace and change. */
export type Mode = 'add' | 'replace' | 'change'

/** tc's flags per mode: `replace` is CREATE|REPLACE for qdiscs but CREATE alone for classes and filters. */
export function modeFlags(object: 'qdisc' | 'class' | 'filter', mode: Mode): number {
  if (mode === 'add') return NLM_F_CREATE | NLM_F_EXCL
  if (mode === 'change') return 0
  return object === 'qdisc' ? NLM_F_CREATE | NLM_F_REPLACE : NLM_F_CREATE
}

/** Runs `fn`, turning a TcSpecError into EINVAL_ARGUMENT naming the operation and object. */
export function checked<T>(ctx: OpsContext, operation: string, object: string, fn: () => T): T {
  try {
    return fn()
  } catch (e) {
    if (e instanceof TcSpecError) throw invalidArgument(e.message, { operation, object, namespace: ctx.namespace })
    throw e
  }
}

/**
 * Encodes a message body once, before anything is sent (bad options fail here as
 * EINVAL_ARGUMENT), and returns a body writer that copies those bytes into the request.
 */
export function encodedBody(ctx: OpsContext, operation: string, object: string, write: (w: Writer) => void): (w: Writer) => void {
  const bytes = checked(ctx, operation, object, () => {
    const w = new Writer(1536)
    write(w)
    return w.buf.subarray(0, w.pos)
  })
  return (w) => {
    w.bytes(bytes)
  }
}

/** The spec as a plain object, or EINVAL_ARGUMENT. */
export function specObject(ctx: OpsContext, operation: string, spec: unknown, what: string): Record<string, unknown> {
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) {
    throw invalidArgument(`${what} must be an object, got ${JSON.stringify(spec)}`, { operation, namespace: ctx.namespace })
  }
  return spec as Record<string, unknown>
}

/** Keys of a spec that the operation does not know. */
export function onlyKeys(ctx: OpsContext, operation: string, object: string, spec: Record<string, unknown>, keys: readonly string[]): void {
  for (const k of Object.keys(spec)) {
    if (spec[k] !== undefined && !keys.includes(k)) {
      throw invalidArgument(`unknown field "${k}" (known: ${keys.join(', ')})`, { operation, object, namespace: ctx.namespace })
    }
  }
}

/** The dev of a spec: a name or index, resolved to the ifindex (dev wins over a list() object's ifindex). */
/** Checks a tc call's options (timeoutMs, signal), as every operation does before it sends anything. */
export function checkCallOptions(ctx: OpsContext, operation: string, opts: CallOptions | undefined): void {
  new SpecCheck({ operation, namespace: ctx.namespace }).options(opts)
}

export async function devIndex(ctx: OpsContext, operation: string, spec: Record<string, unknown>, opts?: CallOptions): Promise<number> {
  checkCallOptions(ctx, operation, opts)
  const dev = spec.dev ?? spec.ifindex
  if (typeof dev !== 'string' && typeof dev !== 'number') {
    throw invalidArgument('dev (the link, by name or index) is required', { operation, namespace: ctx.namespace })
  }
  return linkIndex(ctx, dev as LinkRef, operation, opts)
}

/** ifindex -> name, for decoding; one link dump. */
export async function namer(ctx: OpsContext, opts?: CallOptions): Promise<(i: number) => string | undefined> {
  const names = await linkNames(ctx, opts)
  return (i) => names.get(i)
}
