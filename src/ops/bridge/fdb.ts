// Bridge forwarding database entries: `bridge fdb`. RTM_NEWNEIGH/DELNEIGH/GETNEIGH with
// family AF_BRIDGE; objects shaped like `bridge -j fdb show`.
import { Attrs, formatIP, formatMac, type RawMessage, type Writer } from '../../netlink/codec.js'
import { NLM_F_APPEND, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE } from '../../netlink/constants.js'
import type { CallOptions } from '../../netlink/engine.js'
import { freeze, type LinkRef, linkIndex, type OpsContext } from '../context.js'
import { AF_BRIDGE, NDMSG_LEN, RTM_DELNEIGH, RTM_GETNEIGH, RTM_NEWNEIGH } from '../rtnl.js'
import { SpecCheck } from '../spec-check.js'
import { linkBriefs } from './ports.js'

// <linux/neighbour.h>
const NDA_DST = 1
const NDA_LLADDR = 2
const NDA_VLAN = 5
const NDA_PORT = 6
const NDA_VNI = 7
const NDA_IFINDEX = 8
const NDA_MASTER = 9
const NDA_LINK_NETNSID = 10
const NDA_SRC_VNI = 11
const NDA_NH_ID = 13
const NDA_FLAGS_EXT = 15
const NDA_MAX = 17

const NTF_SELF = 0x02
const NTF_MASTER = 0x04
const NTF_EXT_LEARNED = 0x10
const NTF_OFFLOADED = 0x20
const NTF_STICKY = 0x40
const NTF_ROUTER = 0x80
const NTF_EXT_LOCKED = 0x02

const NUD_REACHABLE = 0x02
const NUD_STALE = 0x04
const NUD_NOARP = 0x40
const NUD_PERMANENT = 0x80

/** One entry, as `bridge -j fdb show` prints it. */
export interface FdbEntry {
  readonly mac: string
  /** The device the entry is on; undefined only when the kernel sent no index. */
  readonly ifname?: string
  readonly ifindex: number
  /** Remote VTEP of a vxlan entry. */
  readonly dst?: string
  readonly vlan?: number
  readonly port?: number
  readonly vni?: number
  readonly src_vni?: number
  /** Outgoing device of a vxlan entry (`via DEV`). */
  readonly viaIf?: string
  readonly nhid?: number
  readonly linkNetNsId?: number
  /** 'self', 'router', 'extern_learn', 'offload', 'master', 'sticky', 'locked', in bridge's order. */
  readonly flags: readonly string[]
  /** The bridge whose table holds the entry (NDA_MASTER). */
  readonly master?: string
  /** 'permanent', 'static', 'stale', '' (dynamic, reachable) or the state as hex, as bridge prints it. */
  readonly state: FdbState
}

/** An entry's state as bridge prints it. */
export type FdbState = 'permanent' | 'static' | 'stale' | '' | `0x${string}`

/** What add/append/replace/delete take; an FdbEntry from list() is accepted as is. */
export interface FdbSpec {
  /** The MAC address (`lladdr` is accepted too). */
  readonly mac?: string
  readonly lladdr?: string
  /** The device (`ifname`, as list() returns it, is accepted too). */
  readonly dev?: LinkRef
  readonly ifname?: string
  readonly vlan?: number
  /** true: the bridge's table (`master`); a bridge name, as list() returns it, means the same. */
  readonly master?: boolean | string
  /** true: the device's own table (`self`); the default when neither is given, as in bridge. */
  readonly self?: boolean
  /** 'permanent' (alias 'local'; the default), 'static' or 'dynamic'. list()'s '' means dynamic; its 'stale' and hex states are sent as they are. */
  readonly state?: FdbState | 'local' | 'dynamic'
  /** list()'s flags; 'self', 'master', 'router', 'extern_learn', 'sticky' are taken from here. */
  readonly flags?: readonly string[]
  readonly router?: boolean
  readonly extern_learn?: boolean
  readonly sticky?: boolean
  /** vxlan: the remote address, UDP port, VNI, source VNI, outgoing device, or a nexthop id instead of dst. */
  readonly dst?: string
  readonly port?: number
  readonly vni?: number
  readonly src_vni?: number
  readonly via?: LinkRef
  /** list()'s name for `via`. */
  readonly viaIf?: string
  readonly nhid?: number
}

export interface FdbFilter {
  /** `br BRIDGE`: entries in that bridge's table. */
  readonly br?: LinkRef
  /** `brport DEV` / `dev DEV`. */
  readonly dev?: LinkRef
  readonly vlan?: number
  /** `state permanent|static|dynamic|stale`. */
  readonly state?: 'permanent' | 'static' | 'dynamic' | 'stale'
  /** `dynamic`: leave out permanent entries. */
  readonly dynamic?: boolean
}

