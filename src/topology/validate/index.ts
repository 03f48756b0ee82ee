// Checks a whole TopologySpec before anything is touched and resolves it: defaults
// filled in, pool addresses handed out, gateways named by node turned into addresses.
// Every problem is reported with the path of the offending entry (`links[2].a`).
// One file per phase; each phase records problems and the next one goes on with what is valid.
import type { ResolvedTopology, TopologySpec } from '../spec.js'
import { assignAddresses } from './addressing.js'
import { checkBridges } from './bridges.js'
import { Checker } from './checker.js'
import type { Drafts } from './drafts.js'
import { resolveHosts } from './hosts.js'
import { checkLinks } from './links.js'
import { checkNames } from './names.js'
import { resolvedTopology } from './resolved.js'
import { SpecError } from './spec-error.js'

export { SpecError, type SpecProblem } from './spec-error.js'

/**
 * Validates `spec` completely and returns its resolved form. Throws a SpecError
 * listing every problem; nothing on the system is read or changed.
 */
export function validate(spec: TopologySpec | unknown): ResolvedTopology {
  const c = new Checker()
  if (!c.fields('spec', spec, ['name', 'prefix', 'pools', 'hosts', 'bridges', 'switches', 'links'])) throw new SpecError(c.problems)
  const d: Drafts = {
    c,
    spec: spec as Record<string, unknown>,
    name: 'lab',
    prefix: '',
    pools: new Map(),
    hosts: new Map(),
    bridges: new Map(),
    ends: [],
    veths: [],
  }
  checkNames(d)
  checkBridges(d)
  checkLinks(d)
  const net = assignAddresses(d)
  const hosts = resolveHosts(d, net)
  if (c.problems.length) throw new SpecError(c.problems)
  return resolvedTopology(d, hosts)
}
