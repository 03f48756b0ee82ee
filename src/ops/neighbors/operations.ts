// Neighbour (ARP / NDP) entries: `ip neigh`. Encodes RTM_NEWNEIGH/DELNEIGH and decodes
// RTM_NEWNEIGH into objects shaped like `ip -j neigh show`.
import { decodeError, fixedAt, formatIP, formatMac, parseIP, parseMac, type RawMessage, type Writer } from '../../netlink/codec.js'
import { align4, NLA_HDRLEN, NLA_TYPE_MASK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE } from '../../netlink/constants.js'
import type { CallOptions } from '../../netlink/engine.js'
import { type LinkRef, linkIndex, linkNames, type OpsContext } from '../context.js'
import {
  AF_UNSPEC,
  afOf,
  type FamilyName,
  familyNumber,
  familyOfAf,
  type InetFamily,
  inetFamily,
  NDMSG_LEN,
  RTM_DELNEIGH,
  RTM_GETNEIGH,
  RTM_NEWNEIGH,
} from '../rtnl.js'
import { SpecCheck, show } from '../spec-check.js'

// <linux/neighbour.h>
const NDA_DST = 1
const NDA_LLADDR = 2
const NDA_IFINDEX = 8
const NDA_PROTOCOL = 12
const NDA_FLAGS_EXT = 15

const NTF_PROXY = 0x08
const NTF_EXT_LEARNED = 0x10
const NTF_OFFLOADED = 0x20
const NTF_ROUTER = 0x80
const NTF_EXT_MANAGED = 0x01

/** NUD_* states by the names `ip neigh ... nud NAME` takes; `ip -j` prints them upper-case. */
const NUD: Readonly<Record<string, number>> = {
  incomplete: 0x01,
  reachable: 0x02,
  stale: 0x04,
  delay: 0x08,
  probe: 0x10,
  failed: 0x20,
  noarp: 0x40,
  permanent: 0x80,
  none: 0x00,
}
const NUD_ORDER: ReadonlyArray<[number, string]> = Object.entries(NUD)
  .filter(([, bit]) => bit !== 0)
  .map(([name, bit]) => [bit, name.toUpperCase()])

export type NeighborState = 'incomplete' | 'reachable' | 'stale' | 'delay' | 'probe' | 'failed' | 'noarp' | 'permanent' | 'none'

/** One neighbour entry, as `ip -j neigh show` prints it (flags are `true` instead of ip's `null`). */
export interface Neighbor {
  readonly family: InetFamily
  readonly dst: string
  /** Link name; undefined only when the index could not be resolved. */
  readonly dev?: string
  readonly ifindex: number
  readonly lladdr?: string
  /** NUD states, upper-case as ip prints them (['PERMANENT']); undefined for NUD_NONE. */
  readonly state?: readonly string[]
  readonly router?: true
  readonly proxy?: true
  readonly extern_learn?: true
  readonly offload?: true
  readonly managed?: true
  /** NDA_PROTOCOL: who installed it, when set. */
  readonly protocol?: number
}

/** What add/replace/delete take; a Neighbor from list() is accepted as is. */
export interface NeighborSpec {
  readonly dst: string
  /** The link, by name or index (`dev` in ip). `ifindex` is used when `dev` is absent. */
  readonly dev?: LinkRef
  readonly ifindex?: number
  readonly lladdr?: string
  /** `nud STATE`; default 'permanent'. Upper-case names and arrays (as list() returns) are accepted. */
  readonly state?: NeighborState | string | readonly string[]
  readonly router?: boolean
  readonly proxy?: boolean
  readonly extern_learn?: boolean
  readonly managed?: boolean
  readonly protocol?: number
}

export interface NeighborFilter {
  readonly link?: LinkRef
  readonly family?: FamilyName
  /** Keep only entries in one of these states ('none' matches entries without a state). */
  readonly state?: NeighborState | string | readonly string[]
  /** List proxy entries instead (`ip neigh show proxy`). */
  readonly proxy?: boolean
}

