// Queueing disciplines: `tc qdisc add|replace|change|del|show`.
import type { CallOptions, Request } from '../../netlink/engine.js'
import { invalidArgument } from '../../netlink/errors.js'
import { freeze, type LinkRef, type OpsContext } from '../context.js'
import { decodeQdisc, HOOK_KINDS, handleOf, QDISC_KINDS, type TcWire, writeQdisc } from './codec.js'
import { checkCallOptions, checked, devIndex, encodedBody, type Mode, modeFlags, namer, onlyKeys, specObject } from './common.js'
import { RTM_DELQDISC, RTM_GETQDISC, RTM_NEWQDISC, TC_H_INGRESS, TC_H_ROOT } from './constants.js'
import { formatClassid } from './handles.js'
import { kernelHasQdisc, missingQdisc, PROBED_KINDS } from './probe.js'
import type { Qdisc, QdiscSpec } from './types.js'

const SPEC_KEYS = [
  'dev',
  'ifindex',
  'kind',
  'handle',
  'parent',
  'root',
  'options',
  'refcnt',
  'bytes',
  'packets',
  'drops',
  'overlimits',
  'requeues',
  'backlog',
  'qlen',
]
const INGRESS_HANDLE = 0xffff0000

/** Checks a spec and resolves it to what the encoder writes; nothing is sent. */
export function qdiscWire(ctx: OpsContext, operation: string, spec: Record<string, unknown>, ifindex: number, needKind: boolean): TcWire {
  const object = `qdisc${typeof spec.kind === 'string' ? ` ${spec.kind}` : ''} dev ${String(spec.dev ?? ifindex)}`
  onlyKeys(ctx, operation, object, spec, SPEC_KEYS)
  return checked(ctx, operation, object, () => {
    const kind = spec.kind
    if (kind !== undefined && (typeof kind !== 'string' || !QDISC_KINDS[kind])) {
      throw invalidArgument(`unknown qdisc kind ${JSON.stringify(kind)} (nsnet encodes ${Object.keys(QDISC_KINDS).join(', ')})`, {
        operation,
        object,
        namespace: ctx.namespace,
      })
    }
    if (needKind && kind === undefined) throw invalidArgument('kind is required', { operation, object, namespace: ctx.namespace })
    if (spec.options !== undefined && (typeof spec.options !== 'object' || spec.options === null || Array.isArray(spec.options))) {
      throw invalidArgument('options must be an object', { operation, object, namespace: ctx.namespace })
    }
    let handle = handleOf(spec.handle, 'handle') ?? 0
    let parent = handleOf(spec.parent, 'parent')
    if (spec.root === true) {
      if (parent !== undefined && parent !== TC_H_ROOT)
        throw invalidArgument('root and parent contradict each other', { operation, object, namespace: ctx.namespace })
      parent = TC_H_ROOT
    }
    if (typeof kind === 'string' && HOOK_KINDS.has(kind)) {
      // tc: `ingress`/`clsact` put the qdisc on the hook with handle ffff:.
      if (parent !== undefined && parent !== TC_H_INGRESS)
        throw invalidArgument(`${kind} lives on the ingress hook; give no parent`, { operation, object, namespace: ctx.namespace })
      if (handle !== 0 && handle !== INGRESS_HANDLE) throw invalidArgument(`${kind} has handle ffff:`, { operation, object, namespace: ctx.namespace })
      parent = TC_H_INGRESS
      handle = INGRESS_HANDLE
    }
    if ((handle & 0xffff) !== 0) throw invalidArgument(`a qdisc handle has no minor: ${formatClassid(handle)}`, { operation, object, namespace: ctx.namespace })
    const wire: TcWire = {
      ifindex,
      handle,
      parent: parent ?? TC_H_ROOT,
      kind: kind as string | undefined,
      options: spec.options as Record<string, unknown> | undefined,
    }
    return wire
  })
}

export class Qdiscs {
  constructor(readonly ctx: OpsContext) {}

  /**
   * Every qdisc (`tc -j -s qdisc show`), or those of one link (`tc -j -s qdisc show dev DEV`),
   * ingress and clsact included.
   */
  async list(dev?: LinkRef, opts?: CallOptions): Promise<Qdisc[]> {
    checkCallOptions(this.ctx, 'tc.qdiscs.list', opts)
    const ifindex = dev === undefined ? undefined : await devIndex(this.ctx, 'tc.qdiscs.list', { dev }, opts)
    const name = await namer(this.ctx, opts)
    const out = await this.ctx.sock.dump(
      {
        type: RTM_GETQDISC,
        operation: 'tc.qdiscs.list',
        body: (w) => writeQdisc(w, { ifindex: ifindex ?? 0, handle: 0, parent: 0 }),
      },
      (m) => {
        if (m.type !== RTM_NEWQDISC) return undefined
        if (ifindex !== undefined && m.buf.readInt32LE(m.start + 4) !== ifindex) return undefined
        return decodeQdisc(m, name)
      },
      opts,
    )
    return freeze(out)
  }

