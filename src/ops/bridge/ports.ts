// Bridge port options: `bridge link show|set`. RTM_GETLINK/SETLINK with family AF_BRIDGE and
// the port's options in IFLA_PROTINFO; objects shaped like `bridge -d -j link show`.
import { Attrs, type RawMessage, type Writer } from '../../netlink/codec.js'
import { NLA_F_NESTED } from '../../netlink/constants.js'
import type { CallOptions } from '../../netlink/engine.js'
import { NsnetError } from '../../netlink/errors.js'
import { freeze, type LinkRef, linkIndex, type OpsContext } from '../context.js'
import { linkFlagNames } from '../links/decode.js'
import { AF_BRIDGE, AF_UNSPEC, IFINFOMSG_LEN, RTM_GETLINK, RTM_NEWLINK, RTM_SETLINK } from '../rtnl.js'
import { SpecCheck } from '../spec-check.js'
import { BRIDGE_FLAGS_MASTER, BRIDGE_FLAGS_SELF, beginPlainNest, IFLA_AF_SPEC, IFLA_BRIDGE_FLAGS } from './wire.js'

// <linux/if_link.h>
const IFLA_IFNAME = 3
const IFLA_MTU = 4
const IFLA_LINK = 5
const IFLA_MASTER = 10
const IFLA_PROTINFO = 12
const IFLA_LINK_NETNSID = 37
const IFLA_MAX = 60

const IFLA_BRPORT_STATE = 1
const IFLA_BRPORT_PRIORITY = 2
const IFLA_BRPORT_COST = 3
const IFLA_BRPORT_MODE = 4
const IFLA_BRPORT_GUARD = 5
const IFLA_BRPORT_PROTECT = 6
const IFLA_BRPORT_FAST_LEAVE = 7
const IFLA_BRPORT_LEARNING = 8
const IFLA_BRPORT_UNICAST_FLOOD = 9
const IFLA_BRPORT_LEARNING_SYNC = 11
const IFLA_BRPORT_MULTICAST_ROUTER = 25
const IFLA_BRPORT_MCAST_FLOOD = 27
const IFLA_BRPORT_MCAST_TO_UCAST = 28
const IFLA_BRPORT_VLAN_TUNNEL = 29
const IFLA_BRPORT_BCAST_FLOOD = 30
const IFLA_BRPORT_NEIGH_SUPPRESS = 32
const IFLA_BRPORT_ISOLATED = 33
const IFLA_BRPORT_BACKUP_PORT = 34
const IFLA_BRPORT_LOCKED = 39
const IFLA_BRPORT_MAX = 45

const IFF_UP = 0x1

/** STP port states by the names bridge uses (`state forwarding`). */
const STP_STATES: Readonly<Record<string, number>> = { disabled: 0, listening: 1, learning: 2, forwarding: 3, blocking: 4 }
const STP_NAMES = Object.keys(STP_STATES)

/** One bridge port, as `bridge -d -j link show` prints it: its options under set()'s names, so a listed port goes back to set(). */
export interface BridgePort extends Omit<BridgePortOptions, 'backup_port' | 'self' | 'master'> {
  readonly ifindex: number
  /** The peer (`IFLA_LINK`) when it is in this namespace; `link_index` when it is elsewhere. */
  readonly link?: string
  readonly link_index?: number
  readonly ifname: string
  readonly flags: readonly string[]
  readonly mtu?: number
  readonly master?: string
  readonly backup_port?: string
}

/** What set() changes; only the given options are sent. Names as list() prints them. */
export interface BridgePortOptions {
  readonly cost?: number
  readonly priority?: number
  /** 'disabled', 'listening', 'learning', 'forwarding', 'blocking', or 0..4. */
  readonly state?: string | number
  readonly hairpin?: boolean
  readonly guard?: boolean
  readonly root_block?: boolean
  readonly fastleave?: boolean
  readonly learning?: boolean
  readonly learning_sync?: boolean
  readonly flood?: boolean
  readonly mcast_flood?: boolean
  readonly bcast_flood?: boolean
  /** 0 disabled, 1 learned (default), 2 permanent, 3 temporary. */
  readonly mcast_router?: number
  readonly mcast_to_unicast?: boolean
  readonly neigh_suppress?: boolean
  readonly vlan_tunnel?: boolean
  readonly isolated?: boolean
  readonly locked?: boolean
  /** A port to fail over to; null clears it (`nobackup_port`). */
  readonly backup_port?: LinkRef | null
  /** Send to the port's own driver (`self`) and/or the bridge (`master`, the default). */
  readonly self?: boolean
  readonly master?: boolean
}

