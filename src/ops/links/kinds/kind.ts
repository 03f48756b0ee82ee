// What one link kind module provides: its spec fields, how to check and write its
// IFLA_INFO_DATA, and how to read the kernel's back into a plain `info` object.
import type { Attrs, Writer } from '../../../netlink/codec.js'
import type { LinkRef } from '../../context.js'
import type { NamespaceRef, OpenNamespace } from '../../netns-ref.js'
import type { SpecCheck } from '../../spec-check.js'

/** Names and namespaces a spec refers to, resolved by the caller before writing. */
export interface Resolved {
  /** ifindex for each key that linkRefs() returned. */
  readonly links: Readonly<Record<string, number>>
  /** Opened namespace for each key that namespaceRefs() returned. */
  readonly namespaces: Readonly<Record<string, OpenNamespace>>
}

/** ifindex → name, for putting names into decoded objects. */
export type Names = ReadonlyMap<number, string>

export interface KindCodec {
  readonly kind: string
  /** Spec fields of this kind, beyond the ones every link has. */
  readonly keys: readonly string[]
  /** Fields that decode() produces from kernel state: accepted back by add() and ignored. */
  readonly stateKeys?: readonly string[]
  /** Whether the spec's `link` (the parent device, IFLA_LINK) is needed. */
  readonly parent?: 'required' | 'optional'
  /** Set when links of this kind cannot be made over rtnetlink; says why. */
  readonly notCreatable?: string
  /**
   * The kernel's values for options not given. When a Link from list() is turned back into
   * a spec, info fields still at these values are left out, so only real choices are sent.
   */
  readonly defaults?: Readonly<Record<string, unknown>>
  /** Highest IFLA_INFO_DATA attribute decode() knows; higher ones are kept raw. */
  readonly dataMax: number
  /** Throws EINVAL_ARGUMENT (via `c`) on a bad kind-specific field. */
  check?(spec: Record<string, unknown>, c: SpecCheck): void
  /** Link references inside the kind's fields (e.g. vxlan `dev`), to resolve to indexes. */
  linkRefs?(spec: Record<string, unknown>): Record<string, LinkRef>
  /** Namespaces inside the kind's fields (e.g. the veth peer's). */
  namespaceRefs?(spec: Record<string, unknown>): Record<string, NamespaceRef>
  /** Writes the IFLA_INFO_DATA attributes; writing none leaves INFO_DATA out. */
  writeData?(w: Writer, spec: Record<string, unknown>, r: Resolved): void
  /** Reads IFLA_INFO_DATA into the link's `info`. */
  decode?(data: Attrs, names: Names | undefined): Record<string, unknown>
  /**
   * For set({ info }) on an existing link (`ip link set DEV type KIND ...`): the keys that can
   * be sent, their check and writer. Without them, `keys`, check() and writeData() serve.
   */
  readonly changeKeys?: readonly string[]
  checkChange?(spec: Record<string, unknown>, c: SpecCheck): void
  writeChange?(w: Writer, spec: Record<string, unknown>, r: Resolved): void
}

/** Reads IFLA_INFO_SLAVE_DATA of a port of this kind of master (bridge port, bond slave). */
export interface PortCodec {
  readonly kind: string
  readonly dataMax: number
  decode(data: Attrs): Record<string, unknown>
  /** What set({ slaveInfo }) can send (`ip link set DEV type bridge_slave ...`), checked and written. */
  readonly keys?: readonly string[]
  check?(spec: Record<string, unknown>, c: SpecCheck): void
  write?(w: Writer, spec: Record<string, unknown>): void
}

/** A device name for an index, as `ip` prints it when it cannot resolve one: `if7`. */
export function nameOfIndex(names: Names | undefined, index: number): string {
  return names?.get(index) ?? `if${index}`
}