/**
 * Decodes one RTM_NEWNEIGH/DELNEIGH message; undefined for families other than IPv4/IPv6
 * (bridge FDB entries belong to `bridge fdb`). `names` maps ifindex to link name.
 */
export function decodeNeighbor(m: RawMessage, names?: ReadonlyMap<number, string>): Neighbor | undefined {
  const b = m.buf
  const s = m.start
  if (m.end - s < NDMSG_LEN) throw decodeError(`neighbour message of ${m.end - s} bytes is shorter than ndmsg`)
  const family = familyOfAf(b[s]!)
  if (family === undefined) return undefined
  const ifindex = b.readInt32LE(s + 4)
  const nud = b.readUInt16LE(s + 8)
  const flags = b[s + 10]!
  // A hand-rolled scan of the four attributes we read: this runs once per entry of a dump.
  let dstO = -1,
    dstL = 0,
    llO = -1,
    llL = 0,
    protocol: number | undefined,
    ext = 0
  for (let off = s + NDMSG_LEN; off + NLA_HDRLEN <= m.end; ) {
    const alen = b.readUInt16LE(off)
    if (alen < NLA_HDRLEN || off + alen > m.end) throw decodeError(`bad neighbour attribute length ${alen} at offset ${off - s}`)
    const type = b.readUInt16LE(off + 2) & NLA_TYPE_MASK
    const o = off + NLA_HDRLEN,
      l = alen - NLA_HDRLEN
    if (type === NDA_DST) {
      dstO = o
      dstL = l
    } else if (type === NDA_LLADDR) {
      llO = o
      llL = l
    } else if (type === NDA_PROTOCOL) protocol = b[fixedAt(o, l, 1, 'NDA_PROTOCOL')]
    else if (type === NDA_FLAGS_EXT) ext = b.readUInt32LE(fixedAt(o, l, 4, 'NDA_FLAGS_EXT'))
    off += align4(alen)
  }
  if (dstO < 0) return undefined
  // One object literal with every field (absent ones undefined): one shape for all entries.
  return Object.freeze({
    family: inetFamily(family),
    dst: formatIP(b, dstO, dstL),
    dev: names?.get(ifindex),
    ifindex,
    lladdr: llL > 0 ? formatMac(b, llO, llL) : undefined,
    state: nud ? stateNames(nud) : undefined,
    router: flags & NTF_ROUTER ? true : undefined,
    proxy: flags & NTF_PROXY ? true : undefined,
    extern_learn: flags & NTF_EXT_LEARNED ? true : undefined,
    offload: flags & NTF_OFFLOADED ? true : undefined,
    managed: ext & NTF_EXT_MANAGED ? true : undefined,
    protocol,
  } as const) as Neighbor
}

const stateCache = new Map<number, readonly string[]>()

/** NUD bits → ['REACHABLE'], shared and frozen per value. */
function stateNames(nud: number): readonly string[] {
  let names = stateCache.get(nud)
  if (!names) {
    const out: string[] = []
    for (const [bit, name] of NUD_ORDER) if (nud & bit) out.push(name)
    names = Object.freeze(out)
    stateCache.set(nud, names)
  }
  return names
}

/** 'permanent', 'PERMANENT', ['STALE'] → NUD bits; throws on an unknown name. */
function parseState(v: unknown, c: SpecCheck): number {
  const list = typeof v === 'string' ? [v] : v
  if (!Array.isArray(list)) c.fail(`state must be a state name or an array of them, got ${show(v)}`)
  let bits = 0
  for (const s of list) {
    const bit = typeof s === 'string' ? NUD[s.toLowerCase()] : undefined
    if (bit === undefined) c.fail(`unknown neighbour state ${show(s)}`, `one of ${Object.keys(NUD).join(', ')}`)
    bits |= bit
  }
  return bits
}