const FLAG_NAMES: ReadonlyArray<[number, string]> = [
  [NTF_SELF, 'self'],
  [NTF_ROUTER, 'router'],
  [NTF_EXT_LEARNED, 'extern_learn'],
  [NTF_OFFLOADED, 'offload'],
  [NTF_MASTER, 'master'],
  [NTF_STICKY, 'sticky'],
]

const SPEC_FIELDS = new Set([
  'mac',
  'lladdr',
  'dev',
  'ifname',
  'vlan',
  'master',
  'self',
  'state',
  'flags',
  'router',
  'extern_learn',
  'sticky',
  'dst',
  'port',
  'vni',
  'src_vni',
  'via',
  'viaIf',
  'nhid',
])
// Read-only fields of a listed entry: ignored when it is handed back.
const LISTED_FIELDS = new Set(['ifindex', 'linkNetNsId'])
const FILTER_FIELDS = new Set(['br', 'dev', 'vlan', 'state', 'dynamic'])

/** The state text as bridge prints it (state_n2a). */
function stateName(s: number): FdbState {
  if (s & NUD_PERMANENT) return 'permanent'
  if (s & NUD_NOARP) return 'static'
  if (s & NUD_STALE) return 'stale'
  if (s & NUD_REACHABLE) return ''
  return `0x${s.toString(16)}`
}

/** Decodes one RTM_NEWNEIGH/DELNEIGH of family AF_BRIDGE; undefined for other families. */
export function decodeFdbEntry(m: RawMessage, names?: ReadonlyMap<number, string>): FdbEntry | undefined {
  const b = m.buf,
    s = m.start
  if (m.end - s < NDMSG_LEN || b[s] !== AF_BRIDGE) return undefined
  const ifindex = b.readInt32LE(s + 4)
  const state = b.readUInt16LE(s + 8)
  const flags = b[s + 10]!
  const a = new Attrs(b, s + NDMSG_LEN, m.end, NDA_MAX)
  const ext = a.u32(NDA_FLAGS_EXT) ?? 0
  const flagList: string[] = []
  for (const [bit, name] of FLAG_NAMES) if (flags & bit) flagList.push(name)
  if (ext & NTF_EXT_LOCKED) flagList.push('locked')
  const ll = a.length(NDA_LLADDR)
  const dstLen = a.length(NDA_DST)
  const vlan = a.u16(NDA_VLAN)
  const port = a.u16be(NDA_PORT)
  const via = a.u32(NDA_IFINDEX)
  const netnsid = a.u32(NDA_LINK_NETNSID)
  const master = a.u32(NDA_MASTER)
  const name = (i: number) => names?.get(i) ?? `if${i}`
  return freeze({
    mac: ll > 0 ? formatMac(b, a.offset(NDA_LLADDR), ll) : '',
    ifname: ifindex ? name(ifindex) : undefined,
    ifindex,
    dst: dstLen > 0 ? formatIP(b, a.offset(NDA_DST), dstLen) : undefined,
    vlan: vlan ? vlan : undefined,
    port,
    vni: a.u32(NDA_VNI),
    src_vni: a.u32(NDA_SRC_VNI),
    viaIf: via !== undefined && netnsid === undefined ? name(via) : undefined,
    nhid: a.u32(NDA_NH_ID),
    linkNetNsId: netnsid,
    flags: flagList,
    master: master ? name(master) : undefined,
    state: stateName(state),
  })
}

interface EncodedFdb {
  readonly mac: Uint8Array
  readonly dev: LinkRef
  readonly state: number
  readonly flags: number
  readonly vlan?: number
  readonly dst?: Uint8Array
  readonly port?: number
  readonly vni?: number
  readonly srcVni?: number
  readonly via?: LinkRef
  readonly nhid?: number
  readonly object: string
}

export class BridgeFdb {
  constructor(readonly ctx: OpsContext) {}

