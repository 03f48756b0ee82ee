// The helper's wire protocol: one JSON object per line, in both directions.
//   parent -> helper  {id, op: 'links.add', args: [...]}
//   helper -> parent  {ready: true}                         once, when it accepts requests
//                     {id, result}  |  {id, error}           one answer per request
//                     {id, chunk: [...]} ... {id, done: true} a large array result, in pieces
// Requests are pipelined: answers come in completion order, matched by id.
// HELPER_OPS below is the one list of what `op` may be: the handle builds its methods from it
// and the helper runs nothing else.
import type { ApiOf, RtnlApi } from '../../api.js'
import type { CallOptions } from '../../netlink/engine.js'
import type { SerializedError } from '../../netlink/errors.js'
import type { SysctlValue } from '../sysctl.js'

export interface HelperRequest {
  readonly id: number
  readonly op: string
  readonly args: readonly unknown[]
  /** Indexes of `args` that were undefined (JSON sends them as null). */
  readonly unset?: readonly number[]
}

export type HelperReply =
  | { readonly ready: true }
  | { readonly id: number; readonly result?: unknown }
  | { readonly id: number; readonly error: SerializedError }
  | { readonly id: number; readonly chunk: readonly unknown[] }
  | { readonly id: number; readonly done: true }

/** Array results longer than this are streamed in chunks of this many items. */
export const CHUNK_ITEMS = 1000

export interface NetnsSysctl {
  /** The value as `ip netns exec NAME sysctl -n KEY` prints it. */
  get(key: string, opts?: CallOptions): Promise<string>
  /** As `ip netns exec NAME sysctl -w KEY=VALUE`. */
  set(key: string, value: SysctlValue, opts?: CallOptions): Promise<void>
}

export interface NetnsFiles {
  /** As `ip netns exec NAME cat PATH` (e.g. /proc/net/dev, /sys/class/net/...). */
  read(path: string, opts?: CallOptions): Promise<string>
  /** As `ip netns exec NAME sh -c 'echo DATA > PATH'` (one write). */
  write(path: string, data: string, opts?: CallOptions): Promise<void>
  /** As `ip netns exec NAME ls PATH`. */
  list(path: string, opts?: CallOptions): Promise<string[]>
}

/** What a helper serves: RtnlApi (its monitor runs in a child of its own), sysctl and files. */
export interface HelperApi extends Omit<RtnlApi, 'monitor'> {
  readonly sysctl: ApiOf<NetnsSysctl>
  readonly files: ApiOf<NetnsFiles>
}

/** Every method of T as a dotted path: 'links.add', 'tc.qdiscs.replace', 'nft.rules.add', 'nft.masquerade'. */
type OpNames<T, P extends string = ''> = {
  [K in keyof T & string]: T[K] extends (...a: never[]) => unknown ? `${P}${K}` : OpNames<T[K], `${P}${K}.`>
}[keyof T & string]

/** The member of T at a dotted path. */
type At<T, P extends string> = P extends `${infer H}.${infer R}` ? (H extends keyof T ? At<T[H], R> : never) : P extends keyof T ? T[P] : never

/** An operation of the helper: a public method of HelperApi, by its path. */
export type HelperOp = OpNames<HelperApi>
/** The method an operation runs, as both transports type it. */
export type OpMethod<K extends HelperOp> = At<HelperApi, K> extends infer F extends (...a: never[]) => unknown ? F : never
export type OpArgs<K extends HelperOp> = Parameters<OpMethod<K>>
export type OpResult<K extends HelperOp> = Awaited<ReturnType<OpMethod<K>>>

/**
 * The entry an operation must have: its method's number of parameters, when the method is
 * asynchronous and its last parameter takes the call options; otherwise a message.
 */
type Arity<F> = F extends (...a: infer A) => infer R
  ? R extends Promise<unknown> | AsyncIterable<unknown>
    ? Required<A> extends readonly [...unknown[], infer Last]
      ? CallOptions extends Last
        ? Required<A>['length']
        : 'its last parameter must take the call options (timeoutMs, signal)'
      : 'it must take the call options (timeoutMs, signal) as its last parameter'
    : 'it must return a Promise'
  : never

