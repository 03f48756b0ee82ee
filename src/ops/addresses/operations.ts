// Address operations: what `ip addr show|add|replace|del|flush` do, plus waiting for IPv6 DAD.
import { parseCidr, parseIP, type Cidr, type Writer } from '../../netlink/codec.js'
import { NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE } from '../../netlink/constants.js'
import type { CallOptions, Request } from '../../netlink/engine.js'
import { BatchError, NsnetError, invalidArgument } from '../../netlink/errors.js'
import { checkLinkName, linkIndex, linkNames, type LinkRef, type OpsContext } from '../context.js'
import { AF_INET, AF_INET6, AF_UNSPEC, RTM_DELADDR, RTM_GETADDR, RTM_NEWADDR, afOf, familyNumber } from '../rtnl.js'
import {
  FOREVER, SETTABLE_FLAGS, decodeAddress, writeAddress, type EncodedAddress,
} from './codec.js'
import { scopes, RT_SCOPE_HOST, RT_SCOPE_UNIVERSE } from '../routes/tables.js'
import { pollWithBackoff } from '../../util/poll.js'
import type { Address, AddressFilter, AddressOptions, FlushSelector, SettableAddressFlag, WaitReadyOptions } from './types.js'

export { decodeAddress }
export type * from './types.js'

const OPTION_KEYS = new Set([
  'peer', 'broadcast', 'anycast', 'label', 'scope', 'flags', 'validLifetime', 'preferredLifetime', 'metric',
  'timeoutMs', 'signal',
])
const FILTER_KEYS = new Set(['link', 'family', 'label', 'scope', 'timeoutMs', 'signal'])
const IFNAMSIZ = 16

interface Where { readonly operation: string; readonly namespace: string | undefined; readonly object?: string }

/** A link as the address methods take it: a valid name or an ifindex. */
function checkLink(link: unknown, ctx: OpsContext, where: Where): void {
  if (typeof link === 'string') checkLinkName(link, ctx, where.operation)
  else if (typeof link !== 'number') bad(where, `link must be a name or an ifindex, got ${JSON.stringify(link)}`)
}

/** The error's `object` for an address argument, whatever the caller passed. */
function objectOf(address: unknown, link: unknown): string {
  const a = typeof address === 'string' ? address
    : typeof (address as Address | null)?.local === 'string' ? (address as Address).local : JSON.stringify(address)
  return `address ${a} dev ${typeof link === 'string' || typeof link === 'number' ? link : JSON.stringify(link)}`
}

function bad(where: Where, summary: string, hint?: string): never {
  throw invalidArgument(summary, { ...where, hint })
}


function scopeNumber(v: unknown, where: Where): number | undefined {
  if (v === undefined) return undefined
  const n = typeof v === 'string' || typeof v === 'number' ? scopes.number(v) : undefined
  return n === undefined ? bad(where, `unknown scope ${JSON.stringify(v)}`, `use a number or one of: ${scopes.names().join(', ')}`) : n
}

function parseAddressText(text: unknown, where: Where): Cidr {
  const c = typeof text === 'string' ? parseCidr(text) : undefined
  if (!c) return bad(where, `${JSON.stringify(text)} is not an address like 10.0.0.1/24 or 2001:db8::1/64`)
  return c
}