  /** `bridge fdb show [br BRIDGE] [brport DEV] [vlan VID] [state STATE] [dynamic]`. */
  async list(filter: FdbFilter = {}, opts?: CallOptions): Promise<FdbEntry[]> {
    const operation = 'bridge.fdb.list'
    const c = new SpecCheck({ operation, object: 'fdb', namespace: this.ctx.namespace })
    c.options(opts)
    const f = c.object(filter, 'filter')
    c.only(f, FILTER_FIELDS, 'filter')
    const vlan = f.vlan === undefined ? undefined : c.int(f.vlan, 'filter vlan', 1, 4094)
    const stateBits =
      f.state === undefined
        ? undefined
        : c.oneOf(f.state, 'filter state', { permanent: NUD_PERMANENT, static: NUD_NOARP, dynamic: NUD_REACHABLE, stale: NUD_STALE })
    const dynamic = f.dynamic === undefined ? false : c.bool(f.dynamic, 'filter dynamic')
    const br = f.br === undefined ? undefined : c.linkRef(f.br, 'filter br')
    const dev = f.dev === undefined ? undefined : c.linkRef(f.dev, 'filter dev')
    const brIndex = br === undefined ? 0 : await linkIndex(this.ctx, br, operation, opts)
    const devIndex = dev === undefined ? 0 : await linkIndex(this.ctx, dev, operation, opts)
    const links = await linkBriefs(this.ctx, opts)
    const names = new Map([...links].map(([i, l]) => [i, l.name]))
    const raw = await this.ctx.sock.dump(
      {
        type: RTM_GETNEIGH,
        operation,
        object: 'fdb',
        body: (w) => {
          w.u8(AF_BRIDGE).u8(0).u16(0).s32(0).u16(0).u8(0).u8(0)
        },
      },
      (m) => (m.type === RTM_NEWNEIGH ? keep(m, names) : undefined),
      opts,
    )
    // Without strict checking the kernel ignores dump filters: apply them here, as bridge does.
    return raw
      .filter(
        ({ entry, state }) =>
          (!devIndex || entry.ifindex === devIndex) &&
          // `br`: the bridge's own entries and those of its ports, as the kernel filters it.
          (!brIndex || entry.ifindex === brIndex || links.get(entry.ifindex)?.master === brIndex) &&
          (stateBits === undefined || (state & stateBits) !== 0) &&
          (vlan === undefined || entry.vlan === vlan) &&
          (!dynamic || !(state & NUD_PERMANENT)),
      )
      .map((x) => x.entry)
  }

  /** `bridge fdb add MAC dev DEV [master|self] [permanent|static|dynamic] [vlan VID] [dst IP] [port P] [vni N]`; EEXIST when present. */
  async add(entry: FdbSpec, opts?: CallOptions): Promise<void> {
    await this.send(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_EXCL, entry, 'bridge.fdb.add', opts)
  }

  /** `bridge fdb append ...`: another remote for the same MAC (vxlan flood lists). */
  async append(entry: FdbSpec, opts?: CallOptions): Promise<void> {
    await this.send(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_APPEND, entry, 'bridge.fdb.append', opts)
  }

  /** `bridge fdb replace ...`: creates the entry or overwrites it. */
  async replace(entry: FdbSpec, opts?: CallOptions): Promise<void> {
    await this.send(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, entry, 'bridge.fdb.replace', opts)
  }

  /** `bridge fdb del MAC dev DEV [master|self] [vlan VID] [dst IP]`; accepts what list() returned. */
  async delete(entry: FdbSpec, opts?: CallOptions): Promise<void> {
    await this.send(RTM_DELNEIGH, 0, entry, 'bridge.fdb.delete', opts)
  }

  private async send(type: number, flags: number, entry: FdbSpec, operation: string, opts?: CallOptions): Promise<void> {
    const c = new SpecCheck({ operation, object: 'fdb entry', namespace: this.ctx.namespace })
    c.options(opts)
    const e = encodeFdb(entry, c)
    const ifindex = await linkIndex(this.ctx, e.dev, operation, opts)
    const via = e.via === undefined ? undefined : await linkIndex(this.ctx, e.via, operation, opts)
    await this.ctx.sock.request({ type, flags, operation, object: e.object, body: (w) => writeFdb(w, e, ifindex, via) }, opts)
  }
}

function keep(m: RawMessage, names: ReadonlyMap<number, string>): { entry: FdbEntry; state: number } | undefined {
  const entry = decodeFdbEntry(m, names)
  return entry && { entry, state: m.buf.readUInt16LE(m.start + 8) }
}

