// Source NAT (masquerade) inside a router namespace. By default nsnet writes the rule
// itself over NETLINK_NETFILTER (rt.nft, through the namespace's helper), so no program is
// needed; `nft` and `iptables` remain as choices and run inside the namespace
// (`ip netns exec ROUTER ...`), so they only ever see that namespace's firewall.
import type { NftApi } from '../api.js'
import { NsnetError } from '../netlink/errors.js'
import { resolveProgram } from '../netns/exec.js'
import { netns } from '../netns/index.js'
import { formatRuleset } from '../nftables/text.js'
import { iptablesArgs, nftScript } from './plan.js'
import type { ResolvedNat } from './spec.js'

export type NatBackend = 'nsnet' | 'nft' | 'iptables'

/** What NAT needs of a namespace's rt.nft (a local Rtnl's or a helper handle's). */
/** What nsnet NAT needs of a namespace's rt.nft. */
type NatNft = Pick<NftApi, 'masquerade'>

/** The table every backend writes to, so that `nft list table ip nsnet` shows the rule whoever wrote it. */
export const NAT_TABLE = { family: 'ip', name: 'nsnet' } as const

function installed(prog: string): boolean {
  try {
    resolveProgram(prog, undefined, 'nat')
    return true
  } catch {
    return false
  }
}

/** Which writer makes the rule: nft or iptables when asked for (a clear error if missing), else nsnet itself. */
export function natBackend(wanted: ResolvedNat['backend'], namespace: string): NatBackend {
  const ctx = { operation: 'nat.add', namespace }
  if (wanted === 'nft' || wanted === 'iptables') {
    if (!installed(wanted))
      throw new NsnetError(`${wanted} is not installed`, { ...ctx, code: 'ENOENT', hint: 'install it, or use backend "auto" (nsnet writes the rule itself)' })
    return wanted
  }
  return 'nsnet'
}

async function run(ns: string, argv: string[], input?: string): Promise<string> {
  const r = await netns.exec(ns, argv, { timeoutMs: 15_000, ...(input === undefined ? {} : { input }) })
  if (r.code !== 0) {
    throw new NsnetError(`${argv.join(' ')} failed: ${(r.stderr || r.stdout).trim() || `exit ${r.code}`}`, {
      code: 'ENAT',
      operation: 'nat.add',
      namespace: ns,
    })
  }
  return r.stdout
}

/**
 * Masquerades `nat.masquerade` out of `nat.out` inside namespace `ns`: by nsnet as
 * `nft add rule ip nsnet postrouting ip saddr FROM oifname OUT masquerade` over netlink, or as
 * `ip netns exec NS nft -f -` / `ip netns exec NS iptables -t nat -A POSTROUTING ...`.
 */
export async function addNat(ns: string, nat: ResolvedNat, nft?: () => Promise<NatNft>): Promise<NatBackend> {
  const backend = natBackend(nat.backend, ns)
  if (backend === 'nsnet') {
    const api = nft ? await nft() : undefined
    if (!api) throw new NsnetError("nsnet NAT needs the namespace's rt.nft", { code: 'EINVAL_ARGUMENT', operation: 'nat.add', namespace: ns })
    await api.masquerade({ from: nat.masquerade, out: nat.out, table: NAT_TABLE })
  } else if (backend === 'nft') await run(ns, ['nft', '-f', '-'], nftScript(nat) + '\n')
  else await run(ns, ['iptables', ...iptablesArgs(nat)])
  return backend
}

/**
 * The NAT rules of namespace `ns` as text: nsnet reads table ip nsnet itself and prints it as
 * `nft list table ip nsnet` would; the others run `nft list table ip nsnet` or `iptables -t nat -S POSTROUTING`.
 */
export async function showNat(ns: string, backend: NatBackend = natBackend('auto', ns)): Promise<string> {
  if (backend === 'nsnet') {
    const h = await netns.open(ns)
    try {
      const all = await h.nft.ruleset()
      const mine = all.nftables.filter(
        (x) =>
          ('table' in x ? x.table : 'chain' in x ? x.chain : x.rule).family === NAT_TABLE.family &&
          ('table' in x ? x.table.name : 'chain' in x ? x.chain.table : x.rule.table) === NAT_TABLE.name,
      )
      return formatRuleset({ nftables: mine })
    } finally {
      await h.close()
    }
  }
  return backend === 'nft' ? run(ns, ['nft', 'list', 'table', 'ip', 'nsnet']) : run(ns, ['iptables', '-t', 'nat', '-S', 'POSTROUTING'])
}
