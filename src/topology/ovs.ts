// A topology's Open vSwitch bridges: one private OVS service (ovsdb-server + ovs-vswitchd)
// per host namespace that holds switches, started on the first switch step. The daemons go
// into the run marker as processes, so reap() stops them when the owner died; down() and
// rollback delete the bridges first (netdev taps outlive vswitchd) and stop the daemons.
// Loaded on the first switch only: labs without switches (and the CLI) never parse the OVS code.

import type { RtnlApi } from '../api.js'
import { NsnetError } from '../netlink/errors.js'
import type { Ovs } from '../ovs/ovs.js'
import type { TeardownReport } from './apply.js'
import type { RunMarker } from './marker.js'
import { writeMarker } from './marker.js'
import { recordDir } from './ownership.js'
import type { Step } from './plan.js'
import type { ResolvedHost, ResolvedTopology } from './spec.js'

interface LabLike {
  readonly topo: ResolvedTopology
  readonly marker: RunMarker
  host(node: string): ResolvedHost
  api(node: string): Promise<RtnlApi>
  /** The ifalias that marks links the run made in the current namespace. */
  alias(): string
  /** Records the identity of a link just made in the current namespace (see ownership.ts). */
  recordLocalLink(name: string): Promise<void>
}

export class LabSwitches {
  private readonly byHost = new Map<string, Promise<Ovs>>()

  constructor(private readonly lab: LabLike) {}

  /** The OVS of `host`, started when first needed (vswitchd inside the host's namespace). */
  service(host: string): Promise<Ovs> {
    let p = this.byHost.get(host)
    if (!p) {
      const netns = this.lab.host(host).netns
      p = import('../ovs/ovs.js').then(({ Ovs }) =>
        Ovs.start({
          ...(netns !== null ? { namespace: netns } : {}),
          // Our own vswitchd: userspace TSO makes TCP work through the netdev datapath
          // without touching the hosts' veths (see the note in ovs/offload).
          userspaceTso: true,
          onDaemon: (d) => {
            this.lab.marker.processes.push({ host, name: d.name, pid: d.pid, start: d.start })
            writeMarker(this.lab.marker)
          },
          onDir: (dir) => recordDir(this.lab.marker, dir),
        }),
      )
      this.byHost.set(host, p)
    }
    return p
  }

  /** The OVS that holds switch `node` (or that runs in host `node`); ENOTFOUND when the lab has none there. */
  of(node: string): Promise<Ovs> {
    const sw = this.lab.topo.bridges.find((b) => b.node === node && b.kind === 'ovs')
    const host = sw ? sw.host : node
    if (!sw && !this.byHost.has(host)) {
      return Promise.reject(new NsnetError(`no Open vSwitch switch or service at "${node}" in this topology`, { code: 'ENOTFOUND', operation: 'topology.ovs' }))
    }
    return this.service(host)
  }

  /** `ovs-vsctl add-br NAME -- set bridge NAME datapath_type=netdev`, then the bridge's own port up (it carries the addresses). */
  async addBridge(s: Extract<Step, { kind: 'bridge' }>): Promise<void> {
    const ovs = await this.service(s.host)
    await ovs.addBridge(s.name)
    const api = await this.lab.api(s.host)
    const local = this.lab.host(s.host).netns === null
    await api.links.set(s.name, { up: true, ...(s.mtu ? { mtu: s.mtu } : {}), ...(local ? { alias: this.lab.alias() } : {}) })
    if (!local) return
    // Marked and recorded like every link a run makes here, so reap() knows them by identity;
    // with it the datapath's own tap, which vswitchd made for the first netdev bridge.
    await this.lab.recordLocalLink(s.name)
    const tap = (await api.links.list()).find((l) => l.ifname === 'ovs-netdev' && l.ifalias === undefined)
    if (tap) {
      await api.links.set('ovs-netdev', { alias: this.lab.alias() })
      await this.lab.recordLocalLink('ovs-netdev')
    }
  }

  /** `ovs-vsctl add-port SWITCH PORT [tag=PVID] [trunks=A,B]`. */
  async addPort(s: Extract<Step, { kind: 'port' }>): Promise<void> {
    const v = s.vlans
    await (await this.service(s.host)).addPort(s.switch!, s.ifname, {
      ...(v?.pvid !== undefined ? { tag: v.pvid } : {}),
      ...(v?.tagged?.length ? { trunks: v.tagged } : {}),
    })
  }

  /** Deletes every bridge and stops every service this lab started (ovs.close()); failures go to the report. */
  async close(report?: TeardownReport): Promise<void> {
    const all = [...this.byHost.entries()]
    this.byHost.clear()
    await Promise.all(
      all.map(async ([host, p]) => {
        try {
          const ovs = await p
          const bridges = await ovs.listBridges().catch(() => [] as readonly string[])
          await ovs.close()
          for (const b of bridges) report?.removed.push(`ovs bridge ${b} in ${host}`)
          report?.removed.push(`ovs service in ${host}`)
        } catch (e) {
          // A service that never started left nothing (Ovs.start stops what it began).
          if (report && !(e instanceof Error && /not installed/.test(e.message)))
            report.failed.push({ object: `ovs service in ${host}`, error: (e as Error).message })
        }
      }),
    )
  }
}
