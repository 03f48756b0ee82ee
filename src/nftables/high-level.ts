// NAT and forwarding in a table nsnet owns (`inet nsnet` by default), each call one
// transaction that creates the table and chain if needed and adds one rule. The chains:
//   postrouting  type nat hook postrouting priority srcnat   (masquerade, snat)
//   prerouting   type nat hook prerouting priority dstnat    (dnat: port forwarding)
//   forward      type filter hook forward priority filter    (forwardPolicy, allowForward)
//   loss         type filter hook postrouting priority filter (dropRandom)

import { parseCidr } from '../netlink/codec.js'
import { NLM_F_APPEND, NLM_F_CREATE } from '../netlink/constants.js'
import type { CallOptions } from '../netlink/engine.js'
import { NsnetError } from '../netlink/errors.js'
import { freeze } from '../ops/context.js'
import type { CommitOptions } from './batch.js'
import { NFT_MSG_DELRULE, NFT_MSG_GETCHAIN } from './constants.js'
import { chainMember, type NftContext, ruleMember, tableMember } from './context.js'
import { type Chain, chainBody, chainObject, decodeChain, decodeRule, type Rule, type Table } from './objects.js'
import type { PortSpec, Statement, TableFamily } from './statements.js'

export interface OwnedTable {
  /** The table written to; default `{ family: 'inet', name: 'nsnet' }`. */
  readonly table?: Pick<Table, 'family' | 'name'>
}

export interface MasqueradeOptions extends OwnedTable {
  /** Source prefix, e.g. `192.168.0.0/24` (IPv6 prefixes too). */
  readonly from: string
  /** Only traffic leaving this interface. */
  readonly out?: string
  /** Only traffic not leaving this interface (e.g. the LAN bridge itself). */
  readonly notOut?: string
}

export interface SnatOptions extends MasqueradeOptions {
  /** New source address (or `{ range: [a, b] }`), optionally with a port or port range. */
  readonly to: string | { readonly range: readonly [string, string] }
  readonly port?: PortSpec
}

export interface DnatOptions extends OwnedTable {
  /** Only traffic arriving on this interface. */
  readonly in?: string
  readonly proto: 'tcp' | 'udp'
  /** The destination port to forward (or a range). */
  readonly port: PortSpec
  /** Where it goes: `192.168.0.2` or `192.168.0.2:8080`. */
  readonly to: string
}

export interface AllowForwardOptions extends OwnedTable {
  readonly in?: string
  readonly out?: string
  /** Source prefix. */
  readonly from?: string
  /** Destination prefix. */
  readonly to?: string
  /** Allow packets of established and related connections (the usual first rule under policy drop). */
  readonly established?: boolean
}

export interface DropRandomOptions extends OwnedTable {
  /** Only packets leaving this interface. */
  readonly out?: string
}

const DEFAULT_TABLE = { family: 'inet', name: 'nsnet' } as const

const CHAINS = {
  postrouting: { type: 'nat', hook: 'postrouting', prio: 100, policy: 'accept' },
  prerouting: { type: 'nat', hook: 'prerouting', prio: -100, policy: 'accept' },
  forward: { type: 'filter', hook: 'forward', prio: 0, policy: 'accept' },
  loss: { type: 'filter', hook: 'postrouting', prio: 0, policy: 'accept' },
} as const
type OwnedChain = keyof typeof CHAINS

export class HighLevel {
  constructor(protected readonly c: NftContext) {}

  /** As `nft add rule inet nsnet postrouting ip saddr FROM [oifname OUT] [oifname != NOTOUT] masquerade` (iptables -t nat -A POSTROUTING -s FROM [! -o NOTOUT] -j MASQUERADE). */
  masquerade(opts: MasqueradeOptions, commitOpts?: CommitOptions): Promise<Rule> {
    const op = 'nft add rule (masquerade)'
    return this.addTo('postrouting', opts, [this.prefixMatch('saddr', opts.from, op), ...this.outMatches(opts), { masquerade: null }], commitOpts)
  }

