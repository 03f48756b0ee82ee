// `ovs-vsctl show` as a typed object, built from the replica: bridges, their ports and
// interfaces, sorted by name as ovs-vsctl prints them.
import type { OvsdbMonitor, Row } from './client.js'

export interface OvsShowInterface {
  readonly name: string
  /** Empty for a system interface, as ovs-vsctl omits `type:` then. */
  readonly type: string
  readonly options: Readonly<Record<string, string>>
  readonly error: string | undefined
}

export interface OvsShowPort {
  readonly name: string
  readonly tag: number | undefined
  readonly trunks: readonly number[]
  readonly interfaces: readonly OvsShowInterface[]
}

export interface OvsShowBridge {
  readonly name: string
  readonly datapath_type: string
  readonly fail_mode: string | undefined
  readonly controller: readonly string[]
  readonly ports: readonly OvsShowPort[]
}

export interface OvsShow {
  /** The Open_vSwitch row's uuid, the first line of `ovs-vsctl show`. */
  readonly uuid: string
  readonly manager: readonly string[]
  readonly bridges: readonly OvsShowBridge[]
  readonly ovs_version: string | undefined
}

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)

export function show(m: OvsdbMonitor): OvsShow {
  const ovs = m.rows('Open_vSwitch')[0]
  const refs = (r: Row | undefined, col: string, table: string) =>
    ((r?.[col] as string[] | undefined) ?? []).map((u) => m.row(table, u)).filter((x): x is Row => x !== undefined)
  const bridges = refs(ovs, 'bridges', 'Bridge')
    .map(
      (b): OvsShowBridge =>
        Object.freeze({
          name: b.name as string,
          datapath_type: b.datapath_type as string,
          fail_mode: b.fail_mode as string | undefined,
          controller: Object.freeze(refs(b, 'controller', 'Controller').map((c) => c.target as string)),
          ports: Object.freeze(
            refs(b, 'ports', 'Port')
              .map(
                (p): OvsShowPort =>
                  Object.freeze({
                    name: p.name as string,
                    tag: p.tag as number | undefined,
                    trunks: p.trunks as number[],
                    interfaces: Object.freeze(
                      refs(p, 'interfaces', 'Interface')
                        .map(
                          (i): OvsShowInterface =>
                            Object.freeze({
                              name: i.name as string,
                              type: i.type as string,
                              options: i.options as Record<string, string>,
                              error: i.error as string | undefined,
                            }),
                        )
                        .sort(byName),
                    ),
                  }),
              )
              .sort(byName),
          ),
        }),
    )
    .sort(byName)
  return Object.freeze({
    uuid: ovs?._uuid ?? '',
    manager: Object.freeze(refs(ovs, 'manager_options', 'Manager').map((x) => x.target as string)),
    bridges: Object.freeze(bridges),
    ovs_version: ovs?.ovs_version as string | undefined,
  })
}
