// Source NAT (masquerade) inside a router namespace, with nft where it is installed and
// iptables where only that is. Both run inside the namespace (`ip netns exec ROUTER ...`),
// so they only ever see that namespace's firewall, never the host's.
import { NsnetError } from '../netlink/errors.js'
import { resolveProgram } from '../netns/exec.js'
import { netns } from '../netns/index.js'
import { iptablesArgs, nftScript } from './plan.js'
import type { ResolvedNat } from './spec.js'

export type NatBackend = 'nft' | 'iptables'

function installed(prog: string): boolean {
  try {
    resolveProgram(prog, undefined, 'nat')
    return true
  } catch {
    return false
  }
}

/** Which tool writes the rule: the one asked for, else nft, else iptables; a clear error when neither exists. */
export function natBackend(wanted: ResolvedNat['backend'], namespace: string): NatBackend {
  const ctx = { operation: 'nat.add', namespace }
  if (wanted === 'nft' || wanted === 'iptables') {
    if (!installed(wanted)) throw new NsnetError(`${wanted} is not installed`, { ...ctx, code: 'ENOENT', hint: 'install it, or use backend "auto"' })
    return wanted
  }
  if (installed('nft')) return 'nft'
  if (installed('iptables')) return 'iptables'
  throw new NsnetError('NAT needs nft (nftables) or iptables, and neither is installed', {
    ...ctx, code: 'EUNSUPPORTED', hint: 'install the nftables or iptables package',
  })
}

async function run(ns: string, argv: string[], input?: string): Promise<string> {
  const r = await netns.exec(ns, argv, { timeoutMs: 15_000, ...(input === undefined ? {} : { input }) })
  if (r.code !== 0) {
    throw new NsnetError(`${argv.join(' ')} failed: ${(r.stderr || r.stdout).trim() || `exit ${r.code}`}`, {
      code: 'ENAT', operation: 'nat.add', namespace: ns,
    })
  }
  return r.stdout
}

/**
 * Masquerades `nat.masquerade` out of `nat.out` inside namespace `ns`, as
 * `ip netns exec NS nft -f -` (table ip nsnet) or `ip netns exec NS iptables -t nat -A POSTROUTING ...`.
 */
export async function addNat(ns: string, nat: ResolvedNat): Promise<NatBackend> {
  const backend = natBackend(nat.backend, ns)
  if (backend === 'nft') await run(ns, ['nft', '-f', '-'], nftScript(nat) + '\n')
  else await run(ns, ['iptables', ...iptablesArgs(nat)])
  return backend
}

/** The NAT rules of namespace `ns` as text (`nft list table ip nsnet` or `iptables -t nat -S POSTROUTING`). */
export async function showNat(ns: string, backend: NatBackend = natBackend('auto', ns)): Promise<string> {
  return backend === 'nft' ? run(ns, ['nft', 'list', 'table', 'ip', 'nsnet']) : run(ns, ['iptables', '-t', 'nat', '-S', 'POSTROUTING'])
}