/** `eth0:*` style patterns of `ip addr show label`. */
function labelMatcher(pattern: string): (label: string | undefined) => boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return (l) => l === pattern
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`)
  return (l) => l !== undefined && re.test(l)
}

function lifetime(v: unknown, what: string, where: Where): number | undefined {
  if (v === undefined) return undefined
  if (v === 'forever') return FOREVER
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > FOREVER) {
    return bad(where, `${what} must be seconds (0..${FOREVER}) or 'forever', got ${JSON.stringify(v)}`)
  }
  return v
}

/** The bytes `brd +` / `brd -` stand for: host bits all set or all clear (IPv4, prefixes up to /30). */
function computedBroadcast(c: Cidr, plus: boolean): Uint8Array | undefined {
  if (c.prefixLength > 30) return undefined
  const out = new Uint8Array(c.bytes)
  for (let bit = c.prefixLength; bit < 32; bit++) {
    const mask = 0x80 >> (bit % 8)
    if (plus) out[bit >> 3]! |= mask
    else out[bit >> 3]! &= ~mask
  }
  return out
}

/** One address message for a batch (flush); a class so many of them need no closures. */
class AddressRequest implements Request {
  readonly type = RTM_DELADDR
  readonly operation = 'addresses.flush'
  constructor(private readonly a: EncodedAddress, private readonly ifindex: number, readonly object: string) {}
  body(w: Writer): void { writeAddress(w, this.a, this.ifindex) }
}

/** What identifies an existing address to RTM_DELADDR: local, prefix length, peer, label. */
function identify(a: Address): EncodedAddress {
  const local = parseIP(a.local)!
  return {
    af: afOf(local.family), prefixlen: a.prefixlen, flags: 0, scope: 0, local: local.bytes,
    address: parseIP(a.address ?? a.local)!.bytes, label: a.label,
  }
}

/** What add()/replace() need to recreate an address list() returned. */
function listedAddress(a: Address, where: Where): [string, AddressOptions] {
  if (!a || typeof a !== 'object' || typeof a.local !== 'string' || typeof a.prefixlen !== 'number') {
    bad(where, `address must be text like '10.0.0.1/24' or an object from list(), got ${JSON.stringify(a)}`)
  }
  const life = (s: number | undefined) => (s === undefined || s === FOREVER ? undefined : s)
  const flags = [...SETTABLE_FLAGS.keys()].filter((f) => (a as unknown as Record<string, unknown>)[f] === true) as SettableAddressFlag[]
  const options: AddressOptions = {
    peer: a.address, broadcast: a.broadcast, anycast: a.anycast, label: a.label, scope: a.scope,
    metric: a.metric, validLifetime: life(a.valid_life_time), preferredLifetime: life(a.preferred_life_time),
    flags: flags.length ? flags : undefined,
  }
  // undefined keys would still count as given; keep only what the object holds.
  const kept = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as AddressOptions
  return [`${a.local}/${a.prefixlen}`, kept]
}

const describe = (a: { local: string; prefixlen: number; address?: string }, dev: string | number) =>
  `address ${a.local}${a.address ? ` peer ${a.address}` : ''}/${a.prefixlen} dev ${dev}`

export class Addresses {
  constructor(readonly ctx: OpsContext) {}

  /** The addresses of every link or one (`ip addr show [dev D] [label L] [scope S]`, `-4`/`-6` as family). */
  async list(filter: AddressFilter = {}): Promise<Address[]> {
    const where = { operation: 'addresses.list', namespace: this.ctx.namespace }
    if (!filter || typeof filter !== 'object') bad(where, `filter must be an object`)
    for (const k of Object.keys(filter)) if (!FILTER_KEYS.has(k)) bad(where, `unknown address filter ${JSON.stringify(k)}`)
    const family = familyNumber(filter.family, (m) => bad(where, m))
    const scope = scopeNumber(filter.scope, where)
    if (filter.label !== undefined && typeof filter.label !== 'string') bad(where, `label must be a string`)
    const label = filter.label === undefined ? undefined : labelMatcher(filter.label)
    const ifindex = filter.link === undefined ? undefined : await linkIndex(this.ctx, filter.link, where.operation, filter)
    const names = await linkNames(this.ctx, filter)
    const scopeName = scope === undefined ? undefined : scopes.name(scope)
    return this.ctx.sock.dump({
      type: RTM_GETADDR, operation: where.operation,
      body: (w) => { w.u8(family === undefined ? AF_UNSPEC : afOf(family)).u8(0).u8(0).u8(0).u32(0) },
    }, (m) => {
      if (m.type !== RTM_NEWADDR) return undefined
      const af = m.buf[m.start]
      if (af !== AF_INET && af !== AF_INET6) return undefined
      if (ifindex !== undefined && m.buf.readUInt32LE(m.start + 4) !== ifindex) return undefined
      const a = decodeAddress(m, names)
      if (scopeName !== undefined && a.scope !== scopeName) return undefined
      // As ip: an address without a label (IPv6) goes by its link's name.
      if (label && !label(a.label ?? a.ifname)) return undefined
      return a
    }, filter)
  }

  /** Adds an address; EEXIST if the link has it. `ip addr add 10.0.0.1/24 dev LINK [peer P] [brd +] [label L] [scope S] [nodad ...] [valid_lft N] [preferred_lft N] [metric N]` */
  async add(link: LinkRef, address: string | Address, options: AddressOptions = {}): Promise<void> {
    await this.modify('addresses.add', NLM_F_CREATE | NLM_F_EXCL, link, address, options)
  }

  /** Adds or updates (lifetimes, flags...) an address. `ip addr replace ...` */
  async replace(link: LinkRef, address: string | Address, options: AddressOptions = {}): Promise<void> {
    await this.modify('addresses.replace', NLM_F_CREATE | NLM_F_REPLACE, link, address, options)
  }

  /**
   * Removes one address, given as text (`10.0.0.1/24`; without a length, the one the link has)
   * or as an object list() returned. `ip addr del 10.0.0.1/24 dev LINK`
   */
  async delete(link: LinkRef, address: string | Address, opts: CallOptions = {}): Promise<void> {
    const operation = 'addresses.delete'
    const where: Where = { operation, namespace: this.ctx.namespace, object: objectOf(address, link) }
    let a: EncodedAddress
    let object: string
    if (typeof address === 'string') {
      const c = parseAddressText(address, where)
      if (!address.includes('/')) {
        // `ip addr del A dev D` without a length: delete whichever prefix the link has A with.
        const found = (await this.list({ link, family: c.family, ...opts })).find((x) => x.local === c.address)
        if (!found) {
          throw new NsnetError(`link has no address ${c.address}`, { code: 'EADDRNOTAVAIL', errno: 99, ...where, hint: 'no such address on this link' })
        }
        a = identify(found)
        object = describe(found, link)
      } else {
        a = { af: afOf(c.family), prefixlen: c.prefixLength, flags: 0, scope: 0, local: c.bytes, address: c.bytes }
        object = `address ${address} dev ${link}`
      }
    } else if (address && typeof address === 'object' && typeof address.local === 'string' && typeof address.prefixlen === 'number') {
      if (!parseIP(address.local) || (address.address !== undefined && !parseIP(address.address))) bad(where, `not an address object from list()`)
      a = identify(address)
      object = describe(address, link)
    } else {
      return bad(where, `address must be text like '10.0.0.1/24' or an object from list(), got ${JSON.stringify(address)}`)
    }
    const ifindex = await linkIndex(this.ctx, link, operation, opts)
    await this.ctx.sock.request({ type: RTM_DELADDR, operation, object, body: (w) => writeAddress(w, a, ifindex) }, opts)
  }

  /**
   * Removes every address of a link (or those with a label / family / scope) and says how many.
   * `ip addr flush dev LINK [label L]`
   */
  async flush(selector: LinkRef | FlushSelector, opts: CallOptions = {}): Promise<number> {
    const sel: FlushSelector = typeof selector === 'object' && selector !== null ? selector : { link: selector as LinkRef }
    const operation = 'addresses.flush'
    if (sel.link === undefined) bad({ operation, namespace: this.ctx.namespace }, `flush needs a link`)
    const found = await this.list({ link: sel.link, label: sel.label, family: sel.family, scope: sel.scope, ...opts })
    if (!found.length) return 0
    // Secondaries first: removing a primary takes its secondaries with it (unless promoted).
    const order = [...found].sort((x, y) => Number(!x.secondary) - Number(!y.secondary))
    const reqs = order.map((a) => new AddressRequest(identify(a), a.ifindex, describe(a, a.ifname)))
    try {
      await this.ctx.sock.batch(reqs, opts)
    } catch (e) {
      // Already gone with its primary: that is what flush wanted.
      if (!(e instanceof BatchError) || e.failures.some((f) => f.code !== 'EADDRNOTAVAIL')) throw e
    }
    return found.length
  }

  /**
   * Resolves with the address once it is usable: present and, for IPv6, duplicate address
   * detection finished (no longer tentative). Rejects with EDADFAILED if DAD found a duplicate,
   * ETIMEDOUT at the deadline. Polls with a short backoff; there is no fixed sleep.
   * (What `ip addr show` shows as the `tentative` flag going away.)
   */
  async waitReady(link: LinkRef, address: string, opts: WaitReadyOptions = {}): Promise<Address> {
    const operation = 'addresses.waitReady'
    const where: Where = { operation, namespace: this.ctx.namespace, object: objectOf(address, link) }
    checkLink(link, this.ctx, where)
    const c = parseAddressText(address, where)
    const timeoutMs = opts.timeoutMs ?? 5000
    if (!(timeoutMs > 0)) bad(where, `timeoutMs must be positive, got ${timeoutMs}`)
    let last: Address | undefined
    const ready = await pollWithBackoff(async (msLeft) => {
      const all = await this.list({ link, family: c.family, timeoutMs: msLeft, signal: opts.signal })
      last = all.find((a) => a.local === c.address && (!address.includes('/') || a.prefixlen === c.prefixLength))
      if (last?.dadfailed) {
        throw new NsnetError('duplicate address detection failed: another host uses this address', {
          code: 'EDADFAILED', ...where, hint: 'pick another address, or add it with flags: [\'nodad\']',
        })
      }
      return last && !last.tentative ? last : undefined
    }, { timeoutMs, firstMs: 5, maxMs: 100, signal: opts.signal, where })
    if (ready) return ready
    throw new NsnetError(last ? `still tentative after ${timeoutMs} ms` : `not on the link after ${timeoutMs} ms`, {
      code: 'ETIMEDOUT', ...where,
      hint: last ? 'DAD takes about a second per probe; is the link up with carrier?' : 'was it added to this link?',
    })
  }

  private async modify(operation: string, flags: number, link: LinkRef, given: string | Address, options: AddressOptions): Promise<void> {
    const where: Where = { operation, namespace: this.ctx.namespace, object: objectOf(given, link) }
    // An object from list() stands for its text and its options; options given too win.
    const [address, listed] = typeof given === 'string' ? [given, {}] : listedAddress(given, where)
    const a = this.encode(where, link, address, { ...listed, ...options })
    const ifindex = await linkIndex(this.ctx, link, operation, options)
    await this.ctx.sock.request({ type: RTM_NEWADDR, flags, operation, object: where.object, body: (w) => writeAddress(w, a, ifindex) }, options)
  }

  /** Checks everything `ip addr add` would, and more, before anything is sent. */
  private encode(where: Where, link: LinkRef, address: string, o: AddressOptions): EncodedAddress {
    checkLink(link, this.ctx, where)
    if (!o || typeof o !== 'object') bad(where, `options must be an object`)
    for (const k of Object.keys(o)) if (!OPTION_KEYS.has(k)) bad(where, `unknown address option ${JSON.stringify(k)}`)
    const c = parseAddressText(address, where)
    const v4 = c.family === 4
    let prefixlen = c.prefixLength
    let peer: Uint8Array | undefined
    if (o.peer !== undefined) {
      const p = parseAddressText(o.peer, where)
      if (p.family !== c.family) bad(where, `peer ${o.peer} is IPv${p.family} but the address is IPv${c.family}`)
      peer = p.bytes
      // As ip: `peer P/len` gives the prefix length.
      if (o.peer.includes('/')) prefixlen = p.prefixLength
    }
    let broadcast: Uint8Array | undefined
    if (o.broadcast !== undefined) {
      if (!v4) bad(where, `broadcast applies to IPv4 addresses only`)
      if (o.broadcast === '+' || o.broadcast === '-') broadcast = computedBroadcast({ ...c, prefixLength: prefixlen }, o.broadcast === '+')
      else {
        const b = typeof o.broadcast === 'string' ? parseIP(o.broadcast) : undefined
        if (!b || b.family !== 4) bad(where, `broadcast must be an IPv4 address, '+' or '-', got ${JSON.stringify(o.broadcast)}`)
        broadcast = b.bytes
      }
    }
    let anycast: Uint8Array | undefined
    if (o.anycast !== undefined) {
      const b = typeof o.anycast === 'string' ? parseIP(o.anycast) : undefined
      if (!b || b.family !== c.family) bad(where, `anycast must be an IPv${c.family} address, got ${JSON.stringify(o.anycast)}`)
      anycast = b.bytes
    }
    if (o.label !== undefined) {
      if (!v4) bad(where, `labels apply to IPv4 addresses only`)
      if (typeof o.label !== 'string' || !o.label || Buffer.byteLength(o.label) >= IFNAMSIZ) bad(where, `label must be 1..${IFNAMSIZ - 1} bytes, got ${JSON.stringify(o.label)}`)
      if (typeof link === 'string' && o.label !== link && !o.label.startsWith(`${link}:`)) {
        bad(where, `label "${o.label}" must be the link name or start with "${link}:"`, 'as ip requires, e.g. eth0:1')
      }
    }
    let flags = 0
    if (o.flags !== undefined) {
      if (!Array.isArray(o.flags)) bad(where, `flags must be an array like ['nodad']`)
      for (const f of o.flags) {
        const bit = SETTABLE_FLAGS.get(f)
        if (bit === undefined) bad(where, `unknown or read-only address flag ${JSON.stringify(f)}`, `settable: ${[...SETTABLE_FLAGS.keys()].join(', ')}`)
        flags |= bit
      }
    }
    let valid = lifetime(o.validLifetime, 'validLifetime', where)
    let preferred = lifetime(o.preferredLifetime, 'preferredLifetime', where)
    let lifetimes: EncodedAddress['lifetimes']
    if (valid !== undefined || preferred !== undefined) {
      valid ??= FOREVER
      preferred ??= valid
      if (valid === 0) bad(where, `validLifetime must not be 0`)
      if (preferred > valid) bad(where, `preferredLifetime (${preferred}) is longer than validLifetime (${valid})`)
      lifetimes = { valid, preferred }
    }
    let metric: number | undefined
    if (o.metric !== undefined) {
      if (!Number.isInteger(o.metric) || o.metric < 0 || o.metric > 0xffffffff) bad(where, `metric must be an integer 0..2^32-1, got ${o.metric}`)
      metric = o.metric
    }
    // As ip: 127.0.0.0/8 gets host scope unless told otherwise.
    const scope = scopeNumber(o.scope, where) ?? (v4 && c.bytes[0] === 127 ? RT_SCOPE_HOST : RT_SCOPE_UNIVERSE)
    return {
      af: afOf(c.family), prefixlen, flags, scope, local: c.bytes, address: peer ?? c.bytes,
      broadcast, anycast, label: o.label, lifetimes, metric,
    }
  }
}
