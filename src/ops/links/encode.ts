// Checking and encoding what add(), set() and delete() send. Checks run before anything
// is resolved or sent and end in EINVAL_ARGUMENT naming operation, link and namespace.
// The byte order of attributes follows iproute2, so the golden vectors compare exactly.
import { parseMac, type Writer } from '../../netlink/codec.js'
import type { ErrorContext } from '../../netlink/errors.js'
import type { LinkRef } from '../context.js'
import { checkNamespaceRef, type NamespaceRef } from '../netns-ref.js'
import { SpecCheck } from '../spec-check.js'
import {
  IFF_ALLMULTI,
  IFF_MULTICAST,
  IFF_NOARP,
  IFF_PROMISC,
  IFF_UP,
  IFLA_ADDRESS,
  IFLA_GROUP,
  IFLA_IFNAME,
  IFLA_INFO_DATA,
  IFLA_INFO_KIND,
  IFLA_LINKINFO,
  IFLA_MASTER,
  IFLA_MTU,
  IFLA_TXQLEN,
  writeAlias,
  writeDeviceAttrs,
  writeIfinfomsg,
} from './attrs.js'
import { checkKindChange, hasKindChange, writeKindChange } from './kind-change.js'
import { creatableKinds, type KindCodec, kindCodec, type Resolved } from './kinds/index.js'
import type { Link, LinkTarget } from './types.js'

const IFALIASZ = 256
const COMMON_KEYS = ['kind', 'name', 'mtu', 'address', 'txqlen', 'alias', 'master', 'namespace', 'up']

/** A checked add() request: what to resolve, then how to write it. */
export interface AddPlan {
  readonly spec: Readonly<Record<string, unknown>>
  readonly codec: KindCodec
  readonly name: string
  readonly kind: string
  /** Error context for everything that follows. */
  readonly ctx: ErrorContext
  /** Link names to resolve to indexes: `master`, `link` (parent) and the kind's own. */
  readonly linkRefs: Readonly<Record<string, LinkRef>>
  /** Namespaces to open: `self` (the device's) and the kind's own (veth `peer`). */
  readonly namespaces: Readonly<Record<string, NamespaceRef>>
}

/** Checks an add() spec (or a Link from list(), turned into one) without touching anything. */
export function planAdd(input: unknown, namespace: string | undefined): AddPlan {
  const base: ErrorContext = { operation: 'links.add', namespace }
  let spec = new SpecCheck(base).object(input, 'link spec')
  if (spec.name === undefined && typeof spec.ifname === 'string') spec = specFromLink(spec as unknown as Link, base)
  const name = typeof spec.name === 'string' ? spec.name : undefined
  const ctx: ErrorContext = { ...base, object: name === undefined ? 'link' : `link ${name}` }
  const c: SpecCheck = new SpecCheck(ctx)
  c.linkName(spec.name, 'name')
  if (spec.kind === undefined) c.fail('kind is missing', `one of: ${creatableKinds().join(', ')}`)
  if (typeof spec.kind !== 'string') c.fail(`kind must be a string, got ${JSON.stringify(spec.kind)}`)
  const codec = kindCodec(spec.kind)
  if (!codec) c.fail(`unknown link kind "${spec.kind}"`, `nsnet creates: ${creatableKinds().join(', ')}`)
  if (codec.notCreatable) c.fail(`cannot create a ${codec.kind} link: ${codec.notCreatable}`)

  const allowed = new Set([...COMMON_KEYS, ...codec.keys, ...(codec.parent ? ['link'] : [])])
  c.only(spec, allowed, `${codec.kind} spec`, new Set([...(codec.stateKeys ?? []), 'unknown']))
  if (spec.mtu !== undefined) c.int(spec.mtu, 'mtu', 0, 0xffffffff)
  if (spec.address !== undefined) c.mac(spec.address, 'address')
  if (spec.txqlen !== undefined) c.int(spec.txqlen, 'txqlen', 0, 0xffffffff)
  if (spec.alias !== undefined) {
    c.str(spec.alias, 'alias', IFALIASZ - 1)
    // It takes a second request (see Links.add), which can only reach this namespace.
    if (spec.namespace !== undefined) c.fail('alias cannot be set on a link created in another namespace; set it from a handle there')
  }
  if (spec.up !== undefined) c.bool(spec.up, 'up')
  const linkRefs: Record<string, LinkRef> = {}
  if (spec.master !== undefined) linkRefs.master = c.linkRef(spec.master, 'master')
  if (codec.parent === 'required' && spec.link === undefined) c.fail(`a ${codec.kind} needs its parent device: link`)
  if (spec.link !== undefined) linkRefs.link = c.linkRef(spec.link, 'link')
  const namespaces: Record<string, NamespaceRef> = {}
  if (spec.namespace !== undefined) namespaces.self = checkNamespaceRef(spec.namespace, ctx)
  codec.check?.(spec, c)
  Object.assign(linkRefs, codec.linkRefs?.(spec))
  for (const [k, ns] of Object.entries(codec.namespaceRefs?.(spec) ?? {})) namespaces[k] = checkNamespaceRef(ns, ctx, `${k}.namespace`)
  return { spec, codec, name: spec.name as string, kind: codec.kind, ctx, linkRefs, namespaces }
}

