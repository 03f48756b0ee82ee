// Network devices: `ip link show/add/set/delete`, plus waitUp() for harnesses.
import { forEachAttr, type RawMessage, readCString } from '../../netlink/codec.js'
import { NLM_F_CREATE, NLM_F_EXCL } from '../../netlink/constants.js'
import type { CallOptions } from '../../netlink/engine.js'
import { type ErrorContext, isNsnetError, NsnetError } from '../../netlink/errors.js'
import { pollWithBackoff } from '../../util/poll.js'
import { type LinkRef, linkIndex, type OpsContext } from '../context.js'
import { type NamespaceRef, type OpenNamespace, openNamespace } from '../netns-ref.js'
import { IFINFOMSG_LEN, RTM_DELLINK, RTM_GETLINK, RTM_NEWLINK } from '../rtnl.js'
import { SpecCheck } from '../spec-check.js'
import { IFF_UP, IFLA_IFNAME, IFLA_INFO_KIND, IFLA_LINKINFO, IFLA_MASTER, writeAlias, writeIfinfomsg } from './attrs.js'
import { decodeLinkObject, freezeLink, markParentDown } from './decode.js'
import { checkTarget, planAdd, planSet, type Target, writeAdd, writeSet, writeTarget } from './encode.js'
import { checkKindChange, explainKindChange, hasKindChange } from './kind-change.js'
import { kindCodec, nameOfIndex, type Resolved } from './kinds/index.js'
import { type LinkStats64, linkStats } from './stats.js'
import type { Link, LinkChanges, LinkFilter, LinkSpec, LinkTarget, WaitUpOptions } from './types.js'

export { decodeLink, linkFlagNames } from './decode.js'
export type * from './types.js'

const IFLA_EXT_MASK = 29
const IFLA_NUM_TX_QUEUES = 31
const EOPNOTSUPP = 95

export class Links {
  constructor(readonly ctx: OpsContext) {}

  /**
   * Every link in this namespace (`ip -d link show`), or those of one kind and/or enslaved
   * to one master (`ip -d link show type bridge master br0`). The kernel filters the dump;
   * the result is checked again here because a kind it does not know filters nothing.
   */
  async list(filter: LinkFilter = {}, opts?: CallOptions): Promise<Link[]> {
    const c = new SpecCheck({ operation: 'links.list', namespace: this.ctx.namespace })
    c.only(c.object(filter, 'filter'), new Set(['kind', 'master']), 'filter')
    c.options(opts)
    if (filter.kind !== undefined) c.str(filter.kind, 'filter.kind', 32)
    const masterIndex =
      filter.master === undefined ? undefined : (await this.resolveLinks({ master: c.linkRef(filter.master, 'filter.master') }, c.ctx, opts)).master!
    const msgs = await this.ctx.sock.dump(
      {
        type: RTM_GETLINK,
        operation: 'links.list',
        body: (w) => {
          writeIfinfomsg(w)
          w.attrU32(IFLA_EXT_MASK, 0) // statistics included: every Link carries stats64
          if (masterIndex !== undefined) w.attrU32(IFLA_MASTER, masterIndex)
          if (filter.kind !== undefined) {
            const li = w.beginNested(IFLA_LINKINFO)
            w.attrBytes(IFLA_INFO_KIND, Buffer.from(filter.kind))
            w.endNested(li)
          }
        },
      },
      (m) => (m.type === RTM_NEWLINK ? m : undefined),
      opts,
    )
    // Names and admin state of every link first, so master/parent names and M-DOWN resolve.
    const names = new Map<number, string>()
    const up = new Map<number, boolean>()
    for (const m of msgs) noteLink(m, names, up)
    // A filtered dump leaves out links the others name (the master, a parent): look those up.
    if (filter.kind !== undefined || masterIndex !== undefined) {
      const missing = new Set<number>()
      const lookup = recordingNames(missing, names)
      for (const m of msgs) decodeLinkObject(m, lookup)
      if (missing.size) await this.lookUp(missing, names, up, 'links.list', opts)
    }
    const out: Link[] = []
    for (const m of msgs) {
      const o = decodeLinkObject(m, names)
      if (filter.kind !== undefined && o.kind !== filter.kind) continue
      if (masterIndex !== undefined && o.master !== nameOfIndex(names, masterIndex)) continue
      if (o.link !== undefined) markParentDown(o, up.get(o.link_index!))
      out.push(freezeLink(o))
    }
    return out
  }

