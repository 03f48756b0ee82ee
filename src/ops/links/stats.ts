// Link counters: struct rtnl_link_stats64 (<linux/if_link.h>) as `ip -s -s -j link show` prints
// it under stats64, from IFLA_STATS64 in link dumps or from one RTM_GETSTATS (what links.stats does).
import type { RawMessage } from '../../netlink/codec.js'
import type { CallOptions } from '../../netlink/engine.js'
import { NsnetError } from '../../netlink/errors.js'
import { registerMessageType } from '../../netlink/trace.js'
import { type LinkRef, linkIndex, type OpsContext } from '../context.js'

export const IFLA_STATS64 = 23
export const RTM_NEWSTATS = 92
export const RTM_GETSTATS = 94
const IFLA_STATS_LINK_64 = 1
/** struct if_stats_msg: family, pad, pad, ifindex, filter_mask. */
const IF_STATS_MSG_LEN = 12
registerMessageType(RTM_NEWSTATS, 'RTM_NEWSTATS', IF_STATS_MSG_LEN)
registerMessageType(RTM_GETSTATS, 'RTM_GETSTATS', IF_STATS_MSG_LEN)

export interface LinkRxStats {
  readonly bytes: number
  readonly packets: number
  readonly errors: number
  readonly dropped: number
  readonly over_errors: number
  readonly multicast: number
  readonly length_errors: number
  readonly crc_errors: number
  readonly frame_errors: number
  readonly fifo_errors: number
  readonly missed_errors: number
  /** Packets dropped for want of a protocol handler (ip prints it when not 0). */
  readonly nohandler: number
}

export interface LinkTxStats {
  readonly bytes: number
  readonly packets: number
  readonly errors: number
  readonly dropped: number
  readonly carrier_errors: number
  readonly collisions: number
  readonly aborted_errors: number
  readonly fifo_errors: number
  readonly window_errors: number
  readonly heartbeat_errors: number
}

/** `ip -s -s -j link show` stats64 (carrier_changes is the link's own carrier_changes field). */
export interface LinkStats64 {
  readonly rx: LinkRxStats
  readonly tx: LinkTxStats
}

const STATS64_MIN = 24 * 8 // up to rx_nohandler; newer kernels append more

/** Decodes struct rtnl_link_stats64 at [o, o + len); undefined when too short. */
export function decodeStats64(buf: Buffer, o: number, len: number): LinkStats64 | undefined {
  if (len < STATS64_MIN) return undefined
  const u = (i: number) => buf.readUInt32LE(o + i * 8) + buf.readUInt32LE(o + i * 8 + 4) * 0x1_0000_0000
  return Object.freeze({
    rx: Object.freeze({
      bytes: u(2),
      packets: u(0),
      errors: u(4),
      dropped: u(6),
      over_errors: u(11),
      multicast: u(8),
      length_errors: u(10),
      crc_errors: u(12),
      frame_errors: u(13),
      fifo_errors: u(14),
      missed_errors: u(15),
      nohandler: u(23),
    }),
    tx: Object.freeze({
      bytes: u(3),
      packets: u(1),
      errors: u(5),
      dropped: u(7),
      carrier_errors: u(17),
      collisions: u(9),
      aborted_errors: u(16),
      fifo_errors: u(18),
      window_errors: u(20),
      heartbeat_errors: u(19),
    }),
  })
}

/** One link's counters by RTM_GETSTATS with only IFLA_STATS_LINK_64: a ~200-byte answer, no link attributes. */
export async function linkStats(ctx: OpsContext, link: LinkRef, opts?: CallOptions): Promise<LinkStats64> {
  const operation = 'links.stats'
  const ifindex = await linkIndex(ctx, link, operation, opts)
  const replies: RawMessage[] = await ctx.sock.request(
    {
      type: RTM_GETSTATS,
      expectsReply: true,
      operation,
      object: `link ${String(link)}`,
      body: (w) => {
        w.u8(0)
          .u8(0)
          .u16(0)
          .u32(ifindex)
          .u32(1 << (IFLA_STATS_LINK_64 - 1))
      },
    },
    opts,
  )
  const m = replies.find((r) => r.type === RTM_NEWSTATS)
  let stats: LinkStats64 | undefined
  if (m) {
    // One attribute after if_stats_msg: IFLA_STATS_LINK_64.
    const at = m.start + IF_STATS_MSG_LEN
    if (at + 4 <= m.end && (m.buf.readUInt16LE(at + 2) & 0x3fff) === IFLA_STATS_LINK_64) {
      stats = decodeStats64(m.buf, at + 4, m.buf.readUInt16LE(at) - 4)
    }
  }
  if (!stats) throw new NsnetError('kernel sent no link statistics', { code: 'EDECODE', operation, object: `link ${String(link)}`, namespace: ctx.namespace })
  return stats
}