export interface BridgePortFilter {
  readonly dev?: LinkRef
  /** `master BRIDGE`. */
  readonly master?: LinkRef
}

// Boolean options in the order `bridge link set` writes them, before and after cost/priority/state.
const BOOLS_BEFORE: ReadonlyArray<[keyof BridgePortOptions, number]> = [
  ['guard', IFLA_BRPORT_GUARD],
  ['hairpin', IFLA_BRPORT_MODE],
  ['fastleave', IFLA_BRPORT_FAST_LEAVE],
  ['root_block', IFLA_BRPORT_PROTECT],
  ['flood', IFLA_BRPORT_UNICAST_FLOOD],
]
const BOOLS_MCAST: ReadonlyArray<[keyof BridgePortOptions, number]> = [
  ['mcast_flood', IFLA_BRPORT_MCAST_FLOOD],
  ['bcast_flood', IFLA_BRPORT_BCAST_FLOOD],
  ['mcast_to_unicast', IFLA_BRPORT_MCAST_TO_UCAST],
]
const BOOLS_LEARNING: ReadonlyArray<[keyof BridgePortOptions, number]> = [
  ['learning', IFLA_BRPORT_LEARNING],
  ['learning_sync', IFLA_BRPORT_LEARNING_SYNC],
]
const BOOLS_AFTER: ReadonlyArray<[keyof BridgePortOptions, number]> = [
  ['neigh_suppress', IFLA_BRPORT_NEIGH_SUPPRESS],
  ['vlan_tunnel', IFLA_BRPORT_VLAN_TUNNEL],
  ['isolated', IFLA_BRPORT_ISOLATED],
  ['locked', IFLA_BRPORT_LOCKED],
]
const OPTION_FIELDS = new Set<string>([
  'cost',
  'priority',
  'state',
  'mcast_router',
  'backup_port',
  'self',
  'master',
  ...[...BOOLS_BEFORE, ...BOOLS_MCAST, ...BOOLS_LEARNING, ...BOOLS_AFTER].map(([k]) => k),
])
// Decoded in the order bridge prints them.
const PRINTED_BOOLS: ReadonlyArray<[string, number]> = [
  ['hairpin', IFLA_BRPORT_MODE],
  ['guard', IFLA_BRPORT_GUARD],
  ['root_block', IFLA_BRPORT_PROTECT],
  ['fastleave', IFLA_BRPORT_FAST_LEAVE],
  ['learning', IFLA_BRPORT_LEARNING],
  ['learning_sync', IFLA_BRPORT_LEARNING_SYNC],
  ['flood', IFLA_BRPORT_UNICAST_FLOOD],
  ['mcast_flood', IFLA_BRPORT_MCAST_FLOOD],
  ['bcast_flood', IFLA_BRPORT_BCAST_FLOOD],
]
const PRINTED_BOOLS_2: ReadonlyArray<[string, number]> = [
  ['mcast_to_unicast', IFLA_BRPORT_MCAST_TO_UCAST],
  ['neigh_suppress', IFLA_BRPORT_NEIGH_SUPPRESS],
  ['vlan_tunnel', IFLA_BRPORT_VLAN_TUNNEL],
]

export interface LinkBrief {
  readonly name: string
  readonly up: boolean
  readonly master: number
}