  /** One link's counters (`ip -s -s -j link show dev NAME` stats64) by one small RTM_GETSTATS. */
  async stats(link: LinkRef, opts?: CallOptions): Promise<LinkStats64> {
    new SpecCheck({ operation: 'links.stats', namespace: this.ctx.namespace }).options(opts)
    return linkStats(this.ctx, link, opts)
  }

  /** One link by name, ifindex or Link (`ip -d link show dev NAME`); ENODEV when absent. */
  async get(target: LinkTarget, opts?: CallOptions): Promise<Link> {
    const c = new SpecCheck({ operation: 'links.get', namespace: this.ctx.namespace })
    const t = checkTarget(target, c)
    c.options(opts)
    const m = await this.fetch(t, 'links.get', opts)
    // Decode once to learn which other links it names, look those up, decode again with names.
    const asked = new Set<number>()
    decodeLinkObject(m, recordingNames(asked))
    const names = new Map<number, string>()
    const up = new Map<number, boolean>()
    await this.lookUp(asked, names, up, 'links.get', opts)
    const o = decodeLinkObject(m, names)
    if (o.link !== undefined) markParentDown(o, up.get(o.link_index!))
    return freezeLink(o)
  }

  /**
   * Creates a link (`ip link add NAME [options] type KIND [kind options]`). A Link from
   * list() is accepted too and recreated with its kind, options and parent. Kinds the
   * kernel lacks fail with EUNSUPPORTED ("kernel does not support link kind X").
   */
  async add(spec: LinkSpec | Link, opts?: CallOptions): Promise<void> {
    const plan = planAdd(spec, this.ctx.namespace)
    new SpecCheck(plan.ctx).options(opts)
    const links = await this.resolveLinks(plan.linkRefs, plan.ctx, opts)
    await this.withNamespaces(plan.namespaces, plan.ctx, async (namespaces) => {
      const r: Resolved = { links, namespaces }
      try {
        await this.ctx.sock.request(
          {
            type: RTM_NEWLINK,
            flags: NLM_F_CREATE | NLM_F_EXCL,
            operation: 'links.add',
            object: plan.ctx.object,
            body: (w) => writeAdd(w, plan, r),
          },
          opts,
        )
      } catch (e) {
        throw await this.explainAddError(e, plan.kind, plan.name, plan.spec, opts)
      }
    })
    // The kernel applies IFLA_IFALIAS only when changing a link, never on creation (ip's
    // `link add ... alias X` silently loses it), so set it now; undo the add if that fails.
    if (plan.spec.alias !== undefined) {
      const t: Target = { name: plan.name, object: plan.ctx.object! }
      try {
        await this.ctx.sock.request(
          {
            type: RTM_NEWLINK,
            operation: 'links.add',
            object: plan.ctx.object,
            body: (w) => {
              writeTarget(w, t)
              writeAlias(w, plan.spec.alias as string)
            },
          },
          opts,
        )
      } catch (e) {
        await this.delete(plan.name).catch(() => {})
        throw e
      }
    }
  }

