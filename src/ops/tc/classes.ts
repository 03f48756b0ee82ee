// Traffic classes: `tc class add|replace|change|del|show` (htb).
import type { CallOptions } from '../../netlink/engine.js'
import { invalidArgument } from '../../netlink/errors.js'
import { freeze, type LinkRef, type OpsContext } from '../context.js'
import { CLASS_KINDS, decodeClass, handleOf, type TcWire, writeClass } from './codec.js'
import { checkCallOptions, checked, devIndex, encodedBody, type Mode, modeFlags, namer, onlyKeys, specObject } from './common.js'
import { RTM_DELTCLASS, RTM_GETTCLASS, RTM_NEWTCLASS, TC_H_ROOT } from './constants.js'
import { formatClassid } from './handles.js'
import type { Qdiscs } from './qdiscs.js'
import type { ClassSpec, TcClass } from './types.js'

const SPEC_KEYS = [
  'dev',
  'ifindex',
  'kind',
  'handle',
  'classid',
  'parent',
  'root',
  'leaf',
  'options',
  'bytes',
  'packets',
  'drops',
  'overlimits',
  'requeues',
  'backlog',
  'qlen',
  'lended',
  'borrowed',
  'giants',
  'tokens',
  'ctokens',
]

export function classWire(ctx: OpsContext, operation: string, spec: Record<string, unknown>, ifindex: number, needKind: boolean): TcWire {
  const object = `class${typeof spec.kind === 'string' ? ` ${spec.kind}` : ''} dev ${String(spec.dev ?? ifindex)}${(spec.handle ?? spec.classid) ? ` classid ${String(spec.handle ?? spec.classid)}` : ''}`
  onlyKeys(ctx, operation, object, spec, SPEC_KEYS)
  const fail = (summary: string) => invalidArgument(summary, { operation, object, namespace: ctx.namespace })
  return checked(ctx, operation, object, () => {
    const kind = spec.kind
    if (kind !== undefined && (typeof kind !== 'string' || !CLASS_KINDS[kind]))
      throw fail(`unknown class kind ${JSON.stringify(kind)} (nsnet encodes ${Object.keys(CLASS_KINDS).join(', ')})`)
    if (needKind && kind === undefined) throw fail('kind is required')
    if (spec.handle !== undefined && spec.classid !== undefined) throw fail('give handle or classid, not both')
    const handle = handleOf(spec.handle ?? spec.classid, 'classid')
    if (handle === undefined) throw fail("classid is required ('5:1')")
    if ((handle & 0xffff) === 0 || handle >>> 16 === 0) throw fail(`classid needs a major and a minor, got ${formatClassid(handle)}`)
    let parent = handleOf(spec.parent, 'parent')
    if (spec.root === true) parent = TC_H_ROOT
    // An htb class at the top hangs on its qdisc (tc prints it as root).
    if (parent === undefined || parent === TC_H_ROOT) parent = (handle & 0xffff0000) >>> 0
    if (needKind && (parent & 0xffff0000) >>> 0 !== (handle & 0xffff0000) >>> 0)
      throw fail(`parent ${formatClassid(parent)} is not of the class's qdisc ${formatClassid((handle & 0xffff0000) >>> 0)}`)
    if (spec.options !== undefined && (typeof spec.options !== 'object' || spec.options === null || Array.isArray(spec.options)))
      throw fail('options must be an object')
    return { ifindex, handle, parent: needKind ? parent : 0, kind: kind as string | undefined, options: spec.options as Record<string, unknown> | undefined }
  })
}

export class Classes {
  constructor(
    readonly ctx: OpsContext,
    private readonly qdiscs: Qdiscs,
  ) {}

  /** The classes of one link (`tc -s class show dev DEV`), or of every link that has a qdisc. */
  async list(dev?: LinkRef, opts?: CallOptions): Promise<TcClass[]> {
    checkCallOptions(this.ctx, 'tc.classes.list', opts)
    const indexes =
      dev === undefined
        ? [...new Set((await this.qdiscs.list(undefined, opts)).filter((q) => q.handle !== '0:').map((q) => q.ifindex))]
        : [await devIndex(this.ctx, 'tc.classes.list', { dev }, opts)]
    const name = await namer(this.ctx, opts)
    const out: TcClass[] = []
    for (const ifindex of indexes) {
      out.push(
        ...(await this.ctx.sock.dump(
          {
            type: RTM_GETTCLASS,
            operation: 'tc.classes.list',
            body: (w) => writeClass(w, { ifindex, handle: 0, parent: 0 }),
          },
          (m) => (m.type === RTM_NEWTCLASS && m.buf.readInt32LE(m.start + 4) === ifindex ? decodeClass(m, name) : undefined),
          opts,
        )),
      )
    }
    return freeze(out)
  }

  /** `tc class add dev DEV parent P classid X htb rate R ...`. */
  add(spec: ClassSpec, opts?: CallOptions): Promise<void> {
    return this.modify('add', spec, opts)
  }

  /** `tc class replace dev DEV parent P classid X htb rate R ...`. */
  replace(spec: ClassSpec, opts?: CallOptions): Promise<void> {
    return this.modify('replace', spec, opts)
  }

  /** `tc class change dev DEV parent P classid X htb rate R ...`. */
  change(spec: ClassSpec, opts?: CallOptions): Promise<void> {
    return this.modify('change', spec, opts)
  }

  /** `tc class del dev DEV classid X`; a TcClass from list() works. */
  async delete(spec: ClassSpec, opts?: CallOptions): Promise<void> {
    const operation = 'tc.classes.delete'
    const s = specObject(this.ctx, operation, spec, 'class')
    const ifindex = await devIndex(this.ctx, operation, s, opts)
    const c = classWire(this.ctx, operation, s, ifindex, false)
    await this.ctx.sock.request(
      {
        type: RTM_DELTCLASS,
        operation,
        object: `class dev ${String(s.dev ?? ifindex)} classid ${formatClassid(c.handle)}`,
        body: (w) => writeClass(w, c, false),
      },
      opts,
    )
  }

  private async modify(mode: Mode, spec: ClassSpec, opts?: CallOptions): Promise<void> {
    const operation = `tc.classes.${mode}`
    const s = specObject(this.ctx, operation, spec, 'class')
    const ifindex = await devIndex(this.ctx, operation, s, opts)
    const c = classWire(this.ctx, operation, s, ifindex, true)
    const object = `class ${c.kind} dev ${String(s.dev ?? ifindex)} classid ${formatClassid(c.handle)}`
    const body = encodedBody(this.ctx, operation, object, (w) => writeClass(w, c))
    await this.ctx.sock.request(
      {
        type: RTM_NEWTCLASS,
        flags: modeFlags('class', mode),
        operation,
        object,
        body,
      },
      opts,
    )
  }
}