  /** As `nft add rule inet nsnet postrouting ip saddr FROM ... snat ip to TO[:PORT]` (iptables -j SNAT --to-source). */
  snat(opts: SnatOptions, commitOpts?: CommitOptions): Promise<Rule> {
    const op = 'nft add rule (snat)'
    const fam = this.addressFamily(typeof opts.to === 'string' ? opts.to : opts.to?.range?.[0], op)
    const stmt: Statement = {
      snat: { ...(this.table(opts).family === 'inet' ? { family: fam } : {}), addr: opts.to, ...(opts.port === undefined ? {} : { port: opts.port }) },
    }
    return this.addTo('postrouting', opts, [this.prefixMatch('saddr', opts.from, op), ...this.outMatches(opts), stmt], commitOpts)
  }

  /** Port forwarding, as `nft add rule inet nsnet prerouting [iifname IN] tcp dport PORT dnat ip to ADDR[:PORT]` (iptables -t nat -A PREROUTING -p tcp --dport PORT -j DNAT --to-destination ADDR). */
  dnat(opts: DnatOptions, commitOpts?: CommitOptions): Promise<Rule> {
    const op = 'nft add rule (dnat)'
    if (!opts || (opts.proto !== 'tcp' && opts.proto !== 'udp')) throw this.bad(op, `proto must be "tcp" or "udp", got ${JSON.stringify(opts?.proto)}`)
    if (typeof opts.to !== 'string') throw this.bad(op, `to must be "ADDR" or "ADDR:PORT", got ${JSON.stringify(opts.to)}`)
    const m = /^\[(.+)\]:(\d+)$/.exec(opts.to) ?? /^([^:]+):(\d+)$/.exec(opts.to)
    const addr = m ? m[1]! : opts.to
    const port = m ? Number(m[2]) : undefined
    const fam = this.addressFamily(addr, op)
    const stmts: Statement[] = []
    if (opts.in !== undefined) stmts.push({ match: { op: '==', left: { meta: { key: 'iifname' } }, right: opts.in } })
    stmts.push({ match: { op: '==', left: { payload: { protocol: opts.proto, field: 'dport' } }, right: opts.port as never } })
    stmts.push({ dnat: { ...(this.table(opts).family === 'inet' ? { family: fam } : {}), addr, ...(port === undefined ? {} : { port }) } })
    return this.addTo('prerouting', opts, stmts, commitOpts)
  }

  /** The forward chain's policy, as `nft add chain inet nsnet forward { type filter hook forward priority filter; policy P; }` (iptables -P FORWARD P). */
  async forwardPolicy(policy: 'accept' | 'drop', opts: OwnedTable = {}, commitOpts?: CommitOptions): Promise<void> {
    if (policy !== 'accept' && policy !== 'drop')
      throw this.bad('nft add chain (forward policy)', `policy is "accept" or "drop", got ${JSON.stringify(policy)}`)
    const t = this.table(opts)
    await this.c.commit([tableMember(this.c, t), chainMember(this.c, { ...this.chain(t, 'forward'), policy })], commitOpts)
  }

  /** As `nft add rule inet nsnet forward [ct state established,related] [iifname IN] [oifname OUT] [ip saddr FROM] [ip daddr TO] accept` (iptables -A FORWARD ... -j ACCEPT). */
  allowForward(opts: AllowForwardOptions = {}, commitOpts?: CommitOptions): Promise<Rule> {
    const op = 'nft add rule (allow forward)'
    const s: Statement[] = []
    if (opts.established) s.push({ match: { op: 'in', left: { ct: { key: 'state' } }, right: ['established', 'related'] } })
    if (opts.in !== undefined) s.push({ match: { op: '==', left: { meta: { key: 'iifname' } }, right: opts.in } })
    if (opts.out !== undefined) s.push({ match: { op: '==', left: { meta: { key: 'oifname' } }, right: opts.out } })
    if (opts.from !== undefined) s.push(this.prefixMatch('saddr', opts.from, op))
    if (opts.to !== undefined) s.push(this.prefixMatch('daddr', opts.to, op))
    s.push({ accept: null })
    return this.addTo('forward', opts, s, commitOpts)
  }

  /** Every rule of the forward chain goes, as `nft flush chain inet nsnet forward` (iptables -F FORWARD). Nothing to do if there is no such chain. */
  async flushForward(opts: OwnedTable = {}, commitOpts?: CommitOptions): Promise<void> {
    const t = this.table(opts)
    const operation = 'nft flush chain'
    this.c.checkOptions(operation, commitOpts)
    const existing = (await this.listChains(t, { timeoutMs: commitOpts?.timeoutMs, signal: commitOpts?.signal })).some((c) => c.name === 'forward')
    if (!existing) return
    await this.c.commit(
      [
        {
          msg: NFT_MSG_DELRULE,
          flags: 0,
          body: chainBody(this.chain(t, 'forward') as Chain, this.c.where(operation), false),
          operation,
          object: chainObject(this.chain(t, 'forward')),
        },
      ],
      commitOpts,
    )
  }

