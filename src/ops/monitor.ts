// Placeholder until monitor lands; replaced wholesale by that work.
import type { OpsContext } from './context.js'

export type MonitorKind = 'link' | 'address' | 'route' | 'neighbor' | 'rule'
export interface MonitorOptions { readonly signal?: AbortSignal }
export type MonitorEvent = { readonly kind: MonitorKind }

export function monitor(_ctx: OpsContext, _kinds: readonly MonitorKind[], _opts: MonitorOptions): AsyncIterable<MonitorEvent> {
  throw new Error('monitor is not built yet')
}
