// Classifiers: `tc filter add|replace|change|del|show` (u32 with classid and mirred actions).
import type { CallOptions } from '../../netlink/engine.js'
import { invalidArgument } from '../../netlink/errors.js'
import { freeze, type LinkRef, linkIndex, type OpsContext } from '../context.js'
import { actionWire } from './actions.js'
import { decodeFilter, type FilterWire, handleOf, protocolOf, writeFilter } from './codec.js'
import { checked, devIndex, encodedBody, type Mode, modeFlags, namer, onlyKeys, specObject } from './common.js'
import { RTM_DELTFILTER, RTM_GETTFILTER, RTM_NEWTFILTER, TC_H_INGRESS } from './constants.js'
import { formatClassid } from './handles.js'
import type { Qdiscs } from './qdiscs.js'
import type { Filter, FilterSpec } from './types.js'
import { ipKeys, parseU32Handle, rawKeys, type U32Wire } from './u32.js'
import { TcSpecError } from './units.js'

const SPEC_KEYS = ['dev', 'ifindex', 'parent', 'protocol', 'pref', 'prio', 'kind', 'handle', 'chain', 'options']
const U32_KEYS = ['ip', 'match', 'classid', 'flowid', 'actions', 'fh', 'order', 'key_ht', 'bkt', 'not_in_hw', 'ht_divisor']

/** The mirred targets of a spec's actions, so they can be resolved before encoding. */
function actionDevs(spec: Record<string, unknown>): LinkRef[] {
  const acts = (spec.options as Record<string, unknown> | undefined)?.actions
  if (!Array.isArray(acts)) return []
  return acts.map((a) => (a as Record<string, unknown>)?.to_dev).filter((d): d is LinkRef => typeof d === 'string' || typeof d === 'number')
}

/** Checks a spec and resolves it; `ifindexOf` maps action targets (already looked up). */
export function filterWire(
  ctx: OpsContext,
  operation: string,
  spec: Record<string, unknown>,
  ifindex: number,
  ifindexOf: (dev: LinkRef) => number,
  needKind: boolean,
): FilterWire {
  const object = `filter dev ${String(spec.dev ?? ifindex)} parent ${String(spec.parent)}${(spec.pref ?? spec.prio) ? ` pref ${String(spec.pref ?? spec.prio)}` : ''}`
  onlyKeys(ctx, operation, object, spec, SPEC_KEYS)
  const fail = (summary: string) => invalidArgument(summary, { operation, object, namespace: ctx.namespace })
  return checked(ctx, operation, object, () => {
    const parent = handleOf(spec.parent, 'parent')
    if (parent === undefined) throw fail("parent is required (the qdisc: '5:', or 'ffff:' for ingress)")
    if (spec.pref !== undefined && spec.prio !== undefined && spec.pref !== spec.prio) throw fail('pref and prio are the same thing; give one')
    const pref = spec.pref ?? spec.prio ?? 0
    if (typeof pref !== 'number' || !Number.isInteger(pref) || pref < 0 || pref > 0xffff) throw fail(`pref must be 1..65535, got ${JSON.stringify(pref)}`)
    const kind = spec.kind
    if (kind !== undefined && kind !== 'u32') throw fail(`unknown filter kind ${JSON.stringify(kind)} (nsnet encodes u32)`)
    if (needKind && kind === undefined) throw fail('kind is required')
    const chain = spec.chain
    if (chain !== undefined && (typeof chain !== 'number' || !Number.isInteger(chain) || chain < 0))
      throw fail(`chain must be a non-negative integer, got ${JSON.stringify(chain)}`)
    const o = (spec.options ?? {}) as Record<string, unknown>
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw fail('options must be an object')
    let handle = 0
    const h = spec.handle ?? o.fh
    if (h !== undefined) {
      const n = typeof h === 'number' ? h : typeof h === 'string' ? parseU32Handle(h) : undefined
      if (n === undefined || !Number.isInteger(n) || n < 0 || n > 0xffffffff)
        throw fail(`handle must be a u32 handle such as '800::800', got ${JSON.stringify(h)}`)
      handle = n
    }
    let u32: U32Wire | undefined
    if (needKind) {
      for (const k of Object.keys(o))
        if (o[k] !== undefined && !U32_KEYS.includes(k)) throw new TcSpecError(`u32 has no option "${k}" (ip, match, classid, actions)`)
      if (o.ip !== undefined && o.match !== undefined) throw new TcSpecError('give ip or match, not both')
      const keys = o.ip !== undefined ? ipKeys(o.ip as Record<string, unknown>) : o.match !== undefined ? rawKeys(o.match) : []
      if (o.classid !== undefined && o.flowid !== undefined && o.classid !== o.flowid) throw new TcSpecError('classid and flowid are the same thing; give one')
      const classid = handleOf(o.classid ?? o.flowid, 'classid')
      if (o.actions !== undefined && !Array.isArray(o.actions)) throw new TcSpecError('actions must be a list')
      const actions = ((o.actions ?? []) as unknown[]).map((a) => actionWire(a, ifindexOf))
      u32 = { keys, classid, actions }
    }
    return {
      ifindex,
      handle,
      parent,
      pref,
      protocol: needKind || spec.protocol !== undefined ? protocolOf(spec.protocol) : 0,
      kind: kind as string | undefined,
      chain: chain as number | undefined,
      u32,
    }
  })
}