/**
 * A Link as list() returned it, as an add() spec: same kind, name, options and parent.
 * Kernel state in `info` is ignored by the check; a veth needs its peer in this namespace.
 */
function specFromLink(link: Link, base: ErrorContext): Record<string, unknown> {
  const c: SpecCheck = new SpecCheck({ ...base, object: `link ${link.ifname}` })
  if (!link.kind) c.fail('this link has no kind (a physical or loopback device); nothing to create')
  const codec = kindCodec(link.kind)
  const s: Record<string, unknown> = {}
  // Options still at the kernel's default are left to the kernel: only real choices are sent
  // (which also keeps out options this kernel reports but cannot set, such as vlanFiltering 0
  // without CONFIG_BRIDGE_VLAN_FILTERING).
  for (const [k, v] of Object.entries((link.info ?? {}) as Record<string, unknown>)) {
    if (!codec?.defaults || !(k in codec.defaults) || JSON.stringify(codec.defaults[k]) !== JSON.stringify(v)) s[k] = v
  }
  s.kind = link.kind
  s.name = link.ifname
  // 1500 and 1000 are what the kernel gives an Ethernet-like device unasked.
  if (link.mtu !== undefined && link.mtu !== 1500) s.mtu = link.mtu
  if (link.address && link.link_type === 'ether' && !/^(00:){5}00$/.test(link.address)) s.address = link.address
  if (link.txqlen !== undefined && link.txqlen !== 1000) s.txqlen = link.txqlen
  if (link.ifalias !== undefined) s.alias = link.ifalias
  if (link.master !== undefined) s.master = link.master
  if (link.flags.includes('UP')) s.up = true
  if (link.kind === 'veth') {
    if (link.link === undefined) c.fail('the peer is in another namespace; give peer: { name, namespace } yourself')
    s.peer = { name: link.link }
  } else if (codec?.parent) {
    if (link.link === undefined) c.fail('the parent device is not in this namespace')
    s.link = link.link
  }
  return s
}

/** The RTM_NEWLINK body of an add(): ifinfomsg, device attributes, IFLA_LINKINFO. */
export function writeAdd(w: Writer, plan: AddPlan, r: Resolved): void {
  const s = plan.spec
  writeIfinfomsg(w, 0, s.up ? IFF_UP : 0, s.up === undefined ? 0 : IFF_UP)
  writeDeviceAttrs(w, {
    name: plan.name,
    mtu: s.mtu as number | undefined,
    address: s.address === undefined ? undefined : parseMac(s.address as string),
    txqlen: s.txqlen as number | undefined,
    alias: s.alias as string | undefined,
    masterIndex: r.links.master,
    namespace: r.namespaces.self,
    linkIndex: r.links.link,
  })
  writeLinkInfo(w, plan.codec, s, r)
}

/** IFLA_LINKINFO { IFLA_INFO_KIND, IFLA_INFO_DATA? }; INFO_DATA is left out when the kind writes nothing. */
export function writeLinkInfo(w: Writer, codec: KindCodec, spec: Readonly<Record<string, unknown>>, r: Resolved): void {
  const info = w.beginNested(IFLA_LINKINFO)
  // Without a NUL, as iproute2 sends it (the kernel's policy is NLA_STRING).
  w.attrBytes(IFLA_INFO_KIND, Buffer.from(codec.kind))
  if (codec.writeData) {
    const data = w.beginNested(IFLA_INFO_DATA)
    codec.writeData(w, spec, r)
    if (w.pos === data + 4) w.pos = data
    else w.endNested(data)
  }
  w.endNested(info)
}

// ---------- set ----------

const CHANGE_KEYS = new Set([
  'up',
  'name',
  'mtu',
  'address',
  'alias',
  'master',
  'txqlen',
  'namespace',
  'promisc',
  'allmulticast',
  'multicast',
  'arp',
  'group',
  'info',
  'slaveKind',
  'slaveInfo',
])

/** ifi_flags bits that boolean changes toggle; `arp` is inverted (IFF_NOARP). */
const FLAG_CHANGES: ReadonlyArray<readonly [string, number, boolean]> = [
  ['up', IFF_UP, false],
  ['promisc', IFF_PROMISC, false],
  ['allmulticast', IFF_ALLMULTI, false],
  ['multicast', IFF_MULTICAST, false],
  ['arp', IFF_NOARP, true],
]

/** How a target is found: by index, or by name in the message itself. */
export interface Target {
  readonly index?: number
  readonly name?: string
  /** `link veth0` / `link #7`. */
  readonly object: string
}