/** Checks an FdbSpec completely before anything is resolved or sent. */
export function encodeFdb(entry: FdbSpec, c: SpecCheck): EncodedFdb {
  const o = c.object(entry, 'fdb entry')
  c.only(o, SPEC_FIELDS, 'fdb entry', LISTED_FIELDS)
  const macText = o.mac ?? o.lladdr
  if (macText === undefined) c.fail("mac is required (the fdb entry's MAC address)")
  const mac = c.mac(macText, 'mac')
  const devRef = o.dev ?? o.ifname
  if (devRef === undefined) c.fail('dev is required (the device the entry is on)')
  const dev = c.linkRef(devRef, 'dev')
  const object = `fdb ${String(macText)} dev ${dev}`
  const cc: SpecCheck = new SpecCheck({ ...c.ctx, object })
  const listed = o.flags === undefined ? [] : flagList(o.flags, cc)
  let flags = 0
  // A bridge name (from list()) means the bridge's table, like `master: true`; an entry on the
  // bridge device itself lists the bridge as its master but is reached with `self`.
  if (typeof o.master === 'string') flags |= cc.linkName(o.master, 'master') === dev ? NTF_SELF : NTF_MASTER
  else if (o.master !== undefined && cc.bool(o.master, 'master')) flags |= NTF_MASTER
  if (o.self !== undefined && cc.bool(o.self, 'self')) flags |= NTF_SELF
  for (const [bit, name] of [
    [NTF_ROUTER, 'router'],
    [NTF_EXT_LEARNED, 'extern_learn'],
    [NTF_STICKY, 'sticky'],
  ] as const) {
    if (o[name] !== undefined && cc.bool(o[name], name)) flags |= bit
  }
  for (const f of listed) {
    const bit = ({ self: NTF_SELF, master: NTF_MASTER, router: NTF_ROUTER, extern_learn: NTF_EXT_LEARNED, sticky: NTF_STICKY } as Record<string, number>)[f]
    if (bit) flags |= bit
  }
  if (!(flags & (NTF_SELF | NTF_MASTER))) flags |= NTF_SELF
  // bridge starts from NUD_NOARP and adds PERMANENT (default) or REACHABLE; 'dynamic' drops NOARP.
  const stateText = o.state ?? 'permanent'
  const state =
    typeof stateText === 'string' && /^0x[0-9a-f]{1,4}$/.test(stateText)
      ? Number(stateText)
      : cc.oneOf(stateText, 'state', {
          permanent: NUD_NOARP | NUD_PERMANENT,
          local: NUD_NOARP | NUD_PERMANENT,
          static: NUD_NOARP | NUD_REACHABLE,
          dynamic: NUD_REACHABLE,
          '': NUD_REACHABLE,
          stale: NUD_STALE,
        })
  const vlan = o.vlan === undefined ? undefined : cc.int(o.vlan, 'vlan', 1, 4094)
  const dst = o.dst === undefined ? undefined : cc.ip(o.dst, 'dst').bytes
  const port = o.port === undefined ? undefined : cc.int(o.port, 'port', 1, 65535)
  const vni = o.vni === undefined ? undefined : cc.int(o.vni, 'vni', 0, 0xffffff)
  const srcVni = o.src_vni === undefined ? undefined : cc.int(o.src_vni, 'src_vni', 0, 0xffffff)
  const viaRef = o.via ?? o.viaIf // list() calls it viaIf, as bridge does
  const via = viaRef === undefined ? undefined : cc.linkRef(viaRef, 'via')
  const nhid = o.nhid === undefined ? undefined : cc.int(o.nhid, 'nhid', 1, 0xffffffff)
  if (nhid !== undefined && (dst || port !== undefined || vni !== undefined)) {
    cc.fail('nhid cannot be combined with dst, port or vni (as in bridge fdb)')
  }
  return { mac, dev, state, flags, vlan, dst, port, vni, srcVni, via, nhid, object }
}

function flagList(v: unknown, c: SpecCheck): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) c.fail(`flags must be an array of flag names, got ${JSON.stringify(v)}`)
  const known = new Set([...FLAG_NAMES.map(([, n]) => n), 'locked'])
  for (const f of v as string[]) if (!known.has(f)) c.fail(`flags has unknown flag "${f}"`, `known: ${[...known].join(', ')}`)
  return v as string[]
}

/** The message body, in the order `bridge fdb` writes it (byte-compared with its captures). */
export function writeFdb(w: Writer, e: EncodedFdb, ifindex: number, via: number | undefined): void {
  w.u8(AF_BRIDGE).u8(0).u16(0).s32(ifindex)
  w.u16(e.state).u8(e.flags).u8(0)
  w.attrBytes(NDA_LLADDR, e.mac)
  if (e.dst) w.attrBytes(NDA_DST, e.dst)
  if (e.vlan !== undefined) w.attrU16(NDA_VLAN, e.vlan)
  if (e.nhid !== undefined) w.attrU32(NDA_NH_ID, e.nhid)
  if (e.port !== undefined) w.attrU16be(NDA_PORT, e.port)
  if (e.vni !== undefined) w.attrU32(NDA_VNI, e.vni)
  if (e.srcVni !== undefined) w.attrU32(NDA_SRC_VNI, e.srcVni)
  if (via !== undefined) w.attrU32(NDA_IFINDEX, via)
}
