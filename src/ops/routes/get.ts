// The question `ip route get` asks: RTM_GETROUTE for one destination, checked before sending.
import { parseIP, type Writer } from '../../netlink/codec.js'
import { invalidArgument, type ErrorContext } from '../../netlink/errors.js'
import { afOf } from '../rtnl.js'
import { RTA_DST, RTA_IIF, RTA_MARK, RTA_OIF, RTA_SRC, RTM_F_FIB_MATCH, RTM_F_LOOKUP_TABLE } from './attrs.js'
import type { RouteGetOptions } from './types.js'

const OPTION_KEYS = new Set(['from', 'iif', 'oif', 'mark', 'tos', 'fibmatch', 'timeoutMs', 'signal'])

export interface RouteQuery {
  readonly family: 4 | 6
  readonly to: Uint8Array
  readonly from?: Uint8Array
  readonly tos: number
  readonly mark?: number
  readonly fibmatch: boolean
}

/** Checks the destination and options; throws EINVAL_ARGUMENT naming `where`. */
export function checkRouteQuery(dst: unknown, opts: RouteGetOptions, where: ErrorContext): RouteQuery {
  const to = typeof dst === 'string' ? parseIP(dst) : undefined
  if (!to) throw invalidArgument(`destination ${JSON.stringify(dst)} is not an IPv4 or IPv6 address`, where)
  if (!opts || typeof opts !== 'object') throw invalidArgument('options must be an object', where)
  for (const k of Object.keys(opts)) if (!OPTION_KEYS.has(k)) throw invalidArgument(`unknown route lookup option ${JSON.stringify(k)}`, where)
  const from = opts.from === undefined ? undefined : parseIP(opts.from)
  if (opts.from !== undefined && (!from || from.family !== to.family)) {
    throw invalidArgument(`from ${JSON.stringify(opts.from)} is not an IPv${to.family} address`, where)
  }
  if (opts.mark !== undefined && !(Number.isInteger(opts.mark) && opts.mark >= 0 && opts.mark <= 0xffffffff)) {
    throw invalidArgument(`mark must be an integer 0..2^32-1, got ${opts.mark}`, where)
  }
  if (opts.tos !== undefined && !(Number.isInteger(opts.tos) && opts.tos >= 0 && opts.tos <= 255)) {
    throw invalidArgument(`tos must be an integer 0..255, got ${opts.tos}`, where)
  }
  return { family: to.family, to: to.bytes, from: from?.bytes, tos: opts.tos ?? 0, mark: opts.mark, fibmatch: opts.fibmatch === true }
}

/**
 * rtmsg and attributes as `ip route get` sends them. IPv4 needs RTM_F_LOOKUP_TABLE for the
 * answer to name the table that matched; IPv6 always does, and ip leaves the flag off there.
 */
export function writeRouteQuery(w: Writer, q: RouteQuery, iif?: number, oif?: number): void {
  const bits = q.family === 4 ? 32 : 128
  w.u8(afOf(q.family)).u8(bits).u8(q.from ? bits : 0).u8(q.tos).u8(0).u8(0).u8(0).u8(0)
  w.u32((q.family === 4 ? RTM_F_LOOKUP_TABLE : 0) | (q.fibmatch ? RTM_F_FIB_MATCH : 0))
  w.attrBytes(RTA_DST, q.to)
  if (q.from) w.attrBytes(RTA_SRC, q.from)
  if (iif !== undefined) w.attrU32(RTA_IIF, iif)
  if (oif !== undefined) w.attrU32(RTA_OIF, oif)
  if (q.mark !== undefined) w.attrU32(RTA_MARK, q.mark)
}
