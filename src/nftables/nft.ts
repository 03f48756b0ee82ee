// rt.nft: nf_tables over its own NETLINK_NETFILTER socket. Low-level tables/chains/rules
// shaped like `nft -j list ruleset`, and high-level NAT and forwarding pieces written into
// a table nsnet owns (`inet nsnet` unless told otherwise). Every change is one transaction.
import { NLM_F_APPEND, NLM_F_CREATE, NLM_F_REPLACE } from '../netlink/constants.js'
import type { CallOptions, NetlinkSocket } from '../netlink/engine.js'
import { NsnetError } from '../netlink/errors.js'
import { freeze } from '../ops/context.js'
import { SpecCheck } from '../ops/spec-check.js'
import { type CommitOptions, type Member, readGeneration } from './batch.js'
import { NFT_MSG_DELCHAIN, NFT_MSG_DELRULE, NFT_MSG_DELTABLE, NFT_MSG_GETCHAIN, NFT_MSG_GETRULE, NFT_MSG_GETTABLE } from './constants.js'
import { chainMember, type ListFilter, NftContext, ruleMember, tableMember } from './context.js'
import { HighLevel } from './high-level.js'
import {
  type Chain,
  chainBody,
  chainObject,
  decodeChain,
  decodeRule,
  decodeTable,
  type Rule,
  ruleDeleteBody,
  ruleObject,
  type Table,
  tableBody,
  tableObject,
} from './objects.js'

export type { Chain, ListFilter, Rule, Table }

/** What `nft -j list ruleset` prints, without its metainfo entry. */
export interface Ruleset {
  readonly nftables: ReadonlyArray<{ readonly table: Table } | { readonly chain: Chain } | { readonly rule: Rule }>
}

/** Where a rule goes relative to another (its handle from rules.list()). */
export interface RulePosition {
  readonly position?: number
}

export class NftTables {
  constructor(private readonly c: NftContext) {}

  /** As `nft add table FAMILY NAME` (no error if it exists). */
  async add(t: Pick<Table, 'family' | 'name'>, opts?: CommitOptions): Promise<void> {
    await this.c.commit([tableMember(this.c, t)], opts)
  }

  /** As `nft delete table FAMILY NAME`: the table with all its chains and rules. */
  async delete(t: Pick<Table, 'family' | 'name'>, opts?: CommitOptions): Promise<void> {
    const operation = 'nft delete table'
    await this.c.commit([{ msg: NFT_MSG_DELTABLE, flags: 0, body: tableBody(t, this.c.where(operation), false), operation, object: tableObject(t) }], opts)
  }

  /** As `nft -j list tables [FAMILY]`. */
  async list(filter?: Pick<ListFilter, 'family'>, opts?: CallOptions): Promise<Table[]> {
    return freezeAll(await this.c.dump(NFT_MSG_GETTABLE, 'nft list tables', decodeTable, this.c.filter('nft list tables', filter), opts))
  }
}

export class NftChains {
  constructor(private readonly c: NftContext) {}

  /** As `nft add chain FAMILY TABLE NAME [{ type T hook H priority P; policy X; }]` (updates the policy if it exists). */
  async add(chain: Chain, opts?: CommitOptions): Promise<void> {
    await this.c.commit([chainMember(this.c, chain)], opts)
  }

  /** As `nft delete chain FAMILY TABLE NAME` (the chain must be empty and not jumped to). */
  async delete(chain: Pick<Chain, 'family' | 'table' | 'name'>, opts?: CommitOptions): Promise<void> {
    const operation = 'nft delete chain'
    await this.c.commit(
      [{ msg: NFT_MSG_DELCHAIN, flags: 0, body: chainBody(chain as Chain, this.c.where(operation), false), operation, object: chainObject(chain) }],
      opts,
    )
  }

  /** As `nft -j list chains [FAMILY]`, optionally of one table. */
  async list(filter?: Pick<ListFilter, 'family' | 'table'>, opts?: CallOptions): Promise<Chain[]> {
    const f = this.c.filter('nft list chains', filter)
    const all = await this.c.dump(NFT_MSG_GETCHAIN, 'nft list chains', decodeChain, f, opts)
    return freezeAll(f.table === undefined ? all : all.filter((c) => c.table === f.table))
  }
}

export class NftRules {
  constructor(private readonly c: NftContext) {}

  /** As `nft --echo --handle add rule FAMILY TABLE CHAIN STATEMENTS...` (after `position` if given); returns it with its handle. */
  async add(rule: Rule, opts: RulePosition & CommitOptions = {}): Promise<Rule> {
    return this.one(rule, 'nft add rule', NLM_F_CREATE | NLM_F_APPEND, { position: opts.position }, opts)
  }

  /** As `nft --echo --handle insert rule ...`: at the chain's start, or before `position`. */
  async insert(rule: Rule, opts: RulePosition & CommitOptions = {}): Promise<Rule> {
    return this.one(rule, 'nft insert rule', NLM_F_CREATE, { position: opts.position }, opts)
  }

  /** As `nft replace rule FAMILY TABLE CHAIN handle H STATEMENTS...` (the rule's own handle, e.g. from list()). */
  async replace(rule: Rule, opts: CommitOptions = {}): Promise<Rule> {
    if (rule?.handle === undefined) {
      throw new NsnetError("replace needs the rule's handle (take the rule from rules.list())", {
        code: 'EINVAL_ARGUMENT',
        operation: 'nft replace rule',
        object: rule ? ruleObject(rule) : undefined,
        namespace: this.c.namespace,
      })
    }
    return this.one(rule, 'nft replace rule', NLM_F_REPLACE, { handle: rule.handle }, opts)
  }