/** What HELPER_OPS must be: an entry for each public method of HelperApi, and no other. */
export type OpTable = { readonly [K in HelperOp]: Arity<OpMethod<K>> }

/**
 * Every operation a helper runs -> how many parameters its method takes (the last one is
 * always the call options, where the client takes out the AbortSignal, which cannot cross).
 * Checked against HelperApi both ways: a public method missing here, a name that is not one,
 * or a wrong count fails `npm run typecheck` naming the operation. Nothing else is callable,
 * so a method the ops classes keep private stays private.
 */
export const HELPER_OPS = {
  'links.list': 2,
  'links.get': 2,
  'links.add': 2,
  'links.set': 3,
  'links.delete': 2,
  'links.waitUp': 2,
  'links.supportsKind': 2,
  'links.stats': 2,
  'addresses.list': 2,
  'addresses.add': 3,
  'addresses.replace': 3,
  'addresses.delete': 3,
  'addresses.flush': 2,
  'addresses.waitReady': 3,
  'routes.list': 2,
  'routes.get': 2,
  'routes.add': 2,
  'routes.replace': 2,
  'routes.append': 2,
  'routes.delete': 2,
  'routes.addMany': 2,
  'routes.deleteMany': 2,
  'routes.stream': 2,
  'neighbors.list': 2,
  'neighbors.add': 2,
  'neighbors.replace': 2,
  'neighbors.delete': 2,
  'rules.list': 2,
  'rules.add': 2,
  'rules.delete': 2,
  'ethtool.features': 2,
  'ethtool.setFeatures': 3,
  'tc.qdiscs.list': 2,
  'tc.qdiscs.add': 2,
  'tc.qdiscs.replace': 2,
  'tc.qdiscs.replaceMany': 2,
  'tc.qdiscs.change': 2,
  'tc.qdiscs.delete': 2,
  'tc.qdiscs.supports': 2,
  'tc.classes.list': 2,
  'tc.classes.add': 2,
  'tc.classes.replace': 2,
  'tc.classes.change': 2,
  'tc.classes.delete': 2,
  'tc.filters.list': 3,
  'tc.filters.add': 2,
  'tc.filters.replace': 2,
  'tc.filters.change': 2,
  'tc.filters.delete': 2,
  'nexthops.list': 2,
  'nexthops.add': 2,
  'nexthops.replace': 2,
  'nexthops.delete': 2,
  'nexthops.flush': 2,
  'bridge.fdb.list': 2,
  'bridge.fdb.add': 2,
  'bridge.fdb.append': 2,
  'bridge.fdb.replace': 2,
  'bridge.fdb.delete': 2,
  'bridge.links.list': 2,
  'bridge.links.get': 2,
  'bridge.links.set': 3,
  'bridge.vlans.list': 2,
  'bridge.vlans.add': 3,
  'bridge.vlans.delete': 3,
  'nft.tables.add': 2,
  'nft.tables.delete': 2,
  'nft.tables.list': 2,
  'nft.chains.add': 2,
  'nft.chains.delete': 2,
  'nft.chains.list': 2,
  'nft.rules.add': 2,
  'nft.rules.insert': 2,
  'nft.rules.replace': 2,
  'nft.rules.delete': 2,
  'nft.rules.list': 2,
  'nft.rules.addMany': 2,
  'nft.flush': 2,
  'nft.ruleset': 1,
  'nft.load': 2,
  'nft.generation': 1,
  'nft.masquerade': 2,
  'nft.snat': 2,
  'nft.dnat': 2,
  'nft.forwardPolicy': 3,
  'nft.allowForward': 2,
  'nft.flushForward': 2,
  'nft.dropRandom': 3,
  'sysctl.get': 2,
  'sysctl.set': 3,
  'files.read': 2,
  'files.write': 3,
  'files.list': 2,
} as const satisfies OpTable

/**
 * Operations whose method is an async iterator (`routes.stream`): the helper iterates it and
 * sends the items as chunks; the handle hands them out as an async iterator again.
 */
export function isStreamOp(op: string): boolean {
  return op.endsWith('.stream')
}

/** True when `op` names an operation of HELPER_OPS (and not, say, 'toString'). */
export function isHelperOp(op: unknown): op is HelperOp {
  return typeof op === 'string' && Object.hasOwn(HELPER_OPS, op)
}
