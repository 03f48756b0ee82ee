// Route operations: what `ip route` and `ip -batch` do with routes.
import type { RawMessage, Writer } from '../../netlink/codec.js'
import type { CallOptions } from '../../netlink/engine.js'
import { NsnetError } from '../../netlink/errors.js'
import { linkIndex, linkNames, type OpsContext } from '../context.js'
import { AF_INET, AF_INET6, AF_UNSPEC, afOf, RTM_GETROUTE, RTM_NEWROUTE } from '../rtnl.js'
import { SpecCheck, show } from '../spec-check.js'
import { decodeRoute } from './decode.js'
import { encodeRouteBatch, encodeRoutes, ROUTE_MODES } from './encode.js'
import { matchRoute, routeFilter } from './filter.js'
import { checkRouteQuery, writeRouteQuery } from './get.js'
import { RT_TABLE_COMPAT } from './tables.js'
import type { Route, RouteBatchOptions, RouteBatchResult, RouteFilter, RouteGetOptions, RouteSpec } from './types.js'

export type * from './types.js'
export { decodeRoute }

type Mode = keyof typeof ROUTE_MODES

function rtmsgOnly(af: number) {
  return (w: Writer) => {
    w.u8(af).u8(0).u8(0).u8(0).u8(0).u8(0).u8(0).u8(0).u32(0)
  }
}

export class Routes {
  constructor(readonly ctx: OpsContext) {}

  /**
   * The routes of one table (default `main`) or all (`table: 'all'`), as `ip route show [table T]`.
   * Filters run in user space; the kernel is asked only for the family.
   */
  async list(filter: RouteFilter = {}, opts?: CallOptions): Promise<Route[]> {
    const { req, decode, call } = await this.dumpOf(filter, opts, 'routes.list')
    return this.ctx.sock.dump(req, decode, call)
  }

  /**
   * list() as an async iterator (`ip route show`, read as it comes): routes are handed over
   * as each datagram is decoded, so memory does not grow with the table. Ends with EDUMPINTR
   * if the table changed while it was read.
   */
  async *stream(filter: RouteFilter = {}, opts?: CallOptions): AsyncGenerator<Route, void, undefined> {
    const { req, decode, call } = await this.dumpOf(filter, opts, 'routes.stream')
    yield* this.ctx.sock.stream(req, decode, call)
  }

  /** The dump request and decoder that list() and stream() share. */
  private async dumpOf(filter: RouteFilter, opts: CallOptions | undefined, operation: string) {
    const f = routeFilter(filter, { operation, namespace: this.ctx.namespace })
    new SpecCheck({ operation, namespace: this.ctx.namespace }).options(opts)
    const call: CallOptions = opts ?? {}
    // As ip (and addresses, neighbours): a device that does not exist is ENODEV, not [].
    if (typeof f.dev === 'string') await linkIndex(this.ctx, f.dev, operation, call)
    const names = await linkNames(this.ctx, call)
    const af = f.family === undefined ? AF_UNSPEC : afOf(f.family)
    const want = f.table
    // Skip other tables before decoding: the rtmsg byte is exact except for ids above 255.
    const quick = want !== undefined && want < 256 && want !== RT_TABLE_COMPAT && want !== 0
    const decode = (m: RawMessage): Route | undefined => {
      if (m.type !== RTM_NEWROUTE) return undefined
      if (quick && m.buf[m.start + 4] !== want) return undefined
      const fam = m.buf[m.start]
      if (fam !== AF_INET && fam !== AF_INET6) return undefined
      const r = decodeRoute(m, names)
      return (quick && f.onlyTable) || matchRoute(r, f, names) ? r : undefined
    }
    return { req: { type: RTM_GETROUTE, body: rtmsgOnly(af), operation }, decode, call }
  }