  /**
   * Changes a link (`ip link set dev NAME up|down name NEW mtu N address MAC alias TEXT
   * master M|nomaster txqueuelen N netns NS ...`). `undefined` fields stay as they are.
   * Moving to a namespace opens /run/netns/NAME and passes its fd (IFLA_NET_NS_FD).
   */
  async set(target: LinkTarget, changes: LinkChanges, opts?: CallOptions): Promise<void> {
    const plan = planSet(target, changes, this.ctx.namespace)
    new SpecCheck(plan.ctx).options(opts)
    if (plan.empty) {
      await this.fetch(plan.target, 'links.set', opts) // nothing to change, but the link must exist
      return
    }
    // Kind options are checked against the link's kind, which one GET tells (nothing is changed yet).
    const kind = changes.info === undefined ? undefined : decodeLinkObject(await this.fetch(plan.target, 'links.set', opts)).kind
    if (changes.info !== undefined) checkKindChange(changes, kind, new SpecCheck(plan.ctx))
    const index = plan.target.index ?? (plan.needsIndex ? await linkIndex(this.ctx, plan.target.name!, 'links.set', opts) : undefined)
    const links = await this.resolveLinks(plan.linkRefs, plan.ctx, opts)
    await this.withNamespaces(plan.namespaces, plan.ctx, async (namespaces) => {
      try {
        await this.ctx.sock.request(
          {
            type: RTM_NEWLINK,
            operation: 'links.set',
            object: plan.ctx.object,
            body: (w) => writeSet(w, plan, index, { links, namespaces }, kind),
          },
          opts,
        )
      } catch (e0) {
        const e = hasKindChange(changes) ? explainKindChange(e0, changes, kind) : e0
        if (changes.namespace !== undefined && isNsnetError(e, 'EINVAL')) {
          throw withHint(e, 'some devices cannot leave their namespace (bridges, lo, vrf); create one in the target namespace instead: add({ ..., namespace })')
        }
        throw this.explainTargetError(
          e,
          plan.target,
          plan.ctx,
          changes.namespace === undefined ? undefined : `the target namespace may already hold a link named ${changes.name ?? plan.target.name ?? 'like it'}`,
        )
      }
    })
  }

  /** Deletes a link by name, ifindex or Link from list() (`ip link delete dev NAME`). */
  async delete(target: LinkTarget, opts?: CallOptions): Promise<void> {
    const ctx: ErrorContext = { operation: 'links.delete', namespace: this.ctx.namespace }
    const c = new SpecCheck(ctx)
    const t = checkTarget(target, c)
    c.options(opts)
    try {
      await this.ctx.sock.request({ type: RTM_DELLINK, operation: 'links.delete', object: t.object, body: (w) => writeTarget(w, t) }, opts)
    } catch (e) {
      throw this.explainTargetError(e, t, { ...ctx, object: t.object })
    }
  }

  /**
   * Resolves when the link is operationally up: operstate UP, or UNKNOWN with UP and
   * LOWER_UP (devices without carrier detection, such as lo or dummy). Polls with a backoff
   * from 1 ms to 50 ms; rejects with ETIMEDOUT naming the link and its last state.
   * (No `ip` equivalent; what `ip link show` shows as `state UP`.)
   */
  async waitUp(target: LinkTarget, opts: WaitUpOptions = {}): Promise<Link> {
    const ctx: ErrorContext = { operation: 'links.waitUp', namespace: this.ctx.namespace }
    const c = new SpecCheck(ctx)
    const t = checkTarget(target, c)
    c.options(opts)
    const timeoutMs = opts.timeoutMs ?? 5000
    let last = 'not checked yet'
    const up = await pollWithBackoff(
      async (msLeft) => {
        try {
          const l = decodeLinkObject(await this.fetch(t, 'links.waitUp', { signal: opts.signal, timeoutMs: msLeft }))
          if (isOperUp(l)) return l
          last = `operstate ${l.operstate ?? '?'}, flags ${l.flags.join(',') || 'none'}`
        } catch (e) {
          if (isNsnetError(e, 'ENODEV')) last = 'it does not exist'
          else if (!isNsnetError(e, 'ETIMEDOUT')) throw e
        }
        return undefined
      },
      { timeoutMs, firstMs: 1, maxMs: 50, signal: opts.signal, where: { ...ctx, object: t.object } },
    )
    if (up) return this.get(up.ifindex, { signal: opts.signal })
    throw new NsnetError(`not up after ${timeoutMs} ms: ${last}`, { ...ctx, object: t.object, code: 'ETIMEDOUT' })
  }

