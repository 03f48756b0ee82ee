// The question `ip route get` asks: RTM_GETROUTE for one destination, checked before sending.
import type { Writer } from '../../netlink/codec.js'
import type { ErrorContext } from '../../netlink/errors.js'
import { afOf } from '../rtnl.js'
import { SpecCheck } from '../spec-check.js'
import { RTA_DST, RTA_IIF, RTA_MARK, RTA_OIF, RTA_SRC, RTM_F_FIB_MATCH, RTM_F_LOOKUP_TABLE } from './attrs.js'
import type { RouteGetOptions } from './types.js'

const OPTION_KEYS = ['from', 'iif', 'oif', 'mark', 'tos', 'fibmatch']

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
  const c: SpecCheck = new SpecCheck(where)
  const to = c.ip(dst, 'destination')
  const o = c.options(opts, 'options', OPTION_KEYS) as RouteGetOptions
  const from = o.from === undefined ? undefined : c.ip(o.from, 'from', to.family)
  if (o.iif !== undefined) c.linkRef(o.iif, 'iif')
  if (o.oif !== undefined) c.linkRef(o.oif, 'oif')
  const mark = o.mark === undefined ? undefined : c.int(o.mark, 'mark', 0, 0xffffffff)
  const tos = o.tos === undefined ? 0 : c.int(o.tos, 'tos', 0, 255)
  const fibmatch = o.fibmatch === undefined ? false : c.bool(o.fibmatch, 'fibmatch')
  return { family: to.family, to: to.bytes, from: from?.bytes, tos, mark, fibmatch }
}

/**
 * rtmsg and attributes as `ip route get` sends them. IPv4 needs RTM_F_LOOKUP_TABLE for the
 * answer to name the table that matched; IPv6 always does, and ip leaves the flag off there.
 */
export function writeRouteQuery(w: Writer, q: RouteQuery, iif?: number, oif?: number): void {
  const bits = q.family === 4 ? 32 : 128
  w.u8(afOf(q.family))
    .u8(bits)
    .u8(q.from ? bits : 0)
    .u8(q.tos)
    .u8(0)
    .u8(0)
    .u8(0)
    .u8(0)
  w.u32((q.family === 4 ? RTM_F_LOOKUP_TABLE : 0) | (q.fibmatch ? RTM_F_FIB_MATCH : 0))
  w.attrBytes(RTA_DST, q.to)
  if (q.from) w.attrBytes(RTA_SRC, q.from)
  if (iif !== undefined) w.attrU32(RTA_IIF, iif)
  if (oif !== undefined) w.attrU32(RTA_OIF, oif)
  if (q.mark !== undefined) w.attrU32(RTA_MARK, q.mark)
}
