// Guard: tests create namespaces, links, routes and firewall rules. They must never run on
// the host, only inside the throwaway namespace made by test/run-hermetic.mjs.
import { statSync } from 'node:fs'

const HINT = 'run `npm test`, which wraps vitest in a throwaway network + mount namespace ' + '(or `node test/run-hermetic.mjs [vitest args]`)'

if (process.env.NSNET_HERMETIC !== '1') {
  throw new Error(`nsnet tests refuse to run on the host (NSNET_HERMETIC is not set): ${HINT}.`)
}

// Belt and braces for NSNET_HERMETIC=1 set by hand: the runner records the host's network
// namespace inode before it unshares, and every worker runs in a namespace of its own.
const host = Number(process.env.NSNET_HERMETIC_HOST_NETNS)
const mine = statSync('/proc/self/ns/net').ino
if (!(host > 0) || mine === host || mine === Number(process.env.NSNET_RUNNER_NETNS)) {
  throw new Error(`nsnet tests refuse to run outside a per-file throwaway namespace (netns inode ${mine}): ${HINT}.`)
}