  /**
   * Whether this kernel can create links of `kind` (no `ip` equivalent; `ip link add ...
   * type KIND` answers "Unknown device type"). Asks with a create request the kernel must
   * refuse (zero TX queues) after it has looked the kind up: EOPNOTSUPP means the kind is
   * missing, any other answer means it exists. Nothing is ever created. Kinds whose driver
   * refuses rtnetlink creation with EOPNOTSUPP (tun) read as unsupported too.
   */
  async supportsKind(kind: string, opts?: CallOptions): Promise<boolean> {
    const c = new SpecCheck({ operation: 'links.supportsKind', namespace: this.ctx.namespace, object: `link kind ${kind}` })
    if (typeof kind !== 'string' || !/^[a-z0-9_-]{1,32}$/i.test(kind)) c.fail(`not a link kind name: ${JSON.stringify(kind)}`)
    c.options(opts)
    try {
      await this.ctx.sock.request(
        {
          type: RTM_NEWLINK,
          flags: NLM_F_CREATE | NLM_F_EXCL,
          operation: 'links.supportsKind',
          object: `link kind ${kind}`,
          body: (w) => {
            writeIfinfomsg(w)
            // Two independent reasons to refuse before registering anything: no queues, and a
            // name with a '/', which dev_valid_name() rejects.
            w.attrU32(IFLA_NUM_TX_QUEUES, 0)
            w.attrStr(IFLA_IFNAME, 'nsnet/probe')
            const li = w.beginNested(IFLA_LINKINFO)
            w.attrBytes(IFLA_INFO_KIND, Buffer.from(kind))
            w.endNested(li)
          },
        },
        opts,
      )
      // Should not happen; if a kernel ever accepts it, the kind certainly exists.
      return true
    } catch (e) {
      if (isNsnetError(e) && e.errno === EOPNOTSUPP) return false
      if (isNsnetError(e) && e.errno !== undefined) return true
      throw e
    }
  }

  // ---------- helpers ----------

  /** Name and admin state of each index (one GET each, in parallel); a link gone meanwhile keeps `if<N>`. */
  private async lookUp(indexes: Iterable<number>, names: Map<number, string>, up: Map<number, boolean>, operation: string, opts?: CallOptions): Promise<void> {
    await Promise.all(
      [...indexes].map(async (index) => {
        try {
          noteLink(await this.fetch({ index, object: `link #${index}` }, operation, opts), names, up)
        } catch (e) {
          if (!isNsnetError(e, 'ENODEV')) throw e
        }
      }),
    )
  }

  /** One RTM_GETLINK; ENODEV names the link and namespace. */
  private async fetch(t: Target, operation: string, opts?: CallOptions): Promise<RawMessage> {
    let replies: RawMessage[]
    try {
      replies = await this.ctx.sock.request(
        {
          type: RTM_GETLINK,
          expectsReply: true,
          shareable: true,
          operation,
          object: t.object,
          body: (w) => {
            writeTarget(w, t)
            w.attrU32(IFLA_EXT_MASK, 0)
          },
        },
        opts,
      )
    } catch (e) {
      throw this.explainTargetError(e, t, { operation, object: t.object, namespace: this.ctx.namespace })
    }
    const m = replies.find((r) => r.type === RTM_NEWLINK)
    if (!m) throw new NsnetError('kernel sent no link', { code: 'EDECODE', operation, object: t.object, namespace: this.ctx.namespace })
    return m
  }

  /** Resolves link names to indexes (one GET each, in parallel); numbers pass through. */
  private async resolveLinks(refs: Readonly<Record<string, LinkRef>>, ctx: ErrorContext, opts?: CallOptions): Promise<Record<string, number>> {
    const out: Record<string, number> = {}
    await Promise.all(
      Object.entries(refs).map(async ([key, ref]) => {
        try {
          out[key] = await linkIndex(this.ctx, ref, ctx.operation!, opts)
        } catch (e) {
          if (isNsnetError(e, 'ENODEV')) {
            throw new NsnetError(`${key} "${ref}" does not exist`, {
              code: 'ENODEV',
              errno: 19,
              operation: ctx.operation,
              object: ctx.object,
              namespace: ctx.namespace,
              hint: e.hint,
            })
          }
          throw e
        }
      }),
    )
    return out
  }

  /** Opens the namespaces a request names, runs `fn`, and closes them again, also on error. */
  private async withNamespaces<T>(
    refs: Readonly<Record<string, NamespaceRef>>,
    ctx: ErrorContext,
    fn: (ns: Record<string, OpenNamespace>) => Promise<T>,
  ): Promise<T> {
    const opened: Record<string, OpenNamespace> = {}
    try {
      for (const [key, ref] of Object.entries(refs)) opened[key] = openNamespace(ref, ctx)
      return await fn(opened)
    } finally {
      for (const ns of Object.values(opened)) ns.close()
    }
  }