/** Decodes one RTM_NEWLINK of family AF_BRIDGE; undefined for other families. */
export function decodeBridgePort(m: RawMessage, links?: ReadonlyMap<number, LinkBrief>): BridgePort | undefined {
  const b = m.buf,
    s = m.start
  if (m.end - s < IFINFOMSG_LEN || b[s] !== AF_BRIDGE) return undefined
  const ifindex = b.readInt32LE(s + 4)
  const a = new Attrs(b, s + IFINFOMSG_LEN, m.end, IFLA_MAX)
  const name = (i: number) => links?.get(i)?.name ?? `if${i}`
  const iflink = a.u32(IFLA_LINK) || undefined
  const inOtherNs = a.has(IFLA_LINK_NETNSID)
  const flags = linkFlagNames(b.readUInt32LE(s + 8))
  if (iflink && !inOtherNs && links?.get(iflink)?.up === false) flags.push('M-DOWN')
  const master = a.u32(IFLA_MASTER)
  const o: Record<string, unknown> = {
    ifindex,
    link: iflink && !inOtherNs ? name(iflink) : undefined,
    link_index: iflink && inOtherNs ? iflink : undefined,
    ifname: a.str(IFLA_IFNAME) ?? `if${ifindex}`,
    flags,
    mtu: a.u32(IFLA_MTU),
    master: master ? name(master) : undefined,
  }
  if (a.has(IFLA_PROTINFO)) {
    const p = a.nested(IFLA_PROTINFO, IFLA_BRPORT_MAX)
    if (p) {
      const st = p.u8(IFLA_BRPORT_STATE)
      o.state = st === undefined ? undefined : (STP_NAMES[st] ?? st)
      o.priority = p.u16(IFLA_BRPORT_PRIORITY)
      o.cost = p.u32(IFLA_BRPORT_COST)
      for (const [k, t] of PRINTED_BOOLS) o[k] = boolOf(p.u8(t))
      o.mcast_router = p.u8(IFLA_BRPORT_MULTICAST_ROUTER)
      for (const [k, t] of PRINTED_BOOLS_2) o[k] = boolOf(p.u8(t))
      const backup = p.u32(IFLA_BRPORT_BACKUP_PORT)
      o.backup_port = backup ? name(backup) : undefined
      o.isolated = boolOf(p.u8(IFLA_BRPORT_ISOLATED))
      o.locked = boolOf(p.u8(IFLA_BRPORT_LOCKED))
    } else {
      // An old-style PROTINFO is the bare STP state.
      const st = a.u8(IFLA_PROTINFO)
      o.state = st === undefined ? undefined : (STP_NAMES[st] ?? st)
    }
  }
  return freeze(o) as unknown as BridgePort
}

function boolOf(v: number | undefined): boolean | undefined {
  return v === undefined ? undefined : v !== 0
}

export class BridgePorts {
  constructor(readonly ctx: OpsContext) {}

  /** `bridge -d link show [dev DEV] [master BRIDGE]`. */
  async list(filter: BridgePortFilter = {}, opts?: CallOptions): Promise<BridgePort[]> {
    const operation = 'bridge.links.list'
    const c = new SpecCheck({ operation, object: 'bridge ports', namespace: this.ctx.namespace })
    c.options(opts)
    const f = c.object(filter, 'filter')
    c.only(f, new Set(['dev', 'master']), 'filter')
    const dev = f.dev === undefined ? 0 : await linkIndex(this.ctx, c.linkRef(f.dev, 'filter dev'), operation, opts)
    const master = f.master === undefined ? 0 : await linkIndex(this.ctx, c.linkRef(f.master, 'filter master'), operation, opts)
    const links = await linkBriefs(this.ctx, opts)
    const ports = await this.ctx.sock.dump(
      {
        type: RTM_GETLINK,
        operation,
        object: 'bridge ports',
        body: (w) => {
          w.u8(AF_BRIDGE).u8(0).u16(0).s32(0).u32(0).u32(0)
        },
      },
      (m) => (m.type === RTM_NEWLINK ? decodeBridgePort(m, links) : undefined),
      opts,
    )
    const masterName = master ? links.get(master)?.name : undefined
    return ports.filter((p) => (!dev || p.ifindex === dev) && (!master || p.master === masterName))
  }

  /** `bridge link show dev DEV`: one port; ENODEV when it is not a bridge port. */
  async get(dev: LinkRef, opts?: CallOptions): Promise<BridgePort> {
    const [port] = await this.list({ dev }, opts)
    if (!port) {
      throw new NsnetError(`link ${dev} is not a bridge port`, {
        code: 'ENODEV',
        errno: 19,
        operation: 'bridge.links.get',
        object: `link ${dev}`,
        namespace: this.ctx.namespace,
      })
    }
    return port
  }

  /** `bridge link set dev DEV [cost N] [priority N] [state S] [learning on|off] [flood on|off] [hairpin on|off] [isolated on|off] [neigh_suppress on|off] ... [self] [master]`. */
  async set(dev: LinkRef, options: BridgePortOptions, opts?: CallOptions): Promise<void> {
    const operation = 'bridge.links.set'
    const c = new SpecCheck({ operation, object: `bridge port ${dev}`, namespace: this.ctx.namespace })
    c.options(opts)
    const devRef = c.linkRef(dev, 'dev')
    const enc = encodePortOptions(options, c)
    const ifindex = await linkIndex(this.ctx, devRef, operation, opts)
    const backup = enc.backup === undefined || enc.backup === null ? enc.backup : await linkIndex(this.ctx, enc.backup, operation, opts)
    await this.ctx.sock.request(
      {
        type: RTM_SETLINK,
        operation,
        object: `bridge port ${dev}`,
        body: (w) => writePortOptions(w, ifindex, enc, backup === null ? 0 : backup),
      },
      opts,
    )
  }
}

