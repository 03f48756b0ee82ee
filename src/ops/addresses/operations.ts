// Address operations: what `ip addr show|add|replace|del|flush` do, plus waiting for IPv6 DAD.
import { type Cidr, parseCidr, parseIP, type Writer } from '../../netlink/codec.js'
import { NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE } from '../../netlink/constants.js'
import type { CallOptions, Request } from '../../netlink/engine.js'
import { BatchError, NsnetError } from '../../netlink/errors.js'
import { pollWithBackoff } from '../../util/poll.js'
import { type LinkRef, linkIndex, linkNames, type OpsContext } from '../context.js'
import { RT_SCOPE_HOST, RT_SCOPE_UNIVERSE, scopes } from '../routes/tables.js'
import { AF_INET, AF_INET6, AF_UNSPEC, afOf, familyNumber, RTM_DELADDR, RTM_GETADDR, RTM_NEWADDR } from '../rtnl.js'
import { SpecCheck, show } from '../spec-check.js'
import { decodeAddress, type EncodedAddress, FOREVER, SETTABLE_FLAGS, writeAddress } from './codec.js'
import type { Address, AddressFilter, AddressOptions, FlushSelector, SettableAddressFlag, WaitReadyOptions } from './types.js'

export type * from './types.js'
export { decodeAddress }

const OPTION_KEYS = ['peer', 'broadcast', 'anycast', 'label', 'scope', 'flags', 'validLifetime', 'preferredLifetime', 'metric']
const FILTER_KEYS = ['link', 'family', 'label', 'scope']
const IFNAMSIZ = 16

/** The error's `object` for an address argument, whatever the caller passed. */
function objectOf(address: unknown, link: unknown): string {
  const a = typeof address === 'string' ? address : typeof (address as Address | null)?.local === 'string' ? (address as Address).local : show(address)
  return `address ${a} dev ${typeof link === 'string' || typeof link === 'number' ? link : show(link)}`
}

function checker(operation: string, namespace: string | undefined, object?: string): SpecCheck {
  return new SpecCheck({ operation, namespace, object })
}

function scopeNumber(v: unknown, check: SpecCheck): number | undefined {
  return v === undefined ? undefined : check.named(scopes, v, 'scope')
}

function parseAddressText(text: unknown, check: SpecCheck): Cidr {
  const c = typeof text === 'string' ? parseCidr(text) : undefined
  if (!c) check.fail(`${show(text)} is not an address like 10.0.0.1/24 or 2001:db8::1/64`)
  return c
}

/** `eth0:*` style patterns of `ip addr show label`. */
function labelMatcher(pattern: string): (label: string | undefined) => boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return (l) => l === pattern
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  )
  return (l) => l !== undefined && re.test(l)
}

function lifetime(v: unknown, what: string, check: SpecCheck): number | undefined {
  if (v === undefined) return undefined
  if (v === 'forever') return FOREVER
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > FOREVER) {
    check.fail(`${what} must be seconds (0..${FOREVER}) or 'forever', got ${show(v)}`)
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
  constructor(
    private readonly a: EncodedAddress,
    private readonly ifindex: number,
    readonly object: string,
  ) {}
  body(w: Writer): void {
    writeAddress(w, this.a, this.ifindex)
  }
}

/** What identifies an existing address to RTM_DELADDR: local, prefix length, peer, label. */
function identify(a: Address): EncodedAddress {
  const local = parseIP(a.local)!
  return {
    af: afOf(local.family),
    prefixlen: a.prefixlen,
    flags: 0,
    scope: 0,
    local: local.bytes,
    address: parseIP(a.address ?? a.local)!.bytes,
    label: a.label,
  }
}

