// Bridge VLANs: `bridge vlan add|del|show`. RTM_SETLINK/DELLINK with family AF_BRIDGE and
// IFLA_BRIDGE_VLAN_INFO inside IFLA_AF_SPEC; listed from an AF_BRIDGE link dump with
// RTEXT_FILTER_BRVLAN_COMPRESSED, shaped like `bridge -compressvlans -j vlan show`.
import { Attrs, forEachAttr, type RawMessage, type Writer } from '../../netlink/codec.js'
import type { CallOptions } from '../../netlink/engine.js'
import { isNsnetError, NsnetError } from '../../netlink/errors.js'
import { freeze, type LinkRef, linkIndex, linkNames, type OpsContext } from '../context.js'
import { AF_BRIDGE, IFINFOMSG_LEN, RTM_DELLINK, RTM_GETLINK, RTM_NEWLINK, RTM_SETLINK } from '../rtnl.js'
import { SpecCheck } from '../spec-check.js'
import { BRIDGE_FLAGS_MASTER, BRIDGE_FLAGS_SELF, beginPlainNest, IFLA_AF_SPEC, IFLA_BRIDGE_FLAGS, IFLA_BRIDGE_VLAN_INFO, IFLA_EXT_MASK } from './wire.js'

const BRIDGE_VLAN_INFO_PVID = 1 << 1
const BRIDGE_VLAN_INFO_UNTAGGED = 1 << 2
const BRIDGE_VLAN_INFO_RANGE_BEGIN = 1 << 3
const BRIDGE_VLAN_INFO_RANGE_END = 1 << 4
const RTEXT_FILTER_BRVLAN_COMPRESSED = 1 << 2
const IFLA_MAX = 60

/** One VLAN (or range) of a port, as `bridge -compressvlans -j vlan show` prints it. */
export interface BridgeVlan {
  readonly vlan: number
  /** Last VLAN of a range. */
  readonly vlanEnd?: number
  /** 'PVID' and/or 'Egress Untagged'; absent when neither. */
  readonly flags?: readonly string[]
}

/** A port (or the bridge itself) and its VLANs. */
export interface BridgeVlanPort {
  readonly ifname: string
  readonly vlans: readonly BridgeVlan[]
}

/** What add/delete take. */
export interface BridgeVlanSpec {
  /** A VLAN id 1..4094, or a range as `'10-20'` (or `vid` with `vidEnd`). */
  readonly vid: number | string
  readonly vidEnd?: number
  /** Ingress untagged frames get this VLAN (not for ranges). */
  readonly pvid?: boolean
  /** Egress untagged. */
  readonly untagged?: boolean
  /** `self`: the bridge device itself (given as dev), or the port's driver. */
  readonly self?: boolean
  /** `master`: the bridge the port is in (the kernel's default). */
  readonly master?: boolean
}

const SPEC_FIELDS = new Set(['vid', 'vidEnd', 'pvid', 'untagged', 'self', 'master'])

/** Why VLAN calls fail on kernels without CONFIG_BRIDGE_VLAN_FILTERING (it needs 802.1Q). */
export const NO_VLAN_FILTERING = 'kernel has no bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING, which needs 802.1Q support)'

/** Decodes one AF_BRIDGE RTM_NEWLINK's VLAN list; undefined when it carries none. */
export function decodeBridgeVlans(m: RawMessage, names?: ReadonlyMap<number, string>): BridgeVlanPort | undefined {
  const b = m.buf,
    s = m.start
  if (m.end - s < IFINFOMSG_LEN || b[s] !== AF_BRIDGE) return undefined
  const ifindex = b.readInt32LE(s + 4)
  const a = new Attrs(b, s + IFINFOMSG_LEN, m.end, IFLA_MAX)
  if (!a.has(IFLA_AF_SPEC)) return undefined
  const vlans: BridgeVlan[] = []
  let rangeStart = 0
  const o = a.offset(IFLA_AF_SPEC)
  forEachAttr(b, o, o + a.length(IFLA_AF_SPEC), (type, off, len) => {
    if (type !== IFLA_BRIDGE_VLAN_INFO || len < 4) return
    const flags = b.readUInt16LE(off)
    const vid = b.readUInt16LE(off + 2)
    if (flags & BRIDGE_VLAN_INFO_RANGE_BEGIN) {
      rangeStart = vid
      return
    }
    const first = flags & BRIDGE_VLAN_INFO_RANGE_END ? rangeStart : vid
    const names: string[] = []
    if (flags & BRIDGE_VLAN_INFO_PVID) names.push('PVID')
    if (flags & BRIDGE_VLAN_INFO_UNTAGGED) names.push('Egress Untagged')
    vlans.push({ vlan: first, vlanEnd: first !== vid ? vid : undefined, flags: names.length ? names : undefined })
  })
  if (!vlans.length) return undefined
  return freeze({ ifname: names?.get(ifindex) ?? `if${ifindex}`, vlans })
}

