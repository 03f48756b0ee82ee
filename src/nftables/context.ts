// What the nft API's parts share: the socket, the namespace label, transactions, dumps,
// and the members (NEWTABLE/NEWCHAIN/NEWRULE) both the low- and high-level API build.
import type { RawMessage } from '../netlink/codec.js'
import { NLM_F_CREATE } from '../netlink/constants.js'
import type { CallOptions, NetlinkSocket } from '../netlink/engine.js'
import { SpecCheck } from '../ops/spec-check.js'
import { type CommitOptions, type CommitResult, commit, type Member } from './batch.js'
import { NFT_MSG_GETRULE, NFT_MSG_NEWCHAIN, NFT_MSG_NEWRULE, NFT_MSG_NEWTABLE, NFTA_RULE_CHAIN, NFTA_RULE_TABLE, nftType } from './constants.js'
import { type Chain, chainBody, chainObject, familyNumber, nfgen, type Rule, ruleBody, ruleObject, type Table, tableBody, tableObject } from './objects.js'
import type { TableFamily } from './statements.js'

export interface ListFilter {
  readonly family?: TableFamily
  readonly table?: string
  readonly chain?: string
}

/** What a change's options may hold besides timeoutMs and signal (CommitOptions, and a rule's position). */
const COMMIT_OPTION_KEYS = ['genid', 'retries', 'position']
type RulePositionOption = { readonly position?: number }

export class NftContext {
  constructor(
    readonly sock: () => NetlinkSocket,
    readonly namespace: string | undefined,
  ) {}

  /** Commits members as one transaction (see batch.commit). */
  async commit(members: readonly Member[], opts?: CommitOptions & RulePositionOption): Promise<CommitResult> {
    // Every change goes through here: its call options are checked before anything is sent.
    this.checkOptions(members[0]?.operation ?? 'nft', opts)
    return commit(this.sock(), members, opts)
  }

  /** A change's options (timeoutMs, signal, genid, retries, position): EINVAL_ARGUMENT unless they are. */
  checkOptions(operation: string, opts: unknown): void {
    new SpecCheck({ operation, namespace: this.namespace }).options(opts, 'options', COMMIT_OPTION_KEYS)
  }

  /** A list() filter: undefined is none; anything but a plain object is EINVAL_ARGUMENT. */
  filter(operation: string, filter: unknown): ListFilter {
    if (filter === undefined) return {}
    if (filter === null || typeof filter !== 'object' || Array.isArray(filter)) {
      new SpecCheck({ operation, namespace: this.namespace }).fail(`the filter must be an object like { family, table }, got ${JSON.stringify(filter)}`)
    }
    return filter as ListFilter
  }

  async dump<T>(msg: number, operation: string, decode: (m: RawMessage) => T | undefined, filter: ListFilter = {}, opts?: CallOptions): Promise<T[]> {
    new SpecCheck({ operation, namespace: this.namespace }).options(opts)
    const family = filter.family === undefined ? 0 : familyNumber(filter.family, { operation, namespace: this.namespace })
    return this.sock().dump(
      {
        type: nftType(msg),
        operation,
        object: filter.table,
        body: (w) => {
          nfgen(w, family)
          if (msg === NFT_MSG_GETRULE && filter.table !== undefined) {
            w.attrStr(NFTA_RULE_TABLE, filter.table)
            if (filter.chain !== undefined) w.attrStr(NFTA_RULE_CHAIN, filter.chain)
          }
        },
      },
      decode,
      opts,
    )
  }

  where(operation: string): { operation: string; namespace: string | undefined } {
    return { operation, namespace: this.namespace }
  }
}

export function chainMember(c: NftContext, chain: Chain): Member {
  const operation = 'nft add chain'
  return { msg: NFT_MSG_NEWCHAIN, flags: NLM_F_CREATE, body: chainBody(chain, c.where(operation), true), operation, object: chainObject(chain) }
}

export function tableMember(c: NftContext, t: Pick<Table, 'family' | 'name'>): Member {
  const operation = 'nft add table'
  return { msg: NFT_MSG_NEWTABLE, flags: 0, body: tableBody(t, c.where(operation), true), operation, object: tableObject(t) }
}

export function ruleMember(c: NftContext, rule: Rule, operation: string, flags: number, place: { handle?: number; position?: number } = {}): Member {
  return { msg: NFT_MSG_NEWRULE, flags, body: ruleBody(rule, c.where(operation), place), operation, object: ruleObject(rule) }
}