  /** As `nft delete rule FAMILY TABLE CHAIN handle H`; takes what list() returned. */
  async delete(rule: Pick<Rule, 'family' | 'table' | 'chain' | 'handle'>, opts?: CommitOptions): Promise<void> {
    const operation = 'nft delete rule'
    await this.c.commit([{ msg: NFT_MSG_DELRULE, flags: 0, body: ruleDeleteBody(rule, this.c.where(operation)), operation, object: ruleObject(rule) }], opts)
  }

  /** As `nft -f FILE` with one `add rule` line per rule, in one transaction where they fit one. */
  async addMany(rules: readonly Rule[], opts?: CommitOptions): Promise<{ added: number; transactions: number }> {
    if (!Array.isArray(rules)) {
      throw new NsnetError(`rules must be an array of rules, got ${JSON.stringify(rules)}`, {
        code: 'EINVAL_ARGUMENT',
        operation: 'nft add rule',
        namespace: this.c.namespace,
      })
    }
    const members = rules.map((r) => ruleMember(this.c, r, 'nft add rule', NLM_F_CREATE | NLM_F_APPEND))
    const res = await this.c.commit(members, opts)
    return { added: res.members, transactions: res.transactions }
  }

  /** As `nft -j list ruleset`'s rules, optionally of one family, table or chain (in chain order). */
  async list(rawFilter?: ListFilter, opts?: CallOptions): Promise<Rule[]> {
    const filter = this.c.filter('nft list ruleset', rawFilter)
    if (filter.chain !== undefined && filter.table === undefined) {
      throw new NsnetError('a chain filter needs its table', { code: 'EINVAL_ARGUMENT', operation: 'nft list chain', namespace: this.c.namespace })
    }
    return freezeAll(await this.c.dump(NFT_MSG_GETRULE, 'nft list ruleset', decodeRule, filter, opts))
  }

  private async one(rule: Rule, operation: string, flags: number, place: { handle?: number; position?: number }, opts: CommitOptions): Promise<Rule> {
    const m = { ...ruleMember(this.c, rule, operation, flags, place), echo: true }
    const res = await this.c.commit([m], opts)
    const echoed = res.echoes.get(0)
    const decoded = echoed && decodeRule(echoed)
    return freeze(decoded ?? { ...rule })
  }
}

/** nf_tables of one namespace: `rt.nft` (and `netns.open(name).nft`). */
export class Nft extends HighLevel {
  readonly tables: NftTables
  readonly chains: NftChains
  readonly rules: NftRules

  constructor(sock: () => NetlinkSocket, namespace: string | undefined) {
    const c = new NftContext(sock, namespace)
    super(c)
    this.tables = new NftTables(c)
    this.chains = new NftChains(c)
    this.rules = new NftRules(c)
  }

  /** As `nft flush table FAMILY NAME`: every rule of the table goes, its chains stay. */
  async flush(t: Pick<Table, 'family' | 'name'>, opts?: CommitOptions): Promise<void> {
    const operation = 'nft flush table'
    await this.c.commit([{ msg: NFT_MSG_DELRULE, flags: 0, body: tableBody(t, this.c.where(operation), false), operation, object: tableObject(t) }], opts)
  }

  /** As `nft -j list ruleset` (without the metainfo entry): each table, its chains, then their rules in chain order. */
  async ruleset(opts?: CallOptions): Promise<Ruleset> {
    const [tables, chains, rules] = await Promise.all([this.tables.list({}, opts), this.chains.list({}, opts), this.rules.list({}, opts)])
    const out: Array<{ table: Table } | { chain: Chain } | { rule: Rule }> = []
    for (const t of tables) {
      out.push({ table: t })
      const mine = chains.filter((c) => c.family === t.family && c.table === t.name)
      for (const c of mine) out.push({ chain: c })
      for (const c of mine) for (const r of rules) if (r.family === t.family && r.table === t.name && r.chain === c.name) out.push({ rule: r })
    }
    return freeze({ nftables: out })
  }

  /**
   * As `nft -j -f FILE` of `add` objects: tables, chains and rules (shaped like ruleset()'s
   * entries) in one transaction where they fit one; nothing is applied if one is refused.
   */
  async load(ruleset: Ruleset, opts?: CommitOptions): Promise<{ members: number; transactions: number }> {
    const items = ruleset?.nftables
    if (!Array.isArray(items))
      throw new NsnetError('load takes { nftables: [...] } as ruleset() returns it', {
        code: 'EINVAL_ARGUMENT',
        operation: 'nft -j -f',
        namespace: this.c.namespace,
      })
    const members = items.map((item, index): Member => {
      if (item && 'table' in item) return tableMember(this.c, item.table)
      if (item && 'chain' in item) return chainMember(this.c, item.chain)
      if (item && 'rule' in item) return ruleMember(this.c, item.rule, 'nft add rule', NLM_F_CREATE | NLM_F_APPEND)
      throw new NsnetError(`item ${index} is not { table }, { chain } or { rule }`, {
        code: 'EINVAL_ARGUMENT',
        operation: 'nft -j -f',
        namespace: this.c.namespace,
        index,
      })
    })
    const res = await this.c.commit(members, opts)
    return { members: res.members, transactions: res.transactions }
  }

  /** The ruleset's generation id (NFT_MSG_GETGEN): pass it as `genid` to refuse a change if the ruleset moved on since. */
  async generation(opts?: CallOptions): Promise<number> {
    new SpecCheck({ operation: 'nft generation', namespace: this.c.namespace }).options(opts)
    return readGeneration(this.c.sock(), opts)
  }
}

function freezeAll<T>(a: T[]): T[] {
  for (const x of a) freeze(x)
  return a
}
