// The mutable, half-resolved form of a spec that the phases pass on to each other.
import type { Cidr } from '../../netlink/codec.js'
import type { Pool } from '../addressing.js'
import type { ResolvedIngress, ResolvedShaping } from '../shaping.js'
import { CURRENT_NODE, type PortVlansSpec } from '../spec.js'
import type { Checker } from './checker.js'

export type AddressDraft = { path: string; text?: string; pool?: string; cidr?: Cidr }

/** A link end while resolving. */
export interface EndDraft {
  path: string
  node: string
  host: string
  ifname: string
  master?: string
  addresses: AddressDraft[]
  mac?: string
  shaping?: ResolvedShaping
  ingress?: ResolvedIngress
  vlans?: PortVlansSpec
}

export interface HostDraft {
  node: string
  path: string
  netns: string | null
  spec: Record<string, unknown>
  ifnames: Map<string, string> // ifname → path that defined it
}

export interface BridgeDraft {
  node: string
  host: HostDraft
  path: string
  addresses: AddressDraft[]
  mtu?: number
  ovs?: true
  vlanFiltering?: true
}

export interface VethDraft {
  index: number
  a?: EndDraft
  b?: EndDraft
  mtu?: number
}

export interface PoolDraft {
  pool: Pool
  cidr: Cidr
  path: string
}

/** Everything the phases have found so far; each phase fills in its part. */
export interface Drafts {
  readonly c: Checker
  readonly spec: Record<string, unknown>
  name: string
  prefix: string
  readonly pools: Map<string, PoolDraft>
  readonly hosts: Map<string, HostDraft>
  readonly bridges: Map<string, BridgeDraft>
  readonly ends: EndDraft[]
  readonly veths: VethDraft[]
}

export function describeHost(h: HostDraft): string {
  return h.netns === null ? 'the current namespace' : `"${h.node}"`
}

export function endKey(e: EndDraft): string {
  return `if:${e.host}/${e.ifname}`
}

/** The current namespace's draft, added when a bridge or link first puts something in it. */
export function implicitCurrent(d: Drafts): HostDraft {
  let h = d.hosts.get(CURRENT_NODE)
  if (!h) {
    h = {
      node: CURRENT_NODE,
      path: '(the current namespace)',
      netns: null,
      spec: { name: CURRENT_NODE, lo: false },
      ifnames: new Map([['lo', 'the loopback device']]),
    }
    d.hosts.set(CURRENT_NODE, h)
  }
  return h
}

/** Records that `path` defines `ifname` in `host`, or a problem when something already does. */
export function claimIfname(c: Checker, host: HostDraft, ifname: string, path: string): void {
  const prev = host.ifnames.get(ifname)
  if (prev) c.fail(path, `interface "${ifname}" is already used in ${describeHost(host)} by ${prev}`)
  else host.ifnames.set(ifname, path)
}