interface EncodedVlan {
  readonly vid: number
  readonly vidEnd?: number
  readonly infoFlags: number
  readonly flags: number
  readonly object: string
}

export class BridgeVlans {
  constructor(readonly ctx: OpsContext) {}

  /** `bridge -compressvlans vlan show [dev DEV]`. Empty on kernels without VLAN filtering, as bridge shows it. */
  async list(filter: { readonly dev?: LinkRef } = {}, opts?: CallOptions): Promise<BridgeVlanPort[]> {
    const operation = 'bridge.vlans.list'
    const c = new SpecCheck({ operation, object: 'bridge vlans', namespace: this.ctx.namespace })
    c.options(opts)
    const f = c.object(filter, 'filter')
    c.only(f, new Set(['dev']), 'filter')
    const dev = f.dev === undefined ? 0 : await linkIndex(this.ctx, c.linkRef(f.dev, 'filter dev'), operation, opts)
    const names = await linkNames(this.ctx, opts)
    const ports = await this.ctx.sock.dump(
      {
        type: RTM_GETLINK,
        operation,
        object: 'bridge vlans',
        body: writeVlanDump,
      },
      (m) => (m.type === RTM_NEWLINK && (!dev || m.buf.readInt32LE(m.start + 4) === dev) ? decodeBridgeVlans(m, names) : undefined),
      opts,
    )
    return ports
  }

  /** `bridge vlan add vid VID[-END] dev DEV [pvid] [untagged] [self] [master]`. */
  async add(dev: LinkRef, vlan: BridgeVlanSpec, opts?: CallOptions): Promise<void> {
    await this.send(RTM_SETLINK, dev, vlan, 'bridge.vlans.add', opts)
  }

  /** `bridge vlan del vid VID[-END] dev DEV [self] [master]`; accepts a BridgeVlan from list(). */
  async delete(dev: LinkRef, vlan: BridgeVlanSpec | BridgeVlan, opts?: CallOptions): Promise<void> {
    await this.send(RTM_DELLINK, dev, vlan, 'bridge.vlans.delete', opts)
  }

  private async send(type: number, dev: LinkRef, vlan: BridgeVlanSpec | BridgeVlan, operation: string, opts?: CallOptions): Promise<void> {
    const c = new SpecCheck({ operation, object: `vlan dev ${dev}`, namespace: this.ctx.namespace })
    c.options(opts)
    const devRef = c.linkRef(dev, 'dev')
    const e = encodeVlan(vlan, c, devRef)
    const ifindex = await linkIndex(this.ctx, devRef, operation, opts)
    try {
      await this.ctx.sock.request({ type, operation, object: e.object, body: (w) => writeVlan(w, ifindex, e) }, opts)
    } catch (err) {
      if (isNsnetError(err, 'EOPNOTSUPP')) {
        throw new NsnetError(NO_VLAN_FILTERING, {
          code: 'EUNSUPPORTED',
          errno: 95,
          operation,
          object: e.object,
          namespace: this.ctx.namespace,
          hint: 'the kernel answered EOPNOTSUPP; bridge vlan add/del fail the same way here',
          cause: err,
        })
      }
      throw err
    }
  }
}