/** Checks a set()/delete()/get() target: a name, an ifindex or a Link. */
export function checkTarget(target: unknown, c: SpecCheck): Target {
  if (typeof target === 'number') return { index: c.int(target, 'link index', 1, 0x7fffffff), object: `link #${target}` }
  if (typeof target === 'string') return { name: c.linkName(target, 'link name'), object: `link ${target}` }
  if (target && typeof target === 'object' && typeof (target as Link).ifindex === 'number') {
    const l = target as Link
    return { index: c.int(l.ifindex, 'ifindex', 1, 0x7fffffff), object: `link ${l.ifname ?? `#${l.ifindex}`}` }
  }
  c.fail(`expected a link name, ifindex or a Link from list(), got ${JSON.stringify(target)}`)
}

export interface SetPlan {
  readonly target: Target
  readonly changes: Readonly<Record<string, unknown>>
  readonly ctx: ErrorContext
  readonly linkRefs: Readonly<Record<string, LinkRef>>
  readonly namespaces: Readonly<Record<string, NamespaceRef>>
  /** True when the message would change nothing. */
  readonly empty: boolean
  /** A rename needs the target's index (the new name takes IFLA_IFNAME). */
  readonly needsIndex: boolean
}

export function planSet(target: LinkTarget, changes: unknown, namespace: string | undefined): SetPlan {
  const base: ErrorContext = { operation: 'links.set', namespace }
  const t = checkTarget(target, new SpecCheck(base))
  const ctx = { ...base, object: t.object }
  const c: SpecCheck = new SpecCheck(ctx)
  const ch = c.object(changes, 'changes')
  c.only(ch, CHANGE_KEYS, 'changes')
  for (const [k] of FLAG_CHANGES) if (ch[k] !== undefined) c.bool(ch[k], k)
  if (ch.name !== undefined) c.linkName(ch.name, 'name')
  if (ch.mtu !== undefined) c.int(ch.mtu, 'mtu', 0, 0xffffffff)
  if (ch.address !== undefined) c.mac(ch.address, 'address')
  if (ch.alias !== undefined && ch.alias !== null) c.str(ch.alias, 'alias', IFALIASZ - 1)
  if (ch.txqlen !== undefined) c.int(ch.txqlen, 'txqlen', 0, 0xffffffff)
  if (ch.group !== undefined) c.int(ch.group, 'group', 0, 0xffffffff)
  if (ch.info !== undefined) c.object(ch.info, 'info') // checked against the link's kind once it is known
  if (ch.slaveInfo !== undefined)
    checkKindChange({ slaveKind: ch.slaveKind as string | undefined, slaveInfo: ch.slaveInfo as Record<string, unknown> }, undefined, c)
  const linkRefs: Record<string, LinkRef> = {}
  if (ch.master !== undefined && ch.master !== null) linkRefs.master = c.linkRef(ch.master, 'master')
  const namespaces: Record<string, NamespaceRef> = {}
  if (ch.namespace !== undefined) {
    namespaces.self = checkNamespaceRef(ch.namespace, ctx)
    // The kernel moves the device first; an index or name for the master would then be
    // looked up in the new namespace, which is rarely what was meant.
    if (ch.master !== undefined && ch.master !== null) c.fail('cannot set master while moving to another namespace; set it from a handle in that namespace')
  }
  const empty = Object.keys(ch).every((k) => ch[k] === undefined)
  return { target: t, changes: ch, ctx, linkRefs, namespaces, empty, needsIndex: ch.name !== undefined && t.index === undefined }
}

/** The RTM_NEWLINK body of a set(), attributes in iproute2's order for `ip link set`. */
export function writeSet(w: Writer, plan: SetPlan, index: number | undefined, r: Resolved, kind?: string): void {
  const ch = plan.changes
  let flags = 0,
    change = 0
  for (const [k, bit, inverted] of FLAG_CHANGES) {
    if (ch[k] === undefined) continue
    change |= bit
    if (Boolean(ch[k]) !== inverted) flags |= bit
  }
  writeIfinfomsg(w, index ?? 0, flags, change)
  if (ch.mtu !== undefined) w.attrU32(IFLA_MTU, ch.mtu as number)
  if (ch.address !== undefined) w.attrBytes(IFLA_ADDRESS, parseMac(ch.address as string)!)
  if (ch.txqlen !== undefined) w.attrU32(IFLA_TXQLEN, ch.txqlen as number)
  if (ch.alias !== undefined) writeAlias(w, (ch.alias as string | null) ?? '')
  if (ch.master !== undefined) w.attrU32(IFLA_MASTER, ch.master === null ? 0 : r.links.master!)
  if (ch.group !== undefined) w.attrU32(IFLA_GROUP, ch.group as number)
  r.namespaces.self?.write(w)
  if (ch.name !== undefined) w.attrStr(IFLA_IFNAME, ch.name as string)
  else if (index === undefined) w.attrStr(IFLA_IFNAME, plan.target.name!)
  if (hasKindChange(ch)) writeKindChange(w, ch, kind, r)
}

/** Finds the target in a GET/DEL message: by index, else by IFLA_IFNAME. */
export function writeTarget(w: Writer, t: Target): void {
  writeIfinfomsg(w, t.index ?? 0)
  if (t.index === undefined) w.attrStr(IFLA_IFNAME, t.name!)
}
