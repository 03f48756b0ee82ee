// What every ops module needs: the socket, the namespace name for errors,
// and link name <-> index resolution (the one lookup every object type shares).
import { Attrs, type RawMessage } from '../netlink/codec.js'
import type { CallOptions, NetlinkSocket } from '../netlink/engine.js'
import { isNsnetError, NsnetError } from '../netlink/errors.js'
import { AF_UNSPEC, IFINFOMSG_LEN, RTM_GETLINK } from './rtnl.js'
import { SpecCheck } from './spec-check.js'

export interface OpsContext {
  readonly sock: NetlinkSocket
  /** Namespace name for errors; undefined is the caller's own namespace. */
  readonly namespace: string | undefined
}

/** A link named by its name (`veth0`) or its ifindex. */
export type LinkRef = string | number

const IFLA_IFNAME = 3
const IFLA_ALT_IFNAME = 53
const IFNAMSIZ = 16

/** Throws unless `name` is a valid interface name (see SpecCheck.linkName). */
export function checkLinkName(name: unknown, ctx: { readonly namespace?: string }, operation: string, what = 'link name'): string {
  const object = typeof name === 'string' && name.length > 0 ? `link ${name}` : undefined
  return new SpecCheck({ operation, object, namespace: ctx.namespace }).linkName(name, what)
}

/**
 * Resolves a link reference to its ifindex. Numbers pass through unchecked (the kernel
 * checks them); names cost one RTM_GETLINK.
 */
export async function linkIndex(ctx: OpsContext, link: LinkRef, operation: string, opts?: CallOptions): Promise<number> {
  if (typeof link === 'number') return new SpecCheck({ operation, namespace: ctx.namespace }).int(link, 'link index', 1, 0x7fffffff)
  const name = checkLinkName(link, ctx, operation)
  let replies: RawMessage[]
  try {
    replies = await ctx.sock.request(
      {
        type: RTM_GETLINK,
        expectsReply: true,
        // Concurrent calls naming the same link (100,000 routes.add via one dev) ask once.
        shareable: true,
        object: `link ${name}`,
        body: (w) => {
          w.u8(AF_UNSPEC).u8(0).u16(0).s32(0).u32(0).u32(0)
          w.attrStr(Buffer.byteLength(name) < IFNAMSIZ ? IFLA_IFNAME : IFLA_ALT_IFNAME, name)
        },
      },
      opts,
    )
  } catch (e) {
    if (isNsnetError(e, 'ENODEV')) {
      throw new NsnetError(`no link named "${name}"`, {
        code: 'ENODEV',
        errno: 19,
        operation,
        object: `link ${name}`,
        namespace: ctx.namespace,
        hint: ctx.namespace ? `it is not in netns ${ctx.namespace}` : 'it is not in this network namespace',
      })
    }
    throw e
  }
  const m = replies[0]
  if (!m) throw new NsnetError(`kernel sent no link for "${name}"`, { code: 'EDECODE', operation, namespace: ctx.namespace })
  return m.buf.readInt32LE(m.start + 4)
}

/** ifindex → name for every link, from one dump; used to put names into decoded objects. */
export async function linkNames(ctx: OpsContext, opts?: CallOptions): Promise<Map<number, string>> {
  const pairs = await ctx.sock.dump(
    {
      type: RTM_GETLINK,
      body: (w) => {
        w.u8(AF_UNSPEC).u8(0).u16(0).s32(0).u32(0).u32(0)
      },
    },
    (m) => {
      const index = m.buf.readInt32LE(m.start + 4)
      const name = new Attrs(m.buf, m.start + IFINFOMSG_LEN, m.end, IFLA_IFNAME).str(IFLA_IFNAME)
      return [index, name ?? `if${index}`] as const
    },
    opts,
  )
  return new Map(pairs)
}

/** Deep-freezes a decoded object so callers cannot change what list() returned. */
export function freeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    for (const v of Object.values(o)) if (v && typeof v === 'object') freeze(v)
    Object.freeze(o)
  }
  return o
}
