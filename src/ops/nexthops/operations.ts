// `rt.nexthops`: what `ip nexthop` does. Routes use these objects with `nhid`.
import type { RawMessage } from '../../netlink/codec.js'
import { NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE } from '../../netlink/constants.js'
import type { CallOptions } from '../../netlink/engine.js'
import { isNsnetError } from '../../netlink/errors.js'
import { type LinkRef, linkIndex, linkNames, type OpsContext } from '../context.js'
import { protocols } from '../routes/tables.js'
import { AF_UNSPEC } from '../rtnl.js'
import { SpecCheck } from '../spec-check.js'
import {
  decodeNexthop,
  encodeNexthop,
  type NexthopObject,
  type NexthopObjectSpec,
  NHA_FDB,
  NHA_GROUPS,
  NHA_ID,
  NHA_MASTER,
  NHA_OIF,
  writeNexthop,
} from './codec.js'
import { RTM_DELNEXTHOP, RTM_GETNEXTHOP, RTM_NEWNEXTHOP } from './wire.js'

export interface NexthopObjectFilter {
  /** `id N`: just that one (ENOENT when it does not exist). */
  readonly id?: number
  /** `dev DEV`: nexthops through this link. */
  readonly dev?: LinkRef
  /** `groups`: only groups. */
  readonly groups?: boolean
  /** `fdb`: only fdb nexthops. */
  readonly fdb?: boolean
  /** `master DEV`: nexthops whose device is enslaved to DEV (a VRF). */
  readonly master?: LinkRef
  /** `protocol P`. */
  readonly protocol?: string | number
}

const FILTER_FIELDS = new Set(['id', 'dev', 'groups', 'fdb', 'master', 'protocol'])

export class Nexthops {
  constructor(readonly ctx: OpsContext) {}

  /** `ip nexthop show [id N] [dev DEV] [groups] [fdb] [master DEV] [protocol P]`. */
  async list(filter: NexthopObjectFilter = {}, opts?: CallOptions): Promise<NexthopObject[]> {
    const operation = 'nexthops.list'
    const c = new SpecCheck({ operation, object: 'nexthops', namespace: this.ctx.namespace })
    c.options(opts)
    const f = c.object(filter, 'filter')
    c.only(f, FILTER_FIELDS, 'filter')
    const id = f.id === undefined ? undefined : c.int(f.id, 'filter id', 1, 0xffffffff)
    const groups = f.groups === undefined ? false : c.bool(f.groups, 'filter groups')
    const fdb = f.fdb === undefined ? false : c.bool(f.fdb, 'filter fdb')
    const protocol = f.protocol === undefined ? undefined : protocols.number(f.protocol as string | number)
    if (f.protocol !== undefined && protocol === undefined) c.fail(`filter protocol ${JSON.stringify(f.protocol)} is not a protocol name or 0..255`)
    const devRef = f.dev === undefined ? undefined : c.linkRef(f.dev, 'filter dev')
    const masterRef = f.master === undefined ? undefined : c.linkRef(f.master, 'filter master')
    const dev = devRef === undefined ? 0 : await linkIndex(this.ctx, devRef, operation, opts)
    const master = masterRef === undefined ? 0 : await linkIndex(this.ctx, masterRef, operation, opts)
    const names = await linkNames(this.ctx, opts)
    const decode = (m: RawMessage) => (m.type === RTM_NEWNEXTHOP ? decodeNexthop(m, names) : undefined)
    let all: NexthopObject[]
    if (id !== undefined) {
      const replies = await this.ctx.sock.request(
        {
          type: RTM_GETNEXTHOP,
          operation,
          object: `nexthop id ${id}`,
          expectsReply: true,
          body: (w) => {
            w.u8(AF_UNSPEC).u8(0).u8(0).u8(0).u32(0).attrU32(NHA_ID, id)
          },
        },
        opts,
      )
      all = replies.map(decode).filter((n): n is NexthopObject => n !== undefined)
    } else {
      all = await this.ctx.sock.dump(
        {
          type: RTM_GETNEXTHOP,
          operation,
          object: 'nexthops',
          body: (w) => {
            w.u8(AF_UNSPEC).u8(0).u8(0).u8(0).u32(0)
            if (dev) w.attrU32(NHA_OIF, dev)
            if (groups) w.attrFlag(NHA_GROUPS)
            if (master) w.attrU32(NHA_MASTER, master)
            if (fdb) w.attrFlag(NHA_FDB)
          },
        },
        decode,
        opts,
      )
    }
    const devName = dev ? names.get(dev) : undefined
    return all.filter(
      (n) =>
        (!dev || n.dev === devName) &&
        (!groups || n.group !== undefined) &&
        (!fdb || n.fdb) &&
        (protocol === undefined || protocols.number(n.protocol) === protocol),
    )
  }

  /** `ip nexthop add id N { via ADDR [dev DEV] [onlink] | dev DEV | blackhole | group ID[,W]/... [type resilient ...] } [fdb] [protocol P]`; EEXIST when the id is taken. */
  async add(spec: NexthopObjectSpec, opts?: CallOptions): Promise<void> {
    await this.send(NLM_F_CREATE | NLM_F_EXCL, spec, 'nexthops.add', opts)
  }

  /** `ip nexthop replace id N ...`: creates it or changes it in place (routes through it follow). */
  async replace(spec: NexthopObjectSpec, opts?: CallOptions): Promise<void> {
    await this.send(NLM_F_CREATE | NLM_F_REPLACE, spec, 'nexthops.replace', opts)
  }

  /** `ip nexthop del id N`; takes an id or a NexthopObject from list(). Routes through it go with it. */
  async delete(nexthop: number | { readonly id: number }, opts?: CallOptions): Promise<void> {
    const operation = 'nexthops.delete'
    const c = new SpecCheck({ operation, object: 'nexthop', namespace: this.ctx.namespace })
    c.options(opts)
    const raw = typeof nexthop === 'number' ? nexthop : c.object(nexthop, 'nexthop').id
    const id = c.int(raw, 'id', 1, 0xffffffff)
    await this.ctx.sock.request(
      {
        type: RTM_DELNEXTHOP,
        operation,
        object: `nexthop id ${id}`,
        body: (w) => {
          w.u8(AF_UNSPEC).u8(0).u8(0).u8(0).u32(0).attrU32(NHA_ID, id)
        },
      },
      opts,
    )
  }

  /** `ip nexthop flush [dev DEV] [groups] [fdb] ...`: deletes what list(filter) returns, groups first; returns the count. */
  async flush(filter: NexthopObjectFilter = {}, opts?: CallOptions): Promise<number> {
    const all = await this.list(filter, opts)
    const ordered = [...all.filter((n) => n.group), ...all.filter((n) => !n.group)]
    let count = 0
    for (const n of ordered) {
      try {
        await this.delete(n.id, opts)
        count++
      } catch (e) {
        // A group goes by itself when its last member is deleted.
        if (!isNsnetError(e, 'ENOENT')) throw e
      }
    }
    return count
  }

  private async send(flags: number, spec: NexthopObjectSpec, operation: string, opts?: CallOptions): Promise<void> {
    const c = new SpecCheck({ operation, object: 'nexthop', namespace: this.ctx.namespace })
    c.options(opts)
    const e = encodeNexthop(spec, c)
    const ifindex = e.dev === undefined ? undefined : await linkIndex(this.ctx, e.dev, operation, opts)
    await this.ctx.sock.request({ type: RTM_NEWNEXTHOP, flags, operation, object: e.object, body: (w) => writeNexthop(w, e, ifindex) }, opts)
  }
}
