// Filter actions: mirred only (`action mirred egress|ingress redirect|mirror dev IFB`), the one
// ingress shaping needs (redirect into an ifb). Written as iproute2 6.1 writes TCA_*_ACT:
// a plain nest per action numbered from 1, TCA_ACT_KIND, then TCA_ACT_OPTIONS with NLA_F_NESTED.
import { Attrs, type Writer } from '../../netlink/codec.js'
import type { LinkRef } from '../context.js'
import {
  MIRRED_PARMS_LEN,
  TC_ACT_PIPE,
  TC_ACT_STOLEN,
  TCA_ACT_KIND,
  TCA_ACT_MAX,
  TCA_ACT_OPTIONS,
  TCA_EGRESS_MIRROR,
  TCA_EGRESS_REDIR,
  TCA_INGRESS_MIRROR,
  TCA_INGRESS_REDIR,
  TCA_MIRRED_MAX,
  TCA_MIRRED_PARMS,
} from './constants.js'
import { beginOptions, structHeader } from './kinds/kind.js'
import { TcSpecError } from './units.js'

/** A mirred action as given and as list() returns it (tc -j's keys). */
export interface MirredAction {
  readonly kind: 'mirred'
  /** 'redirect' (default) or 'mirror'. */
  readonly mirred_action?: 'redirect' | 'mirror'
  /** 'egress' (default) or 'ingress' of the target device. */
  readonly direction?: 'egress' | 'ingress'
  /** The target device, by name or ifindex. */
  readonly to_dev: LinkRef
  /** Decoded only: order, action index, the verdict after mirred. */
  readonly order?: number
  readonly index?: number
  readonly control_action?: { readonly type: string }
}

export type Action = MirredAction

/** An action with its device resolved, ready to encode. */
export interface ActionWire {
  readonly eaction: number
  readonly verdict: number
  readonly ifindex: number
}

const ACTION_KEYS = [
  'kind',
  'mirred_action',
  'direction',
  'to_dev',
  'order',
  'index',
  'control_action',
  'ref',
  'bind',
  'installed',
  'last_used',
  'first_used',
  'stats',
]

/** Checks one action and returns how to encode it; `ifindex` resolves to_dev. */
export function actionWire(a: unknown, ifindex: (dev: LinkRef) => number): ActionWire {
  if (!a || typeof a !== 'object') throw new TcSpecError(`an action must be an object, got ${JSON.stringify(a)}`)
  const o = a as Record<string, unknown>
  if (o.kind !== 'mirred') throw new TcSpecError(`action kind must be 'mirred' (the only action this build encodes), got ${JSON.stringify(o.kind)}`)
  for (const k of Object.keys(o)) if (o[k] !== undefined && !ACTION_KEYS.includes(k)) throw new TcSpecError(`mirred has no option "${k}"`)
  const mirror = o.mirred_action === 'mirror'
  if (o.mirred_action !== undefined && !mirror && o.mirred_action !== 'redirect')
    throw new TcSpecError(`mirred_action must be 'redirect' or 'mirror', got ${JSON.stringify(o.mirred_action)}`)
  const ingress = o.direction === 'ingress'
  if (o.direction !== undefined && !ingress && o.direction !== 'egress')
    throw new TcSpecError(`mirred direction must be 'egress' or 'ingress', got ${JSON.stringify(o.direction)}`)
  if (typeof o.to_dev !== 'string' && typeof o.to_dev !== 'number') throw new TcSpecError('mirred needs to_dev (the device to send to)')
  const eaction = ingress ? (mirror ? TCA_INGRESS_MIRROR : TCA_INGRESS_REDIR) : mirror ? TCA_EGRESS_MIRROR : TCA_EGRESS_REDIR
  return { eaction, verdict: mirror ? TC_ACT_PIPE : TC_ACT_STOLEN, ifindex: ifindex(o.to_dev) }
}

/** Writes `type` (TCA_U32_ACT...) holding the actions in order. */
export function writeActions(w: Writer, type: number, actions: readonly ActionWire[]): void {
  const tab = beginOptions(w, type)
  actions.forEach((a, i) => {
    const one = beginOptions(w, i + 1)
    w.attrStr(TCA_ACT_KIND, 'mirred')
    const opts = w.beginNested(TCA_ACT_OPTIONS)
    structHeader(w, TCA_MIRRED_PARMS, MIRRED_PARMS_LEN)
    w.u32(0).u32(0).s32(a.verdict).s32(0).s32(0).s32(a.eaction).u32(a.ifindex)
    w.endNested(opts)
    w.endNested(one)
  })
  w.endNested(tab)
}

const VERDICTS: Readonly<Record<number, string>> = { 0: 'ok', 1: 'reclassify', 2: 'drop', 3: 'pipe', 4: 'stolen', 6: 'continue' }

/** Decodes a TCA_*_ACT nest into tc -j style actions; `name` turns an ifindex into a name. */
export function decodeActions(buf: Buffer, start: number, end: number, name: (ifindex: number) => string | undefined): Action[] {
  const out: Action[] = []
  const tab = new Attrs(buf, start, end, 32)
  for (let order = 1; order <= 32; order++) {
    const one = tab.nested(order, TCA_ACT_MAX)
    if (!one) continue
    if (one.str(TCA_ACT_KIND) !== 'mirred') continue
    const opts = one.nested(TCA_ACT_OPTIONS, TCA_MIRRED_MAX)
    const p = opts?.offset(TCA_MIRRED_PARMS) ?? -1
    if (!opts || p < 0 || opts.length(TCA_MIRRED_PARMS) < MIRRED_PARMS_LEN) continue
    const eaction = buf.readInt32LE(p + 20)
    const ifindex = buf.readUInt32LE(p + 24)
    const mirror = eaction === TCA_EGRESS_MIRROR || eaction === TCA_INGRESS_MIRROR
    out.push({
      order,
      kind: 'mirred',
      mirred_action: mirror ? 'mirror' : 'redirect',
      direction: eaction === TCA_INGRESS_REDIR || eaction === TCA_INGRESS_MIRROR ? 'ingress' : 'egress',
      to_dev: name(ifindex) ?? ifindex,
      control_action: { type: VERDICTS[buf.readInt32LE(p + 8)] ?? String(buf.readInt32LE(p + 8)) },
      index: buf.readUInt32LE(p),
    })
  }
  return out
}