interface EncodedPortOptions {
  readonly bools: ReadonlyMap<string, number>
  readonly cost?: number
  readonly priority?: number
  readonly state?: number
  readonly mcastRouter?: number
  readonly backup?: LinkRef | null
  readonly flags: number
}

/** Checks the options completely before anything is sent. */
export function encodePortOptions(options: BridgePortOptions, c: SpecCheck): EncodedPortOptions {
  const o = c.object(options, 'bridge port options')
  c.only(o, OPTION_FIELDS, 'bridge port options')
  const bools = new Map<string, number>()
  for (const [k] of [...BOOLS_BEFORE, ...BOOLS_MCAST, ...BOOLS_LEARNING, ...BOOLS_AFTER]) {
    if (o[k] !== undefined) bools.set(k, c.bool(o[k], k) ? 1 : 0)
  }
  const state = o.state === undefined ? undefined : typeof o.state === 'number' ? c.int(o.state, 'state', 0, 4) : c.oneOf(o.state, 'state', STP_STATES)
  let flags = 0
  if (o.self !== undefined && c.bool(o.self, 'self')) flags |= BRIDGE_FLAGS_SELF
  if (o.master !== undefined && c.bool(o.master, 'master')) flags |= BRIDGE_FLAGS_MASTER
  return {
    bools,
    // bridge sends no cost for 0; the kernel refuses 0 as well, so 1 is the least.
    cost: o.cost === undefined ? undefined : c.int(o.cost, 'cost', 1, 0xffffffff),
    priority: o.priority === undefined ? undefined : c.int(o.priority, 'priority', 0, 63),
    state,
    mcastRouter: o.mcast_router === undefined ? undefined : c.int(o.mcast_router, 'mcast_router', 0, 3),
    backup: o.backup_port === undefined || o.backup_port === null ? (o.backup_port as null | undefined) : c.linkRef(o.backup_port, 'backup_port'),
    flags,
  }
}

/** The RTM_SETLINK body, attribute for attribute in the order `bridge link set` writes it. */
export function writePortOptions(w: Writer, ifindex: number, e: EncodedPortOptions, backup: number | undefined): void {
  w.u8(AF_BRIDGE).u8(0).u16(0).s32(ifindex).u32(0).u32(0)
  const nest = w.beginNested(IFLA_PROTINFO | NLA_F_NESTED)
  const put = (list: ReadonlyArray<[keyof BridgePortOptions, number]>) => {
    for (const [k, t] of list) {
      const v = e.bools.get(k)
      if (v !== undefined) w.attrU8(t, v)
    }
  }
  put(BOOLS_BEFORE)
  if (e.mcastRouter !== undefined) w.attrU8(IFLA_BRPORT_MULTICAST_ROUTER, e.mcastRouter)
  put(BOOLS_MCAST)
  put(BOOLS_LEARNING)
  if (e.cost !== undefined) w.attrU32(IFLA_BRPORT_COST, e.cost)
  if (e.priority !== undefined) w.attrU16(IFLA_BRPORT_PRIORITY, e.priority)
  if (e.state !== undefined) w.attrU8(IFLA_BRPORT_STATE, e.state)
  put(BOOLS_AFTER)
  if (backup !== undefined) w.attrU32(IFLA_BRPORT_BACKUP_PORT, backup)
  w.endNested(nest)
  if (e.flags) {
    const spec = beginPlainNest(w, IFLA_AF_SPEC)
    w.attrU16(IFLA_BRIDGE_FLAGS, e.flags)
    w.endNested(spec)
  }
}

/** ifindex → name, up flag and master, from one AF_UNSPEC link dump (bridge marks M-DOWN from it). */
export async function linkBriefs(ctx: OpsContext, opts?: CallOptions): Promise<Map<number, LinkBrief>> {
  const pairs = await ctx.sock.dump(
    {
      type: RTM_GETLINK,
      body: (w) => {
        w.u8(AF_UNSPEC).u8(0).u16(0).s32(0).u32(0).u32(0)
      },
    },
    (m) => {
      const index = m.buf.readInt32LE(m.start + 4)
      const up = (m.buf.readUInt32LE(m.start + 8) & IFF_UP) !== 0
      const a = new Attrs(m.buf, m.start + IFINFOMSG_LEN, m.end, IFLA_MASTER)
      return [index, { name: a.str(IFLA_IFNAME) ?? `if${index}`, up, master: a.u32(IFLA_MASTER) ?? 0 }] as const
    },
    opts,
  )
  return new Map(pairs)
}