/** NUD bits of a decoded entry (its state names are always known). */
function stateBits(names: readonly string[] | undefined): number {
  let bits = 0
  for (const n of names ?? []) bits |= NUD[n.toLowerCase()] ?? 0
  return bits
}

const FILTER_KEYS = new Set(['link', 'family', 'state', 'proxy'])
/** What add/replace/delete take: the spec's fields and those list() returns (`offload` is kernel state, ignored). */
const SPEC_KEYS = new Set(['family', 'dst', 'dev', 'ifindex', 'lladdr', 'state', 'router', 'proxy', 'extern_learn', 'managed', 'protocol'])
const STATE_KEYS = new Set(['offload'])

interface Encoded {
  family: 4 | 6
  dst: Uint8Array
  lladdr?: Uint8Array
  state: number
  flags: number
  ext: number
  protocol?: number
  link: LinkRef
  object: string
}

export class Neighbors {
  constructor(readonly ctx: OpsContext) {}

  /** `ip neigh show [dev LINK] [-4|-6] [nud STATE]` (every state, as with `nud all`), or `ip neigh show proxy`. */
  async list(filter: NeighborFilter = {}, opts?: CallOptions): Promise<Neighbor[]> {
    const operation = 'neighbors.list'
    const c: SpecCheck = new SpecCheck({ operation, namespace: this.ctx.namespace })
    const f = c.object(filter, 'filter')
    c.only(f, FILTER_KEYS, 'filter')
    c.options(opts)
    const family = familyNumber(f.family, (m) => c.fail(m))
    const wanted = f.state === undefined ? undefined : parseState(f.state, c)
    const wantNone = f.state !== undefined && [f.state].flat().some((s) => String(s).toLowerCase() === 'none')
    if (f.proxy !== undefined) c.bool(f.proxy, 'filter.proxy')
    const link = f.link === undefined ? undefined : c.linkRef(f.link, 'filter.link')
    const ifindex = link === undefined ? 0 : await linkIndex(this.ctx, link, operation, opts)
    const proxy = f.proxy === true
    // Dumps on one socket run one at a time, so fetch the names first and decode in place.
    const names = await linkNames(this.ctx, opts)
    const all = await this.ctx.sock.dump(
      {
        type: RTM_GETNEIGH,
        operation,
        object: 'neighbours',
        body: (w) => {
          w.u8(family ? afOf(family) : AF_UNSPEC)
            .u8(0)
            .u16(0)
            .s32(0)
          w.u16(0)
            .u8(proxy ? NTF_PROXY : 0)
            .u8(0)
          if (ifindex) w.attrU32(NDA_IFINDEX, ifindex)
        },
      },
      (m) => (m.type === RTM_NEWNEIGH ? decodeNeighbor(m, names) : undefined),
      opts,
    )
    const out: Neighbor[] = []
    for (const n of all) {
      // Older kernels ignore NDA_IFINDEX in a dump request; filter here too.
      if (ifindex && n.ifindex !== ifindex) continue
      if (proxy !== (n.proxy === true)) continue
      if (wanted !== undefined) {
        const nud = stateBits(n.state)
        if (!(nud & wanted) && !(nud === 0 && wantNone)) continue
      }
      out.push(n)
    }
    return out
  }

  /** `ip neigh add DST lladdr MAC dev LINK [nud STATE] [router] [proxy]`; EEXIST when it is there already. */
  async add(entry: NeighborSpec, opts?: CallOptions): Promise<void> {
    await this.send(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_EXCL, entry, 'neighbors.add', opts)
  }

  /** `ip neigh replace ...`: creates the entry or overwrites it. */
  async replace(entry: NeighborSpec, opts?: CallOptions): Promise<void> {
    await this.send(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, entry, 'neighbors.replace', opts)
  }

