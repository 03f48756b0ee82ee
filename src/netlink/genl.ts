// Generic netlink (NETLINK_GENERIC): the genlmsghdr after the netlink header, and family ids
// resolved by name through the nlctrl family, as `genl ctrl get name NAME` does.
// Constants from <linux/netlink.h> and <linux/genetlink.h>.
import { Attrs, type RawMessage, type Writer } from './codec.js'
import type { CallOptions, NetlinkSocket } from './engine.js'
import { NsnetError } from './errors.js'

export const NETLINK_GENERIC = 16
export const GENL_HDRLEN = 4
export const GENL_ID_CTRL = 0x10
const CTRL_CMD_GETFAMILY = 3
const CTRL_ATTR_FAMILY_ID = 1
const CTRL_ATTR_FAMILY_NAME = 2
const CTRL_ATTR_VERSION = 3
const CTRL_ATTR_MAXATTR = 5

// No registerMessageType: family ids share numbers with rtnetlink types (0x10 is RTM_NEWLINK).

export interface GenlFamily {
  readonly name: string
  readonly id: number
  readonly version: number
  readonly maxAttr: number
}

/** Writes the genlmsghdr: command, version, two reserved bytes. */
export function genlHeader(w: Writer, cmd: number, version: number): void {
  w.u8(cmd).u8(version).u16(0)
}

/** The attributes after a generic netlink message's genlmsghdr. */
export function genlAttrs(m: RawMessage, maxType: number): Attrs {
  return new Attrs(m.buf, m.start + GENL_HDRLEN, m.end, maxType)
}

/** The command byte of a generic netlink message. */
export function genlCommand(m: RawMessage): number {
  return m.buf[m.start]!
}

const cache = new WeakMap<NetlinkSocket, Map<string, Promise<GenlFamily>>>()

/**
 * Resolves a family (`ethtool`, `nlctrl`...) to its id with CTRL_CMD_GETFAMILY, once per socket.
 * A family the kernel lacks is EUNSUPPORTED.
 */
export function resolveFamily(sock: NetlinkSocket, name: string, opts?: CallOptions): Promise<GenlFamily> {
  let bySock = cache.get(sock)
  if (!bySock) cache.set(sock, (bySock = new Map()))
  let p = bySock.get(name)
  if (!p) {
    p = lookup(sock, name, opts)
    bySock.set(name, p)
    p.catch(() => bySock!.delete(name))
  }
  return p
}

async function lookup(sock: NetlinkSocket, name: string, opts?: CallOptions): Promise<GenlFamily> {
  let replies: RawMessage[]
  try {
    replies = await sock.request(
      {
        type: GENL_ID_CTRL,
        expectsReply: true,
        operation: 'CTRL_CMD_GETFAMILY',
        object: `genl family ${name}`,
        body: (w) => {
          genlHeader(w, CTRL_CMD_GETFAMILY, 1)
          w.attrStr(CTRL_ATTR_FAMILY_NAME, name)
        },
      },
      opts,
    )
  } catch (e) {
    if (e instanceof NsnetError && e.code === 'ENOENT') {
      throw new NsnetError(`the kernel has no generic netlink family "${name}"`, {
        code: 'EUNSUPPORTED',
        operation: 'CTRL_CMD_GETFAMILY',
        object: `genl family ${name}`,
        namespace: sock.namespace,
        hint: name === 'ethtool' ? 'ethtool netlink needs Linux 5.6 or newer with CONFIG_ETHTOOL_NETLINK' : undefined,
      })
    }
    throw e
  }
  const m = replies[0]
  if (!m) throw new NsnetError(`nlctrl sent no answer for family ${name}`, { code: 'EDECODE', operation: 'CTRL_CMD_GETFAMILY', namespace: sock.namespace })
  const a = genlAttrs(m, CTRL_ATTR_MAXATTR)
  const id = a.u16(CTRL_ATTR_FAMILY_ID)
  if (id === undefined)
    throw new NsnetError(`nlctrl answer for ${name} has no family id`, { code: 'EDECODE', operation: 'CTRL_CMD_GETFAMILY', namespace: sock.namespace })
  return Object.freeze({ name, id, version: a.u32(CTRL_ATTR_VERSION) ?? 1, maxAttr: a.u32(CTRL_ATTR_MAXATTR) ?? 0 })
}