  /** `tc qdisc add dev DEV [parent P | root] [handle H] KIND OPTIONS...`; EEXIST if one is there. */
  add(spec: QdiscSpec, opts?: CallOptions): Promise<void> {
    return this.modify('add', spec, opts)
  }

  /** `tc qdisc replace dev DEV ... KIND OPTIONS...`: creates, or replaces the qdisc at that place. */
  replace(spec: QdiscSpec, opts?: CallOptions): Promise<void> {
    return this.modify('replace', spec, opts)
  }

  /** `tc qdisc change dev DEV ... KIND OPTIONS...`: changes options of an existing qdisc of that kind. */
  change(spec: QdiscSpec, opts?: CallOptions): Promise<void> {
    return this.modify('change', spec, opts)
  }

  /** `tc qdisc del dev DEV [parent P | root | ingress] [handle H]`; a Qdisc from list() works. */
  async delete(spec: QdiscSpec, opts?: CallOptions): Promise<void> {
    const operation = 'tc.qdiscs.delete'
    const s = specObject(this.ctx, operation, spec, 'qdisc')
    const ifindex = await devIndex(this.ctx, operation, s, opts)
    const q = qdiscWire(this.ctx, operation, s, ifindex, false)
    await this.ctx.sock.request(
      {
        type: RTM_DELQDISC,
        operation,
        object: describe(s, q),
        body: (w) => writeQdisc(w, q, false),
      },
      opts,
    )
  }

  /** Whether the kernel has qdisc `kind` (a probe that changes nothing; cached). */
  async supports(kind: string, opts?: CallOptions): Promise<boolean> {
    checkCallOptions(this.ctx, 'tc.qdiscs.supports', opts)
    if (typeof kind !== 'string' || !QDISC_KINDS[kind]) {
      throw invalidArgument(`unknown qdisc kind ${JSON.stringify(kind)}`, { operation: 'tc.qdiscs.supports', namespace: this.ctx.namespace })
    }
    return kernelHasQdisc(this.ctx, kind)
  }

  /**
   * `tc -batch FILE` of `qdisc replace` lines: every spec is checked and encoded before
   * anything is sent (one bad spec: nothing changes), then all go packed into few datagrams.
   * Kernel refusals come back together as one BatchError that lists each with its index.
   */
  async replaceMany(specs: readonly QdiscSpec[], opts?: CallOptions): Promise<{ sent: number }> {
    const operation = 'tc.qdiscs.replaceMany'
    if (!Array.isArray(specs))
      throw invalidArgument(`qdiscs must be an array of qdisc specs, got ${JSON.stringify(specs)}`, { operation, namespace: this.ctx.namespace })
    checkCallOptions(this.ctx, operation, opts)
    // Each distinct dev is looked up once for the whole batch, not once per spec.
    const devs = new Map<unknown, Promise<number>>()
    const index = (s: Record<string, unknown>) => {
      const key = s.dev ?? s.ifindex
      let p = devs.get(key)
      if (!p) devs.set(key, (p = devIndex(this.ctx, 'tc.qdiscs.replace', s, opts)))
      return p
    }
    const reqs: Request[] = []
    for (const [i, spec] of specs.entries()) reqs.push(await this.prepare('replace', spec, opts, `qdiscs[${i}]: `, index))
    const r = await this.ctx.sock.batch(reqs, opts)
    return { sent: r.sent }
  }

  private async modify(mode: Mode, spec: QdiscSpec, opts?: CallOptions): Promise<void> {
    await this.ctx.sock.request(await this.prepare(mode, spec, opts), opts)
  }

  /** The checked, encoded request of one add/replace/change; nothing is sent. */
  private async prepare(
    mode: Mode,
    spec: QdiscSpec,
    opts: CallOptions | undefined,
    label = '',
    index = (s: Record<string, unknown>) => devIndex(this.ctx, `tc.qdiscs.${mode}`, s, opts),
  ): Promise<Request> {
    const operation = `tc.qdiscs.${mode}`
    const s = specObject(this.ctx, operation, spec, `${label}qdisc`)
    const ifindex = await index(s)
    const q = qdiscWire(this.ctx, operation, s, ifindex, true)
    const object = `${label}${describe(s, q)}`
    const body = encodedBody(this.ctx, operation, object, (w) => writeQdisc(w, q))
    if (PROBED_KINDS.has(q.kind!) && !(await kernelHasQdisc(this.ctx, q.kind!))) {
      throw missingQdisc(q.kind!, operation, this.ctx.namespace)
    }
    return { type: RTM_NEWQDISC, flags: modeFlags('qdisc', mode), operation, object, body }
  }
}

function describe(s: Record<string, unknown>, q: TcWire): string {
  const where = q.parent === TC_H_ROOT ? 'root' : q.parent === TC_H_INGRESS ? 'ingress' : `parent ${formatClassid(q.parent)}`
  return `qdisc ${q.kind ?? ''}${q.kind ? ' ' : ''}dev ${String(s.dev ?? s.ifindex)} ${where}${q.handle ? ` handle ${formatClassid(q.handle)}` : ''}`
}
