// Names <-> numbers for routing tables, protocols, scopes and route types, as iproute2
// knows them by default (its built-in tables plus the rt_tables / rt_protos / rt_scopes
// files it ships). Unknown numbers print as their decimal text, the way `ip -j` does.

export const RT_TABLE_UNSPEC = 0
export const RT_TABLE_COMPAT = 252
export const RT_TABLE_DEFAULT = 253
export const RT_TABLE_MAIN = 254
export const RT_TABLE_LOCAL = 255

export const RT_SCOPE_UNIVERSE = 0
export const RT_SCOPE_SITE = 200
export const RT_SCOPE_LINK = 253
export const RT_SCOPE_HOST = 254
export const RT_SCOPE_NOWHERE = 255

export const RTPROT_UNSPEC = 0
export const RTPROT_KERNEL = 2
export const RTPROT_BOOT = 3

export const RTN_UNSPEC = 0
export const RTN_UNICAST = 1
export const RTN_LOCAL = 2
export const RTN_BROADCAST = 3
export const RTN_ANYCAST = 4
export const RTN_MULTICAST = 5
export const RTN_BLACKHOLE = 6
export const RTN_UNREACHABLE = 7
export const RTN_PROHIBIT = 8
export const RTN_THROW = 9
export const RTN_NAT = 10
export const RTN_XRESOLVE = 11

/** A two-way map whose number → name side is a dense array (no Map lookups on the decode path). */
class NameTable {
  readonly byNumber: string[]
  private readonly byName = new Map<string, number>()

  constructor(
    entries: ReadonlyArray<readonly [number, string]>,
    readonly max: number,
    aliases: ReadonlyArray<readonly [string, number]> = [],
  ) {
    this.byNumber = new Array<string>(256)
    for (let i = 0; i < 256; i++) this.byNumber[i] = String(i)
    for (const [n, name] of entries) {
      this.byNumber[n] = name
      this.byName.set(name, n)
    }
    for (const [name, n] of aliases) this.byName.set(name, n)
  }

  name(n: number): string {
    return n < 256 ? this.byNumber[n]! : String(n)
  }

  /** A name or a number (or its decimal text) → number; undefined when neither fits. */
  number(v: string | number): number | undefined {
    if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v <= this.max ? v : undefined
    const known = this.byName.get(v)
    if (known !== undefined) return known
    if (/^(0|[1-9]\d{0,9})$/.test(v)) {
      const n = Number(v)
      return n <= this.max ? n : undefined
    }
    return undefined
  }

  names(): string[] {
    return [...this.byName.keys()]
  }
}

export const tables = new NameTable(
  [
    [RT_TABLE_UNSPEC, 'unspec'],
    [RT_TABLE_DEFAULT, 'default'],
    [RT_TABLE_MAIN, 'main'],
    [RT_TABLE_LOCAL, 'local'],
  ],
  0xffffffff,
)

export const protocols = new NameTable(
  [
    [0, 'unspec'],
    [1, 'redirect'],
    [2, 'kernel'],
    [3, 'boot'],
    [4, 'static'],
    [8, 'gated'],
    [9, 'ra'],
    [10, 'mrt'],
    [11, 'zebra'],
    [12, 'bird'],
    [13, 'dnrouted'],
    [14, 'xorp'],
    [15, 'ntk'],
    [16, 'dhcp'],
    [18, 'keepalived'],
    [42, 'babel'],
    [99, 'openr'],
    [186, 'bgp'],
    [187, 'isis'],
    [188, 'ospf'],
    [189, 'rip'],
    [192, 'eigrp'],
  ],
  255,
)

export const scopes = new NameTable(
  [
    [RT_SCOPE_UNIVERSE, 'global'],
    [RT_SCOPE_SITE, 'site'],
    [RT_SCOPE_LINK, 'link'],
    [RT_SCOPE_HOST, 'host'],
    [RT_SCOPE_NOWHERE, 'nowhere'],
  ],
  255,
  [['universe', RT_SCOPE_UNIVERSE]],
)

export const routeTypes = new NameTable(
  [
    [RTN_UNSPEC, 'none'],
    [RTN_UNICAST, 'unicast'],
    [RTN_LOCAL, 'local'],
    [RTN_BROADCAST, 'broadcast'],
    [RTN_ANYCAST, 'anycast'],
    [RTN_MULTICAST, 'multicast'],
    [RTN_BLACKHOLE, 'blackhole'],
    [RTN_UNREACHABLE, 'unreachable'],
    [RTN_PROHIBIT, 'prohibit'],
    [RTN_THROW, 'throw'],
    [RTN_NAT, 'nat'],
    [RTN_XRESOLVE, 'xresolve'],
  ],
  RTN_XRESOLVE,
)