/** What add()/replace() need to recreate an address list() returned. */
function listedAddress(a: Address, check: SpecCheck): [string, AddressOptions] {
  if (!a || typeof a !== 'object' || typeof a.local !== 'string' || typeof a.prefixlen !== 'number') {
    check.fail(`address must be text like '10.0.0.1/24' or an object from list(), got ${show(a)}`)
  }
  const life = (s: number | undefined) => (s === undefined || s === FOREVER ? undefined : s)
  const flags = [...SETTABLE_FLAGS.keys()].filter((f) => (a as unknown as Record<string, unknown>)[f] === true) as SettableAddressFlag[]
  const options: AddressOptions = {
    // The peer carries the prefix length (a bare peer would be /32, as with ip).
    peer: a.address === undefined ? undefined : `${a.address}/${a.prefixlen}`,
    broadcast: a.broadcast,
    anycast: a.anycast,
    label: a.label,
    scope: a.scope,
    metric: a.metric,
    validLifetime: life(a.valid_life_time),
    preferredLifetime: life(a.preferred_life_time),
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
  async list(filter: AddressFilter = {}, opts?: CallOptions): Promise<Address[]> {
    const check: SpecCheck = checker('addresses.list', this.ctx.namespace)
    const f = check.optional(filter, 'filter', FILTER_KEYS)
    check.options(opts)
    const call: CallOptions = opts ?? {}
    const family = familyNumber(f.family, (m) => check.fail(m))
    const scope = scopeNumber(f.scope, check)
    const label = f.label === undefined ? undefined : labelMatcher(check.str(f.label, 'filter.label', 255))
    const link = f.link === undefined ? undefined : check.linkRef(f.link, 'filter.link')
    const ifindex = link === undefined ? undefined : await linkIndex(this.ctx, link, 'addresses.list', call)
    const names = await linkNames(this.ctx, call)
    const scopeName = scope === undefined ? undefined : scopes.name(scope)
    return this.ctx.sock.dump(
      {
        type: RTM_GETADDR,
        operation: 'addresses.list',
        body: (w) => {
          w.u8(family === undefined ? AF_UNSPEC : afOf(family))
            .u8(0)
            .u8(0)
            .u8(0)
            .u32(0)
        },
      },
      (m) => {
        if (m.type !== RTM_NEWADDR) return undefined
        const af = m.buf[m.start]
        if (af !== AF_INET && af !== AF_INET6) return undefined
        if (ifindex !== undefined && m.buf.readUInt32LE(m.start + 4) !== ifindex) return undefined
        const a = decodeAddress(m, names)
        if (scopeName !== undefined && a.scope !== scopeName) return undefined
        // As ip: an address without a label (IPv6) goes by its link's name.
        if (label && !label(a.label ?? a.ifname)) return undefined
        return a
      },
      call,
    )
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
   * Removes one address, given as text (`10.0.0.1/24`; an IPv4 address without a length is the
   * one the link has, an IPv6 one is /128, both as ip does) or as an object list() returned.
   * `ip addr del 10.0.0.1/24 dev LINK`
   */
  async delete(link: LinkRef, address: string | Address, opts: CallOptions = {}): Promise<void> {
    const operation = 'addresses.delete'
    const check: SpecCheck = checker(operation, this.ctx.namespace, objectOf(address, link))
    check.linkRef(link, 'link')
    check.options(opts)
    let a: EncodedAddress
    let object: string
    if (typeof address === 'string') {
      const c = parseAddressText(address, check)
      if (!address.includes('/') && c.family === 4) {
        // `ip addr del A dev D` without a length: for IPv4, whichever prefix the link has A with.
        const found = (await this.list({ link, family: c.family, ...opts })).find((x) => x.local === c.address)
        if (!found) {
          throw new NsnetError(`link has no address ${c.address}`, { code: 'EADDRNOTAVAIL', errno: 99, ...check.ctx, hint: 'no such address on this link' })
        }
        a = identify(found)
        object = describe(found, link)
      } else {
        a = { af: afOf(c.family), prefixlen: c.prefixLength, flags: 0, scope: 0, local: c.bytes, address: c.bytes }
        object = `address ${address} dev ${link}`
      }
    } else if (address && typeof address === 'object' && typeof address.local === 'string' && typeof address.prefixlen === 'number') {
      if (!parseIP(address.local) || (address.address !== undefined && !parseIP(address.address))) check.fail(`not an address object from list()`)
      a = identify(address)
      object = describe(address, link)
    } else {
      check.fail(`address must be text like '10.0.0.1/24' or an object from list(), got ${show(address)}`)
    }
    const ifindex = await linkIndex(this.ctx, link, operation, opts)
    await this.ctx.sock.request({ type: RTM_DELADDR, operation, object, body: (w) => writeAddress(w, a, ifindex) }, opts)
  }

  /**
   * Removes every address of a link (or those with a label / family / scope) and says how many.
   * `ip addr flush dev LINK [label L]`
   */
  async flush(selector: LinkRef | FlushSelector, opts: CallOptions = {}): Promise<number> {
    const check: SpecCheck = checker('addresses.flush', this.ctx.namespace)
    const sel: FlushSelector = typeof selector === 'object' && selector !== null ? selector : { link: selector as LinkRef }
    check.only(sel as unknown as Record<string, unknown>, new Set(['link', 'label', 'family', 'scope']), 'selector')
    if (sel.link === undefined) check.fail(`flush needs a link`)
    check.linkRef(sel.link, 'link')
    check.options(opts)
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
    const check: SpecCheck = checker(operation, this.ctx.namespace, objectOf(address, link))
    check.linkRef(link, 'link')
    const c = parseAddressText(address, check)
    check.options(opts)
    const timeoutMs = opts.timeoutMs ?? 5000
    if (!(timeoutMs > 0)) check.fail(`timeoutMs must be positive, got ${timeoutMs}`)
    const where = check.ctx
    let last: Address | undefined
    const ready = await pollWithBackoff(
      async (msLeft) => {
        const all = await this.list({ link, family: c.family }, { timeoutMs: msLeft, signal: opts.signal })
        last = all.find((a) => a.local === c.address && (!address.includes('/') || a.prefixlen === c.prefixLength))
        if (last?.dadfailed) {
          throw new NsnetError('duplicate address detection failed: another host uses this address', {
            code: 'EDADFAILED',
            ...where,
            hint: "pick another address, or add it with flags: ['nodad']",
          })
        }
        return last && !last.tentative ? last : undefined
      },
      { timeoutMs, firstMs: 5, maxMs: 100, signal: opts.signal, where },
    )
    if (ready) return ready
    throw new NsnetError(last ? `still tentative after ${timeoutMs} ms` : `not on the link after ${timeoutMs} ms`, {
      code: 'ETIMEDOUT',
      ...where,
      hint: last ? 'DAD takes about a second per probe; is the link up with carrier?' : 'was it added to this link?',
    })
  }

  private async modify(operation: string, flags: number, link: LinkRef, given: string | Address, options: AddressOptions): Promise<void> {
    const check: SpecCheck = checker(operation, this.ctx.namespace, objectOf(given, link))
    check.linkRef(link, 'link')
    check.options(options, 'options', OPTION_KEYS)
    // An object from list() stands for its text and its options; options given too win.
    const [address, listed] = typeof given === 'string' ? [given, {}] : listedAddress(given, check)
    const a = this.encode(check, address, { ...listed, ...options })
    const ifindex = await linkIndex(this.ctx, link, operation, options)
    await this.ctx.sock.request({ type: RTM_NEWADDR, flags, operation, object: check.ctx.object, body: (w) => writeAddress(w, a, ifindex) }, options)
  }

  /** Checks everything `ip addr add` would, and more, before anything is sent. */
  private encode(check: SpecCheck, address: string, o: AddressOptions): EncodedAddress {
    const c = parseAddressText(address, check)
    const v4 = c.family === 4
    let prefixlen = c.prefixLength
    let peer: Cidr | undefined
    if (o.peer !== undefined) {
      peer = parseAddressText(o.peer, check)
      if (peer.family !== c.family) check.fail(`peer ${o.peer} is IPv${peer.family} but the address is IPv${c.family}`)
      // As ip: the peer's length is the prefix length, full length (/32, /128) when it has none.
      prefixlen = peer.prefixLength
    }
    let broadcast: Uint8Array | undefined
    if (o.broadcast !== undefined) {
      if (!v4) check.fail(`broadcast applies to IPv4 addresses only`)
      // As ip: `brd +` / `brd -` are computed from the peer when there is one.
      if (o.broadcast === '+' || o.broadcast === '-') broadcast = computedBroadcast({ ...(peer ?? c), prefixLength: prefixlen }, o.broadcast === '+')
      else broadcast = check.ip(o.broadcast, `broadcast (an address, '+' or '-')`, 4).bytes
    }
    const anycast = o.anycast === undefined ? undefined : check.ip(o.anycast, 'anycast', c.family).bytes
    if (o.label !== undefined) {
      if (!v4) check.fail(`labels apply to IPv4 addresses only`)
      // iproute2 >= 5.17 lets a label differ from the link name; the kernel only bounds its length.
      if (typeof o.label !== 'string' || !o.label || Buffer.byteLength(o.label) >= IFNAMSIZ || o.label.includes('\0')) {
        check.fail(`label must be 1..${IFNAMSIZ - 1} bytes without NUL, got ${show(o.label)}`)
      }
    }
    let flags = 0
    if (o.flags !== undefined) {
      if (!Array.isArray(o.flags)) check.fail(`flags must be an array like ['nodad']`)
      for (const f of o.flags) {
        const bit = SETTABLE_FLAGS.get(f)
        if (bit === undefined) check.fail(`unknown or read-only address flag ${show(f)}`, `settable: ${[...SETTABLE_FLAGS.keys()].join(', ')}`)
        flags |= bit
      }
    }
    let valid = lifetime(o.validLifetime, 'validLifetime', check)
    let preferred = lifetime(o.preferredLifetime, 'preferredLifetime', check)
    let lifetimes: EncodedAddress['lifetimes']
    if (valid !== undefined || preferred !== undefined) {
      valid ??= FOREVER
      preferred ??= valid
      if (valid === 0) check.fail(`validLifetime must not be 0`)
      if (preferred > valid) check.fail(`preferredLifetime (${preferred}) is longer than validLifetime (${valid})`)
      lifetimes = { valid, preferred }
    }
    const metric = o.metric === undefined ? undefined : check.int(o.metric, 'metric', 0, 0xffffffff)
    // As ip: 127.0.0.0/8 gets host scope unless told otherwise.
    const scope = scopeNumber(o.scope, check) ?? (v4 && c.bytes[0] === 127 ? RT_SCOPE_HOST : RT_SCOPE_UNIVERSE)
    return {
      af: afOf(c.family),
      prefixlen,
      flags,
      scope,
      local: c.bytes,
      address: peer?.bytes ?? c.bytes,
      broadcast,
      anycast,
      label: o.label,
      lifetimes,
      metric,
    }
  }
}
