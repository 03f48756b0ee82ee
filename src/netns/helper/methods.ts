// The operations a helper serves: each group's public methods, and nothing else. A method
// TypeScript keeps private (a lookup, an error explainer) is still a function on the object
// at run time; without this list a request could call it with whatever arguments it liked.
// The lists are checked against the classes' public types both ways, so a new public method
// that is missing here fails `npm run typecheck`, naming it.
import type { Addresses } from '../../ops/addresses/operations.js'
import type { Bridge } from '../../ops/bridge/index.js'
import type { Nexthops } from '../../ops/nexthops/operations.js'
import type { Ethtool } from '../../ops/ethtool/operations.js'
import type { Links } from '../../ops/links/operations.js'
import type { Neighbors } from '../../ops/neighbors/operations.js'
import type { Routes } from '../../ops/routes/operations.js'
import type { Rules } from '../../ops/rules/operations.js'
import type { Classes } from '../../ops/tc/classes.js'
import type { Filters } from '../../ops/tc/filters.js'
import type { Qdiscs } from '../../ops/tc/qdiscs.js'
import type { RtnlGroup } from './protocol.js'

type Methods<T> = { [K in keyof T]-?: T[K] extends (...a: never[]) => unknown ? K : never }[keyof T] & string
/** `true` when `L` names every public method of T; else a type naming the missing ones. */
type Complete<T, L extends readonly string[]> = [Exclude<Methods<T>, L[number]>] extends [never] ? true : { missing: Exclude<Methods<T>, L[number]> }

const links = ['list', 'get', 'add', 'set', 'delete', 'waitUp', 'supportsKind', 'stats'] as const satisfies readonly Methods<Links>[]
const addresses = ['list', 'add', 'replace', 'delete', 'flush', 'waitReady'] as const satisfies readonly Methods<Addresses>[]
const routes = ['list', 'get', 'add', 'replace', 'append', 'delete', 'addMany', 'deleteMany'] as const satisfies readonly Methods<Routes>[]
const neighbors = ['list', 'add', 'replace', 'delete'] as const satisfies readonly Methods<Neighbors>[]
const rules = ['list', 'add', 'delete'] as const satisfies readonly Methods<Rules>[]
const ethtool = ['features', 'setFeatures', 'close'] as const satisfies readonly Methods<Ethtool>[]
const qdiscs = ['list', 'add', 'replace', 'change', 'delete', 'supports'] as const satisfies readonly Methods<Qdiscs>[]
const classes = ['list', 'add', 'replace', 'change', 'delete'] as const satisfies readonly Methods<Classes>[]
const filters = ['list', 'add', 'replace', 'change', 'delete'] as const satisfies readonly Methods<Filters>[]
const nexthops = ['list', 'add', 'replace', 'delete', 'flush'] as const satisfies readonly Methods<Nexthops>[]
const fdb = ['list', 'add', 'append', 'replace', 'delete'] as const satisfies readonly Methods<Bridge['fdb']>[]
const ports = ['list', 'get', 'set'] as const satisfies readonly Methods<Bridge['links']>[]
const vlans = ['list', 'add', 'delete'] as const satisfies readonly Methods<Bridge['vlans']>[]

const complete: [
  Complete<Links, typeof links>, Complete<Addresses, typeof addresses>, Complete<Routes, typeof routes>,
  Complete<Neighbors, typeof neighbors>, Complete<Rules, typeof rules>, Complete<Ethtool, typeof ethtool>,
  Complete<Qdiscs, typeof qdiscs>, Complete<Classes, typeof classes>, Complete<Filters, typeof filters>,
  Complete<Nexthops, typeof nexthops>, Complete<Bridge['fdb'], typeof fdb>, Complete<Bridge['links'], typeof ports>,
  Complete<Bridge['vlans'], typeof vlans>,
] = [true, true, true, true, true, true, true, true, true, true, true, true, true]
void complete

/** The public methods of each group a helper forwards (see RTNL_GROUPS). */
export const GROUP_METHODS: { readonly [G in RtnlGroup]: ReadonlySet<string> } = {
  links: new Set(links), addresses: new Set(addresses), routes: new Set(routes),
  neighbors: new Set(neighbors), rules: new Set(rules), ethtool: new Set(ethtool),
  'tc.qdiscs': new Set(qdiscs), 'tc.classes': new Set(classes), 'tc.filters': new Set(filters),
  nexthops: new Set(nexthops), 'bridge.fdb': new Set(fdb), 'bridge.links': new Set(ports), 'bridge.vlans': new Set(vlans),
}
