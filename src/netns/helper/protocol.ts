// The helper's wire protocol: one JSON object per line, in both directions.
//   parent -> helper  {id, op: 'links.add', args: [...]}
//   helper -> parent  {ready: true}                         once, when it accepts requests
//                     {id, result}  |  {id, error}           one answer per request
//                     {id, chunk: [...]} ... {id, done: true} a large array result, in pieces
// Requests are pipelined: answers come in completion order, matched by id.
import type { SerializedError } from '../../netlink/errors.js'

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

/** The rtnetlink groups a helper forwards; their methods are looked up by name. */
export const RTNL_GROUPS = ['links', 'addresses', 'routes', 'neighbors', 'rules', 'ethtool', 'tc.qdiscs', 'tc.classes', 'tc.filters', 'nexthops', 'bridge.fdb', 'bridge.links', 'bridge.vlans'] as const
export type RtnlGroup = (typeof RTNL_GROUPS)[number]