export class Filters {
  constructor(
    readonly ctx: OpsContext,
    private readonly qdiscs: Qdiscs,
  ) {}

  /**
   * The filters of one link (`tc -j filter show dev DEV parent P`); without `parent`, those on
   * each of its qdiscs (root, children, ingress). u32's hash-table entries are left out.
   */
  async list(dev: LinkRef, filter: { readonly parent?: string | number } = {}, opts?: CallOptions): Promise<Filter[]> {
    const operation = 'tc.filters.list'
    const ifindex = await devIndex(this.ctx, operation, { dev }, opts)
    const parents =
      filter.parent !== undefined
        ? [checked(this.ctx, operation, `filters dev ${String(dev)}`, () => handleOf(filter.parent, 'parent')!)]
        : (await this.qdiscs.list(ifindex, opts))
            .filter((q) => q.handle !== '0:')
            .map((q) => (q.parent === 'ffff:fff1' ? TC_H_INGRESS : (parseInt(q.handle, 16) << 16) >>> 0))
    const name = await namer(this.ctx, opts)
    const out: Filter[] = []
    for (const parent of parents) {
      out.push(
        ...(await this.ctx.sock.dump(
          {
            type: RTM_GETTFILTER,
            operation,
            body: (w) => writeFilter(w, { ifindex, handle: 0, parent, pref: 0, protocol: 0 }),
          },
          (m) => {
            if (m.type !== RTM_NEWTFILTER) return undefined
            const f = decodeFilter(m, name)
            return f.options.match ? f : undefined
          },
          opts,
        )),
      )
    }
    return freeze(out)
  }

  /** `tc filter add dev DEV parent P protocol PROTO pref N u32 match ... [classid X] [action mirred ...]`. */
  add(spec: FilterSpec, opts?: CallOptions): Promise<void> {
    return this.modify('add', spec, opts)
  }

  /** `tc filter replace dev DEV parent P protocol PROTO pref N handle H u32 ...`. */
  replace(spec: FilterSpec, opts?: CallOptions): Promise<void> {
    return this.modify('replace', spec, opts)
  }

  /** `tc filter change dev DEV parent P protocol PROTO pref N handle H u32 ...`. */
  change(spec: FilterSpec, opts?: CallOptions): Promise<void> {
    return this.modify('change', spec, opts)
  }

  /**
   * `tc filter del dev DEV parent P [pref N [protocol PROTO] [handle H u32]]`: one filter, or every
   * filter of a priority, or every filter on P. A Filter from list() deletes just itself.
   */
  async delete(spec: FilterSpec, opts?: CallOptions): Promise<void> {
    const operation = 'tc.filters.delete'
    const s = specObject(this.ctx, operation, spec, 'filter')
    const ifindex = await devIndex(this.ctx, operation, s, opts)
    const f = filterWire(this.ctx, operation, s, ifindex, () => 0, false)
    await this.ctx.sock.request(
      {
        type: RTM_DELTFILTER,
        operation,
        object: describe(s, f),
        body: (w) => writeFilter(w, f),
      },
      opts,
    )
  }

  private async modify(mode: Mode, spec: FilterSpec, opts?: CallOptions): Promise<void> {
    const operation = `tc.filters.${mode}`
    const s = specObject(this.ctx, operation, spec, 'filter')
    const ifindex = await devIndex(this.ctx, operation, s, opts)
    // Check everything before the target lookups, then once more with them resolved.
    filterWire(this.ctx, operation, s, ifindex, () => 1, true)
    const targets = new Map<LinkRef, number>()
    for (const d of actionDevs(s)) targets.set(d, await linkIndex(this.ctx, d, operation, opts))
    const f = filterWire(this.ctx, operation, s, ifindex, (d) => targets.get(d)!, true)
    const body = encodedBody(this.ctx, operation, describe(s, f), (w) => writeFilter(w, f))
    await this.ctx.sock.request(
      {
        type: RTM_NEWTFILTER,
        flags: modeFlags('filter', mode),
        operation,
        object: describe(s, f),
        body,
      },
      opts,
    )
  }
}

function describe(s: Record<string, unknown>, f: FilterWire): string {
  return `filter dev ${String(s.dev ?? s.ifindex)} parent ${formatClassid(f.parent)}${f.pref ? ` pref ${f.pref}` : ''}${f.kind ? ` ${f.kind}` : ''}`
}