  /** ENODEV for a named target says which name; other errors pass through with a hint. */
  private explainTargetError(e: unknown, t: Target, ctx: ErrorContext, existsHint?: string): unknown {
    if (!isNsnetError(e)) return e
    if (e.code === 'ENODEV') {
      return new NsnetError(t.name !== undefined ? `no link named "${t.name}"` : `no link with index ${t.index}`, {
        code: 'ENODEV',
        errno: e.errno,
        operation: ctx.operation,
        object: ctx.object,
        namespace: ctx.namespace,
        hint: ctx.namespace ? `it is not in netns ${ctx.namespace}` : 'it is not in this network namespace',
      })
    }
    if (e.code === 'EEXIST' && existsHint) return withHint(e, existsHint)
    return e
  }

  /** EEXIST gets a hint that fits links; EOPNOTSUPP becomes EUNSUPPORTED when the kind is missing. */
  private async explainAddError(e: unknown, kind: string, name: string, spec: Readonly<Record<string, unknown>>, opts?: CallOptions): Promise<unknown> {
    if (!isNsnetError(e)) return e
    if (e.code === 'EEXIST') {
      const peer = kind === 'veth' ? (spec.peer as { name: string }).name : undefined
      return withHint(
        e,
        peer
          ? `a link named ${name} or ${peer} already exists (the peer in ${describeNs((spec.peer as { namespace?: unknown }).namespace)})`
          : `a link named ${name} already exists in ${describeNs(spec.namespace)}`,
      )
    }
    if (e.errno === EOPNOTSUPP && kindCodec(kind)) {
      // The same errno means "no such kind" and "this kind, but not with that option".
      if (await this.supportsKind(kind, opts).catch(() => true)) {
        return withHint(e, `the kernel has ${kind} links but refuses one of the options given (a feature compiled out?)`)
      }
      return new NsnetError(`kernel does not support link kind ${kind}`, {
        code: 'EUNSUPPORTED',
        errno: EOPNOTSUPP,
        operation: e.operation,
        object: e.object,
        namespace: e.namespace,
        hint: `the ${kind} driver is not built into this kernel and no module was loaded`,
      })
    }
    return e
  }
}

function withHint(e: NsnetError, hint: string): NsnetError {
  return new NsnetError(e.summary, {
    code: e.code,
    errno: e.errno,
    operation: e.operation,
    object: e.object,
    namespace: e.namespace,
    hint,
    index: e.index,
    cause: e.cause,
  })
}

function describeNs(ns: unknown): string {
  if (ns === undefined) return 'this namespace'
  if (typeof ns === 'string') return `netns ${ns}`
  return `netns ${JSON.stringify(ns)}`
}

function isOperUp(l: Link): boolean {
  if (l.operstate === 'UP') return true
  return l.operstate === 'UNKNOWN' && l.flags.includes('UP') && l.flags.includes('LOWER_UP')
}

/** IFLA_IFNAME alone, without indexing every attribute. */
function ifnameOf(m: RawMessage): string | undefined {
  let name: string | undefined
  forEachAttr(m.buf, m.start + IFINFOMSG_LEN, m.end, (type, off, len) => {
    if (type === IFLA_IFNAME && name === undefined) name = readCString(m.buf, off, off + len)
  })
  return name
}

/** Records a link message's name and whether it is up. */
function noteLink(m: RawMessage, names: Map<number, string>, up: Map<number, boolean>): void {
  const index = m.buf.readInt32LE(m.start + 4)
  up.set(index, (m.buf.readUInt32LE(m.start + 8) & IFF_UP) !== 0)
  const name = ifnameOf(m)
  if (name !== undefined) names.set(index, name)
}

/** A names map that answers from `known` (if any) and remembers what it could not answer. */
function recordingNames(missing: Set<number>, known?: ReadonlyMap<number, string>): ReadonlyMap<number, string> {
  return {
    get: (k: number) => {
      const v = known?.get(k)
      if (v === undefined) missing.add(k)
      return v
    },
  } as unknown as ReadonlyMap<number, string>
}