/** Checks a VLAN spec completely; a BridgeVlan from list() (vlan, vlanEnd, flags) is read as one. */
export function encodeVlan(spec: BridgeVlanSpec | BridgeVlan, c: SpecCheck, dev: LinkRef): EncodedVlan {
  const o0 = c.object(spec, 'vlan')
  const o = 'vlan' in o0 && o0.vid === undefined ? fromListed(o0, c) : o0
  c.only(o, SPEC_FIELDS, 'vlan')
  let vid: number, vidEnd: number | undefined
  if (typeof o.vid === 'string') {
    const m = /^(\d{1,4})(?:-(\d{1,4}))?$/.exec(o.vid)
    if (!m) c.fail(`vid must be a VLAN id or a range like '10-20', got ${JSON.stringify(o.vid)}`)
    vid = c.int(Number(m[1]), 'vid', 1, 4094)
    vidEnd = m[2] === undefined ? undefined : c.int(Number(m[2]), 'vid range end', 1, 4094)
    if (o.vidEnd !== undefined) c.fail("give a range either as vid 'A-B' or as vid with vidEnd, not both")
  } else {
    if (o.vid === undefined) c.fail("vid is required (a VLAN id 1..4094 or a range 'A-B')")
    vid = c.int(o.vid, 'vid', 1, 4094)
    vidEnd = o.vidEnd === undefined ? undefined : c.int(o.vidEnd, 'vidEnd', 1, 4094)
  }
  if (vidEnd === vid) vidEnd = undefined
  if (vidEnd !== undefined && vidEnd < vid) c.fail(`VLAN range ${vid}-${vidEnd} ends before it starts`)
  let infoFlags = 0
  if (o.pvid !== undefined && c.bool(o.pvid, 'pvid')) infoFlags |= BRIDGE_VLAN_INFO_PVID
  if (o.untagged !== undefined && c.bool(o.untagged, 'untagged')) infoFlags |= BRIDGE_VLAN_INFO_UNTAGGED
  if (vidEnd !== undefined && infoFlags & BRIDGE_VLAN_INFO_PVID) c.fail('pvid cannot be set on a VLAN range (as in bridge vlan)')
  let flags = 0
  if (o.self !== undefined && c.bool(o.self, 'self')) flags |= BRIDGE_FLAGS_SELF
  if (o.master !== undefined && c.bool(o.master, 'master')) flags |= BRIDGE_FLAGS_MASTER
  return { vid, vidEnd, infoFlags, flags, object: `vlan ${vid}${vidEnd ? `-${vidEnd}` : ''} dev ${dev}` }
}

function fromListed(o: Record<string, unknown>, c: SpecCheck): Record<string, unknown> {
  c.only(o, new Set(['vlan', 'vlanEnd', 'flags']), 'vlan')
  const flags = o.flags === undefined ? [] : o.flags
  if (!Array.isArray(flags)) c.fail(`flags must be an array, got ${JSON.stringify(o.flags)}`)
  return { vid: o.vlan, vidEnd: o.vlanEnd, pvid: flags.includes('PVID') || undefined, untagged: flags.includes('Egress Untagged') || undefined }
}

/** The message body, in the order `bridge vlan add/del` writes it (byte-compared with its captures). */
export function writeVlan(w: Writer, ifindex: number, e: EncodedVlan): void {
  w.u8(AF_BRIDGE).u8(0).u16(0).s32(ifindex).u32(0).u32(0)
  const spec = beginPlainNest(w, IFLA_AF_SPEC)
  if (e.flags) w.attrU16(IFLA_BRIDGE_FLAGS, e.flags)
  if (e.vidEnd === undefined) {
    w.attrBytes(IFLA_BRIDGE_VLAN_INFO, vlanInfo(e.infoFlags, e.vid))
  } else {
    w.attrBytes(IFLA_BRIDGE_VLAN_INFO, vlanInfo(e.infoFlags | BRIDGE_VLAN_INFO_RANGE_BEGIN, e.vid))
    w.attrBytes(IFLA_BRIDGE_VLAN_INFO, vlanInfo(e.infoFlags | BRIDGE_VLAN_INFO_RANGE_END, e.vidEnd))
  }
  w.endNested(spec)
}

/** The dump request of `bridge -compressvlans vlan show`: AF_BRIDGE links with their VLAN lists as ranges. */
export function writeVlanDump(w: Writer): void {
  w.u8(AF_BRIDGE).u8(0).u16(0).s32(0).u32(0).u32(0)
  w.attrU32(IFLA_EXT_MASK, RTEXT_FILTER_BRVLAN_COMPRESSED)
}

/** struct bridge_vlan_info { u16 flags; u16 vid; }. */
function vlanInfo(flags: number, vid: number): Uint8Array {
  const b = Buffer.alloc(4)
  b.writeUInt16LE(flags, 0)
  b.writeUInt16LE(vid, 2)
  return b
}
