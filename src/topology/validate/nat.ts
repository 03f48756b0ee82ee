// Phase 5c: a host's nat[] (masquerade out of one of its own interfaces).
import { networkText } from '../addressing.js'
import { nftSafeIfname } from '../plan.js'
import type { ResolvedNat } from '../spec.js'
import { type Checker, suggest } from './checker.js'
import { describeHost, type HostDraft } from './drafts.js'

export function resolveNat(c: Checker, h: HostDraft): ResolvedNat[] {
  const path = h.path
  const current = h.netns === null
  const nat: ResolvedNat[] = []
  c.array(`${path}.nat`, h.spec.nat).forEach((n, i) => {
    const p = `${path}.nat[${i}]`
    if (!c.fields(p, n, ['masquerade', 'out', 'backend'], ['masquerade', 'out'])) return
    if (current) return c.fail(p, 'NAT in the current namespace is refused: nsnet never touches the firewall of a namespace it did not make')
    const m = c.interfaceCidr(`${p}.masquerade`, n.masquerade)
    if (typeof n.out !== 'string' || !h.ifnames.has(n.out) || n.out === 'lo')
      c.fail(`${p}.out`, `unknown interface "${String(n.out)}" in ${describeHost(h)}${suggest(String(n.out), h.ifnames.keys())}`)
    else if (!nftSafeIfname(n.out))
      c.fail(`${p}.out`, `interface "${n.out}" holds a character (" \\ *) that an nft rule's interface string cannot hold as itself; rename it`)
    const backend = n.backend ?? 'auto'
    if (backend !== 'auto' && backend !== 'nsnet' && backend !== 'nft' && backend !== 'iptables') c.fail(`${p}.backend`, 'must be auto, nsnet, nft or iptables')
    if (m) nat.push({ masquerade: networkText(m), out: n.out as string, backend: backend as ResolvedNat['backend'] })
  })
  return nat
}