  /** `ip neigh del DST dev LINK` (`ip neigh del proxy DST dev LINK` for proxies); accepts what list() returned. */
  async delete(entry: NeighborSpec, opts?: CallOptions): Promise<void> {
    await this.send(RTM_DELNEIGH, 0, entry, 'neighbors.delete', opts)
  }

  private async send(type: number, flags: number, entry: NeighborSpec, operation: string, opts?: CallOptions): Promise<void> {
    const e = this.encode(entry, operation, type === RTM_DELNEIGH, opts)
    const ifindex = await linkIndex(this.ctx, e.link, operation, opts)
    await this.ctx.sock.request({ type, flags, operation, object: e.object, body: (w) => writeNeighbor(w, e, ifindex) }, opts)
  }

  /** Validates everything before anything is sent. */
  private encode(entry: NeighborSpec, operation: string, forDelete: boolean, opts: CallOptions | undefined): Encoded {
    const ctx: { operation: string; namespace: string | undefined; object?: string } = { operation, namespace: this.ctx.namespace }
    const c: SpecCheck = new SpecCheck(ctx)
    const o = c.object(entry, 'neighbour')
    const link = o.dev ?? o.ifindex
    ctx.object = `neighbour ${show(o.dst)} dev ${show(link)}`
    c.only(o, SPEC_KEYS, 'neighbour', STATE_KEYS)
    c.options(opts)
    if (typeof o.dst !== 'string') c.fail(`dst must be an IPv4 or IPv6 address string, got ${show(o.dst)}`)
    ctx.object = `neighbour ${o.dst} dev ${typeof link === 'string' || typeof link === 'number' ? link : show(link)}`
    const ip = parseIP(o.dst)
    if (!ip) c.fail(`dst "${o.dst}" is not an IPv4 or IPv6 address`)
    const family = familyNumber(o.family, (m) => c.fail(m))
    if (family !== undefined && family !== ip.family) c.fail(`family is IPv${family} but dst ${o.dst} is IPv${ip.family}`)
    if (link === undefined) c.fail('dev is required (the link the neighbour is on)')
    const ref = c.linkRef(link, o.dev !== undefined ? 'dev' : 'ifindex')
    let lladdr: Uint8Array | undefined
    if (o.lladdr !== undefined && !forDelete) {
      const b = typeof o.lladdr === 'string' ? parseMac(o.lladdr) : undefined
      if (!b) c.fail(`lladdr ${show(o.lladdr)} is not a MAC address (aa:bb:cc:dd:ee:ff)`)
      lladdr = b
    }
    const state = o.state === undefined ? NUD.permanent! : parseState(o.state, c)
    for (const k of ['router', 'proxy', 'extern_learn', 'managed'] as const) {
      if (o[k] !== undefined) c.bool(o[k], k)
    }
    const protocol = o.protocol === undefined ? undefined : c.int(o.protocol, 'protocol', 0, 255)
    let flags = 0
    if (o.proxy) flags |= NTF_PROXY
    if (!forDelete) {
      if (o.router) flags |= NTF_ROUTER
      if (o.extern_learn) flags |= NTF_EXT_LEARNED
    }
    return {
      family: ip.family,
      dst: ip.bytes,
      lladdr,
      state,
      flags,
      ext: !forDelete && o.managed ? NTF_EXT_MANAGED : 0,
      protocol: forDelete ? undefined : protocol,
      link: ref,
      object: ctx.object,
    }
  }
}

function writeNeighbor(w: Writer, e: Encoded, ifindex: number): void {
  w.u8(afOf(e.family)).u8(0).u16(0).s32(ifindex)
  w.u16(e.state).u8(e.flags).u8(0)
  w.attrBytes(NDA_DST, e.dst)
  if (e.lladdr) w.attrBytes(NDA_LLADDR, e.lladdr)
  if (e.ext) w.attrU32(NDA_FLAGS_EXT, e.ext)
  if (e.protocol !== undefined) w.attrU8(NDA_PROTOCOL, e.protocol)
}