  /** Loss emulation without netem, as `nft add rule inet nsnet loss [oifname OUT] numgen random mod 10000 < P*100 drop`. */
  dropRandom(percent: number, opts: DropRandomOptions = {}, commitOpts?: CommitOptions): Promise<Rule> {
    const op = 'nft add rule (drop random)'
    if (typeof percent !== 'number' || !(percent > 0 && percent <= 100)) throw this.bad(op, `percent must be in (0, 100], got ${JSON.stringify(percent)}`)
    const s: Statement[] = []
    if (opts.out !== undefined) s.push({ match: { op: '==', left: { meta: { key: 'oifname' } }, right: opts.out } })
    s.push({ match: { op: '<', left: { numgen: { mode: 'random', mod: 10000, offset: 0 } }, right: Math.round(percent * 100) } })
    s.push({ drop: null })
    return this.addTo('loss', opts, s, commitOpts)
  }

  private async listChains(t: Pick<Table, 'family' | 'name'>, opts?: CallOptions): Promise<Chain[]> {
    const all = await this.c.dump(NFT_MSG_GETCHAIN, 'nft list chains', decodeChain, { family: t.family as TableFamily }, opts)
    return all.filter((c) => c.table === t.name)
  }

  private table(o: OwnedTable | undefined): Pick<Table, 'family' | 'name'> {
    return o?.table ?? DEFAULT_TABLE
  }

  private chain(t: Pick<Table, 'family' | 'name'>, name: OwnedChain): Chain {
    return { family: t.family, table: t.name, name, ...CHAINS[name] }
  }

  private async addTo(chain: OwnedChain, opts: OwnedTable, expr: Statement[], commitOpts?: CommitOptions): Promise<Rule> {
    const t = this.table(opts)
    const rule: Rule = { family: t.family, table: t.name, chain, expr }
    // Adding the chain again must not reset a policy set by forwardPolicy(): leave it out.
    const { policy: _policy, ...chainSpec } = this.chain(t, chain)
    const members = [
      tableMember(this.c, t),
      chainMember(this.c, chain === 'forward' ? (chainSpec as Chain) : this.chain(t, chain)),
      { ...ruleMember(this.c, rule, 'nft add rule', NLM_F_CREATE | NLM_F_APPEND), echo: true },
    ]
    const res = await this.c.commit(members, commitOpts)
    const echoed = res.echoes.get(2)
    return freeze((echoed && decodeRule(echoed)) ?? rule)
  }

  private outMatches(o: { out?: string; notOut?: string }): Statement[] {
    const s: Statement[] = []
    if (o.out !== undefined) s.push({ match: { op: '==', left: { meta: { key: 'oifname' } }, right: o.out } })
    if (o.notOut !== undefined) s.push({ match: { op: '!=', left: { meta: { key: 'oifname' } }, right: o.notOut } })
    return s
  }

  private prefixMatch(field: 'saddr' | 'daddr', prefix: string, op: string): Statement {
    const c = typeof prefix === 'string' ? parseCidr(prefix) : undefined
    if (!c) throw this.bad(op, `${field === 'saddr' ? 'from' : 'to'} must be an address or prefix like 192.168.0.0/24, got ${JSON.stringify(prefix)}`)
    const protocol = c.family === 4 ? 'ip' : 'ip6'
    const max = c.family === 4 ? 32 : 128
    const right = c.prefixLength === max ? c.address : { prefix: { addr: c.address, len: c.prefixLength } }
    return { match: { op: '==', left: { payload: { protocol, field } }, right } }
  }

  private addressFamily(addr: string | undefined, op: string): 'ip' | 'ip6' {
    const c = typeof addr === 'string' ? parseCidr(addr) : undefined
    if (!c || c.prefixLength !== (c.family === 4 ? 32 : 128)) throw this.bad(op, `expected an address, got ${JSON.stringify(addr)}`)
    return c.family === 4 ? 'ip' : 'ip6'
  }

  private bad(operation: string, summary: string): NsnetError {
    return new NsnetError(summary, { code: 'EINVAL_ARGUMENT', operation, namespace: this.c.namespace })
  }
}