  /** The route the kernel would use for `dst`, as `ip route get ADDRESS [from A] [iif D] [oif D] [mark M]`. */
  async get(dst: string, opts: RouteGetOptions = {}): Promise<Route> {
    const operation = 'routes.get'
    const where = { operation, namespace: this.ctx.namespace, object: `route to ${dst}` }
    const q = checkRouteQuery(dst, opts, where)
    const iif = opts.iif === undefined ? undefined : await linkIndex(this.ctx, opts.iif, operation, opts)
    const oif = opts.oif === undefined ? undefined : await linkIndex(this.ctx, opts.oif, operation, opts)
    const replies = await this.ctx.sock.request(
      {
        type: RTM_GETROUTE,
        expectsReply: true,
        operation,
        object: where.object,
        body: (w) => writeRouteQuery(w, q, iif, oif),
      },
      opts,
    )
    const m = replies.find((r) => r.type === RTM_NEWROUTE)
    if (!m) throw new NsnetError('kernel sent no route', { code: 'EDECODE', ...where })
    return decodeRoute(m, await linkNames(this.ctx, opts))
  }

  /** Adds a route; fails with EEXIST if it exists. `ip route add ...` */
  async add(route: RouteSpec, opts?: CallOptions): Promise<void> {
    await this.one('add', route, opts)
  }

  /** Adds or overwrites the route with the same dst/table/tos/metric. `ip route replace ...` */
  async replace(route: RouteSpec, opts?: CallOptions): Promise<void> {
    await this.one('replace', route, opts)
  }

  /** Adds a route after existing ones with the same key (IPv6: adds a path). `ip route append ...` */
  async append(route: RouteSpec, opts?: CallOptions): Promise<void> {
    await this.one('append', route, opts)
  }

  /**
   * Deletes a route; accepts any object list() returned. Fields left out match anything,
   * as with `ip route del ...`.
   */
  async delete(route: RouteSpec, opts?: CallOptions): Promise<void> {
    await this.one('delete', route, opts)
  }

  /**
   * Adds many routes in few datagrams without per-route ACKs, as `ip -batch` with `route add` lines
   * but without waiting for each answer. Every route is checked before anything is sent; kernel
   * failures come back together as a BatchError whose failures carry their `index`.
   */
  addMany(routes: readonly RouteSpec[], opts: RouteBatchOptions & { replace?: boolean } = {}): Promise<RouteBatchResult> {
    return this.many(opts?.replace ? 'replace' : 'add', routes, opts)
  }

  /** Deletes many routes the way addMany() adds them (`ip -batch` with `route del` lines). */
  deleteMany(routes: readonly RouteSpec[], opts: RouteBatchOptions = {}): Promise<RouteBatchResult> {
    return this.many('delete', routes, opts)
  }

  private async one(mode: Mode, spec: RouteSpec, opts?: CallOptions): Promise<void> {
    new SpecCheck({ operation: ROUTE_MODES[mode].operation, namespace: this.ctx.namespace }).options(opts)
    const [m] = await encodeRoutes(this.ctx, [spec], ROUTE_MODES[mode], opts)
    await this.ctx.sock.request(m!, opts)
  }

  private async many(mode: Mode, specs: readonly RouteSpec[], opts: RouteBatchOptions): Promise<RouteBatchResult> {
    const m = ROUTE_MODES[mode]
    const c: SpecCheck = new SpecCheck({ operation: m.operation, namespace: this.ctx.namespace })
    if (!Array.isArray(specs)) c.fail(`routes must be an array of routes, got ${show(specs)}`)
    const o = c.options(opts, 'options', mode === 'delete' ? ['datagramBytes'] : ['datagramBytes', 'replace'])
    if (o.datagramBytes !== undefined) c.int(o.datagramBytes, 'options.datagramBytes', 1024, 1 << 24)
    if (o.replace !== undefined) c.bool(o.replace, 'options.replace')
    return this.ctx.sock.batchEncoded(await encodeRouteBatch(this.ctx, specs, m, opts), opts)
  }
}
