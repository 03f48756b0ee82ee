// Building a resolved topology (phase by phase, steps of a phase in parallel), and taking
// it down again from its run marker: the same teardown serves down(), the rollback of a
// build that failed half-way, and reap() of runs whose owner died.

import { availableParallelism } from 'node:os'
import type { RtnlApi } from '../api.js'
import { isNsnetError, NsnetError } from '../netlink/errors.js'
import type { NetnsHandle } from '../netns/handle.js'
import { HelperSlots } from '../netns/helper/slots.js'
import { netns } from '../netns/index.js'
import { addMany as addNamespaces, removeMany as removeNamespaces } from '../netns/lifecycle.js'
import { readSysctl, writeSysctl } from '../netns/sysctl.js'
import { NO_VLAN_FILTERING } from '../ops/bridge/index.js'
import { Rtnl } from '../rtnl.js'
import { currentNetns, type MarkedLink, processAlive, type RunMarker, removeMarker, writeMarker } from './marker.js'
import { addNat } from './nat.js'
import { LabSwitches } from './ovs.js'
import { ownsLink, ownsNamespace, recordLink, recordNamespace, recordProcess, removeDirs, runAlias } from './ownership.js'
import { ipCommand, plan, resolvConf, type Step } from './plan.js'
import { execWhere, type ServiceHandle, serviceArgv, startProcess } from './probes.js'
import { applyIngress, applyShaping } from './shaping.js'
import type { PortVlansSpec, ResolvedHost, ResolvedTopology } from './spec.js'

/** A Linux bridge port's VLANs, as bridgeVlanCommands() prints them. */
async function addPortVlans(api: RtnlApi, ifname: string, v: PortVlansSpec): Promise<void> {
  for (const vid of v.tagged ?? []) await api.bridge.vlans.add(ifname, { vid })
  if (v.pvid !== undefined) await api.bridge.vlans.add(ifname, { vid: v.pvid, pvid: true, untagged: v.untagged !== false })
  if (v.pvid !== 1 && !(v.tagged ?? []).includes(1)) await api.bridge.vlans.delete(ifname, { vid: 1 })
}

/** A bridge with vlanFiltering on a kernel without it: EUNSUPPORTED naming the feature. */
function noVlanFiltering(e: NsnetError, bridge: string): NsnetError {
  return new NsnetError(NO_VLAN_FILTERING, {
    code: 'EUNSUPPORTED',
    errno: e.errno,
    operation: 'topology.up',
    object: `bridge ${bridge}`,
    namespace: e.namespace,
    hint: "vlanFiltering: true and port vlans need it; an Open vSwitch switch (kind: 'ovs') takes port vlans without it",
    cause: e,
  })
}

export interface BuildOptions {
  /**
   * Called before each step with the `ip` command that does the same. Throwing fails the
   * build, which is then rolled back (tests use this to inject a failure).
   */
  readonly onStep?: (step: Step, command: string) => void
  /** One step at a time in plan order, for walkthroughs that print each command. */
  readonly sequential?: boolean
  readonly signal?: AbortSignal
  /**
   * At most this many namespace helpers (node processes) alive at once, during the build and
   * after it (lab.rtnl() stops the least recently used idle one to start another).
   * Default: twice os.availableParallelism() (a start also waits on `ip netns exec` and pipes;
   * 30 hosts on 2 busy cores: 15 s with 4, 23 s with 2).
   */
  readonly maxHelpers?: number
  /**
   * Keep the helpers the build started running (up to maxHelpers). Default: each is closed
   * when its namespace is built; lab.rtnl(node) starts one again on demand.
   */
  readonly keepHelpers?: boolean
}

/** Steps that run inside a namespace, through its helper (no rtnetlink message reaches in from outside). */
const INSIDE: ReadonlySet<Step['kind']> = new Set(['lo', 'sysctl', 'port', 'shape', 'address', 'route', 'nat'])

/** Runs `fn` over items with at most `limit` in flight. */
async function limited<T>(items: readonly T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0
  let failed: unknown
  const worker = async () => {
    while (next < items.length && failed === undefined) {
      const item = items[next++]!
      try {
        await fn(item)
      } catch (e) {
        failed ??= e
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  if (failed !== undefined) throw failed
}

/** The state of one topology in this process: handles on its namespaces, its processes. */
export class Lab {
  private local: Promise<Rtnl> | undefined
  private readonly handles = new Map<string, Promise<NetnsHandle>>()
  readonly services: ServiceHandle[] = []
  /** Open vSwitch bridges and their private services. */
  readonly switches = new LabSwitches(this)
  /** The bound on this lab's helper processes. */
  readonly slots: HelperSlots
  private saving: Promise<void> | undefined

  constructor(
    readonly topo: ResolvedTopology,
    readonly marker: RunMarker,
    opts: { maxHelpers?: number } = {},
  ) {
    this.slots = new HelperSlots(opts.maxHelpers ?? 2 * availableParallelism())
  }

  /** Writes the marker once for all the steps that record something in the same turn of the event loop. */
  saveMarker(): Promise<void> {
    return (this.saving ??= new Promise<void>((resolve, reject) =>
      setImmediate(() => {
        this.saving = undefined
        try {
          writeMarker(this.marker)
          resolve()
        } catch (e) {
          reject(e)
        }
      }),
    ))
  }

  host(node: string): ResolvedHost {
    const h = this.topo.hosts.find((x) => x.node === node)
    if (!h) throw new NsnetError(`no node "${node}" in this topology`, { code: 'ENOTFOUND', operation: 'topology' })
    return h
  }

  /** The rtnetlink API inside `node` (the current namespace's own, or a helper's). */
  async api(node: string): Promise<RtnlApi> {
    const h = this.host(node)
    if (h.netns === null) return this.localApi()
    return this.handle(h.netns)
  }

  /** The rtnetlink API of the current namespace (veths are created from here). */
  async localApi(): Promise<RtnlApi> {
    return (this.local ??= Rtnl.open())
  }

  handle(name: string): Promise<NetnsHandle> {
    let p = this.handles.get(name)
    if (!p) {
      p = netns.open(name, { slots: this.slots })
      p.catch(() => this.handles.delete(name))
      this.handles.set(name, p)
    }
    return p
  }

  /** Closes the handle on `name` (its helper ends); the next handle(name) opens a new one. */
  async dropHandle(name: string): Promise<void> {
    const p = this.handles.get(name)
    this.handles.delete(name)
    await p?.then(
      (h) => h.close(),
      () => undefined,
    )
  }

  async closeHandles(): Promise<void> {
    const all = [...this.handles.values()]
    this.handles.clear()
    await Promise.all(
      all.map((p) =>
        p.then(
          (h) => h.close(),
          () => undefined,
        ),
      ),
    )
    const l = this.local
    this.local = undefined
    if (l)
      await l.then(
        (r) => r.close(),
        () => undefined,
      )
  }

  /**
   * Builds every phase of the plan. Throws the first failure (nothing is undone here).
   * What can be made from here is: all namespaces in one `ip -batch`, bridges and veths
   * created straight into their namespaces (IFLA_NET_NS_FD), the first end of each veth up
   * on creation. What must happen inside a namespace (lo, addresses, routes, sysctls,
   * shaping, NAT, ports there) runs per namespace through its helper, at most maxHelpers at
   * once; each helper starts while the links are made and ends when its namespace is done.
   */
  async build(opts: BuildOptions = {}): Promise<void> {
    const phases = plan(this.topo)
    if (opts.sequential) {
      for (const phase of phases) for (const s of phase.steps) await this.step(s, opts)
    } else {
      // Sort the steps: those made from here, phase by phase; those inside a namespace, per namespace.
      const here: Step[][] = []
      const inside = new Map<string, Step[][]>()
      let namespaces: readonly Step[] = []
      let processes: readonly Step[] = []
      for (const phase of phases) {
        if (phase.name === 'namespaces') {
          namespaces = phase.steps
          continue
        }
        if (phase.name === 'processes') {
          processes = phase.steps
          continue
        }
        const mine: Step[] = []
        for (const s of phase.steps) {
          const host = 'host' in s ? this.host(s.host) : undefined
          if (host?.netns == null || !INSIDE.has(s.kind)) {
            mine.push(s)
            continue
          }
          const groups = inside.get(host.node) ?? []
          inside.set(host.node, groups)
          const last = groups.at(-1)
          if (last && last[0]!.kind === s.kind) last.push(s)
          else groups.push([s])
        }
        if (mine.length) here.push(mine)
      }
      await this.addNamespaces(namespaces, opts)
      const outside = (async () => {
        for (const steps of here) {
          opts.signal?.throwIfAborted()
          // NAT may start nft processes: a few at a time. Netlink steps: 64 in flight, since the
          // kernel makes links one at a time anyway (rtnl_lock), and 1,000 queued veths waited
          // longer than the 15 s a request may take.
          await limited(steps, steps[0]!.kind === 'nat' ? 8 : 64, (s) => this.step(s, opts))
        }
      })()
      outside.catch(() => undefined)
      // Helpers start while the links are made; their steps wait for the links.
      // Both settle before a failure is thrown: the rollback must not race helpers still starting.
      const settled = await Promise.allSettled([
        outside,
        limited([...inside], this.slots.limit, ([host, groups]) => this.buildInside(host, groups, outside, opts)),
      ])
      for (const r of settled) if (r.status === 'rejected') throw r.reason
      await limited(processes, 8, (s) => this.step(s, opts))
    }
    if (!opts.keepHelpers) await Promise.all([...this.handles.keys()].map((name) => this.dropHandle(name)))
    this.marker.complete = true
    writeMarker(this.marker)
  }

  /** All namespaces with one `ip -batch` process; each recorded (its inode) before the step is done. */
  private async addNamespaces(steps: readonly Step[], opts: BuildOptions): Promise<void> {
    const names: string[] = []
    for (const s of steps) {
      opts.signal?.throwIfAborted()
      try {
        opts.onStep?.(s, ipCommand(this.topo, s))
      } catch (e) {
        throw stepError(e, this.topo, s)
      }
      names.push(this.host((s as { host: string }).host).netns!)
    }
    // Recorded (by inode) only what this run's ip made: a name it lost to a racer stays theirs.
    const failed = await addNamespaces(names)
    for (const name of names) if (!failed.has(name)) recordNamespace(this.marker, name, () => undefined)
    writeMarker(this.marker)
    const bad = steps.find((s) => failed.has(this.host((s as { host: string }).host).netns!))
    if (bad) throw stepError(failed.get(this.host((bad as { host: string }).host).netns!), this.topo, bad)
  }

  /** One namespace's inside steps through its helper, a phase's steps together; then the helper ends unless kept. */
  private async buildInside(host: string, groups: readonly Step[][], outside: Promise<void>, opts: BuildOptions): Promise<void> {
    const name = this.host(host).netns!
    try {
      await this.handle(name).catch((e) => {
        throw stepError(e, this.topo, groups[0]![0]!)
      })
      await outside
      for (const group of groups) await Promise.all(group.map((s) => this.step(s, opts)))
    } finally {
      if (!opts.keepHelpers) await this.dropHandle(name)
    }
  }

  private async step(s: Step, opts: BuildOptions): Promise<void> {
    try {
      opts.signal?.throwIfAborted()
      opts.onStep?.(s, ipCommand(this.topo, s))
      switch (s.kind) {
        case 'netns': {
          const name = this.host(s.host).netns!
          await netns.add(name)
          recordNamespace(this.marker, name)
          return
        }
        case 'lo': {
          await (await this.api(s.host)).links.set('lo', { up: true })
          return
        }
        case 'sysctl': {
          const h = this.host(s.host)
          if (h.netns === null) {
            if (!this.marker.sysctls.some((x) => x.key === s.key)) {
              this.marker.sysctls.push({ key: s.key, previous: await readSysctl(s.key, undefined) })
              writeMarker(this.marker)
            }
            await writeSysctl(s.key, s.value, undefined)
          } else {
            await (await this.handle(h.netns)).sysctl.set(s.key, s.value)
          }
          return
        }
        case 'dns': {
          const name = this.host(s.host).netns!
          await netns.setResolvConf(name, resolvConf(s.nameservers, s.search).trimEnd().split('\n'))
          return
        }
        case 'bridge': {
          if (s.ovs) return await this.switches.addBridge(s)
          // Made from here, also inside a namespace (IFLA_NET_NS_FD): no helper needed.
          const api = await this.localApi()
          const ns = this.host(s.host).netns
          const local = ns === null
          await api.links
            .add({
              name: s.name,
              kind: 'bridge',
              up: true,
              ...(s.mtu ? { mtu: s.mtu } : {}),
              ...(local ? { alias: this.alias() } : { namespace: ns }),
              ...(s.vlanFiltering ? { vlanFiltering: true } : {}),
            })
            .catch((e) => {
              throw s.vlanFiltering && isNsnetError(e, 'EOPNOTSUPP') ? noVlanFiltering(e, s.name) : e
            })
          if (local) await this.recordLocalLink(s.name)
          return
        }
        case 'veth': {
          // Created from here with each end straight in its namespace: one message, no moves.
          // The first end is raised in the same message; here it is also enslaved and marked
          // (ifalias). The peer is raised by its port step.
          const local = await this.localApi()
          const { a, b } = s
          const nsA = this.host(a.host).netns
          const nsB = this.host(b.host).netns
          await local.links.add({
            name: a.ifname,
            kind: 'veth',
            up: true,
            ...(nsA !== null ? { namespace: nsA } : { alias: this.alias(), ...(a.master ? { master: a.master } : {}) }),
            ...(s.mtu ? { mtu: s.mtu } : {}),
            ...(a.mac ? { address: a.mac } : {}),
            peer: {
              name: b.ifname,
              ...(nsB !== null ? { namespace: nsB } : {}),
              ...(s.mtu ? { mtu: s.mtu } : {}),
              ...(b.mac ? { address: b.mac } : {}),
            },
          })
          if (nsA === null) await this.recordLocalLink(a.ifname)
          if (nsB === null) {
            // A peer gets no ifalias on creation: mark it, then record it.
            await local.links.set(b.ifname, { alias: this.alias() })
            await this.recordLocalLink(b.ifname)
          }
          return
        }
        case 'port': {
          const api = await this.api(s.host)
          await api.links.set(s.ifname, { ...(s.master ? { master: s.master } : {}), up: true })
          if (s.switch) await this.switches.addPort(s)
          else if (s.vlans) await addPortVlans(api, s.ifname, s.vlans)
          return
        }
        case 'address': {
          // IPv6: no duplicate address detection, so the address works at once (a lab owns its wires).
          const v6 = s.cidr.includes(':')
          await (await this.api(s.host)).addresses.add(s.ifname, s.cidr, ...(v6 ? [{ flags: ['nodad'] as const }] : []))
          return
        }
        case 'route': {
          const r = s.route
          await (await this.api(s.host)).routes.add({
            dst: r.dst,
            family: r.family,
            ...(r.via ? { gateway: r.via } : {}),
            ...(r.dev ? { dev: r.dev } : {}),
            ...(r.scope ? { scope: r.scope } : {}),
            ...(r.src ? { prefsrc: r.src } : {}),
            ...(r.metric !== undefined ? { metric: r.metric } : {}),
            ...(r.table !== undefined ? { table: r.table } : {}),
          })
          return
        }
        case 'shape': {
          await applyShaping(await this.api(s.host), s.ifname, s.shaping)
          return
        }
        case 'ingress': {
          await applyIngress(await this.api(s.host), s.ifname, s.ingress)
          return
        }
        case 'nat': {
          await addNat(this.host(s.host).netns!, s.nat, async () => (await this.api(s.host)).nft)
          return
        }
        case 'process': {
          const h = this.host(s.host)
          const svc = await startProcess(h.netns, s.process.command, {
            name: s.process.name,
            ...(s.process.env ? { env: s.process.env } : {}),
            ...(s.process.readyText !== undefined ? { readyText: s.process.readyText } : {}),
            onSpawn: (pid) => {
              recordProcess(this.marker, s.host, s.process.name, pid)
            },
          })
          this.services.push(svc)
          if (s.process.readyTcpPort !== undefined) await waitTcp(h.netns, s.process.readyTcpPort, s.process.name)
          return
        }
      }
    } catch (e) {
      throw stepError(e, this.topo, s)
    }
  }

  /** The ifalias that marks links this run made in the current namespace. */
  alias(): string {
    return runAlias(this.marker.runId)
  }

  /** Records the ifindex of a link just made here, before its step is reported done. */
  async recordLocalLink(name: string): Promise<void> {
    let changed = false
    recordLink(this.marker, await (await this.localApi()).links.get(name), () => {
      changed = true
    })
    if (changed) await this.saveMarker()
  }
}

async function waitTcp(where: string | null, port: number, name: string): Promise<void> {
  const deadline = Date.now() + 15_000
  for (;;) {
    const r = await execWhere(where, serviceArgv(['reach', '127.0.0.1', '--port', String(port), '--timeout', '500']), { timeoutMs: 10_000 })
    if (r.stdout.includes('"connected"')) return
    if (Date.now() > deadline) {
      throw new NsnetError(`process ${name} does not accept TCP connections on port ${port}`, {
        code: 'ESERVICE',
        operation: 'process.start',
        namespace: where ?? undefined,
      })
    }
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Wraps a failure with the step it came from, as the `ip` command, keeping its code. */
function stepError(e: unknown, topo: ResolvedTopology, s: Step): NsnetError {
  const cmd = ipCommand(topo, s).split('\n')[0]
  if (e instanceof NsnetError) {
    if (e.code === 'EABORTED' || e.name === 'AbortError') return e
    return new NsnetError(`${e.message}`, {
      code: e.code,
      errno: e.errno,
      operation: 'topology.up',
      object: `step \`${cmd}\``,
      namespace: e.namespace,
      hint: e.hint,
      cause: e,
    })
  }
  const err = e as Error
  if (err?.name === 'AbortError') return new NsnetError('aborted', { code: 'EABORTED', operation: 'topology.up', object: `step \`${cmd}\``, cause: e })
  return new NsnetError(err?.message ?? String(e), { code: 'EFAILED', operation: 'topology.up', object: `step \`${cmd}\``, cause: e })
}

/** What teardown removed, and what it could not. */
export interface TeardownReport {
  readonly runId: string
  readonly removed: string[]
  readonly failed: Array<{ readonly object: string; readonly error: string }>
}

/**
 * Removes everything `marker` records, tolerating what is already gone, then the marker.
 * Objects that are no longer the ones the run made (another inode, another ifindex, a
 * reused pid) are left alone.
 */
export async function teardown(marker: RunMarker, lab?: Lab): Promise<TeardownReport> {
  const report: TeardownReport = { runId: marker.runId, removed: [], failed: [] }
  const fail = (object: string, e: unknown) => report.failed.push({ object, error: (e as Error).message ?? String(e) })

  // 0. Open vSwitch bridges, while vswitchd still runs to remove its taps; then its daemons.
  await lab?.switches.close(report)

  // 1. Processes first: a namespace with a process inside outlives its name.
  const procs = marker.processes.filter((p) => processAlive(p.pid, p.start))
  for (const p of procs) {
    try {
      process.kill(p.pid, 'SIGTERM')
    } catch {
      /* gone */
    }
  }
  const deadline = Date.now() + 1000
  while (procs.some((p) => processAlive(p.pid, p.start)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
  for (const p of procs) {
    if (processAlive(p.pid, p.start)) {
      try {
        process.kill(p.pid, 'SIGKILL')
      } catch {
        /* gone */
      }
    }
    report.removed.push(`process ${p.name} (pid ${p.pid}) in ${p.host}`)
  }
  await Promise.all((lab?.services ?? []).map((s) => s.stop(200)))
  const dirs = removeDirs(marker)
  report.removed.push(...dirs.removed)
  report.failed.push(...dirs.failed)

  // 2. Sysctls of the owner's namespace, back to what they were.
  const here = currentNetns() === marker.netns
  if (here) {
    for (const s of marker.sysctls) {
      try {
        await writeSysctl(s.key, s.previous, undefined)
        report.removed.push(`sysctl ${s.key} (restored to ${s.previous})`)
      } catch (e) {
        fail(`sysctl ${s.key}`, e)
      }
    }
  }

  // 3. Namespaces, all at once (helpers closed together, one /proc scan, one `ip -batch`);
  // each takes its links, addresses, routes and NAT rules along, and the kernel destroys the
  // veths of all of them in one batch (far cheaper than deleting veths one by one, each of
  // which waits for an RCU grace period). Only the namespaces this run made, by inode.
  const owned = marker.namespaces.filter(ownsNamespace)
  const mine = owned.map((ns) => ns.name)
  try {
    // Their inodes go along: a name swapped meanwhile is left alone (and its processes live).
    const failed = await removeNamespaces(mine, { kill: true, keys: new Map(owned.map((ns) => [ns.name, ns.key!])) })
    for (const name of mine) {
      const e = failed.get(name)
      if (!e) report.removed.push(`netns ${name}`)
      else if (!isNsnetError(e, 'ENOENT') && !isNsnetError(e, 'ENOTFOUND') && !isNsnetError(e, 'ESTALE')) fail(`netns ${name}`, e)
    }
  } catch (e) {
    fail(`netns ${mine.join(', ')}`, e)
  }

  await lab?.closeHandles()

  // 4. Links made in the owner's namespace (only when we are in that namespace): veth ends
  // whose twin was in a deleted namespace go with it shortly; wait for that a little, then
  // delete what is left (bridges, veths between two links here), if it is still ours.
  if (marker.links.length && here) {
    const rt = await Rtnl.open()
    try {
      const bridges = new Set(marker.topology.bridges.map((b) => b.node))
      // Ours by identity only; deleted by the ifindex that matched, never by name.
      const live = new Map<MarkedLink, number>()
      const present = async () => {
        const byName = new Map((await rt.links.list()).map((l) => [l.ifname, l]))
        return marker.links.filter((m) => {
          const l = byName.get(m.name)
          if (l === undefined || !ownsLink(marker, m, l)) return false
          live.set(m, l.ifindex)
          return true
        })
      }
      const del = async (m: MarkedLink) => {
        try {
          await rt.links.delete(live.get(m)!)
          report.removed.push(`link ${m.name}`)
        } catch (e) {
          if (!isNsnetError(e, 'ENODEV') && !isNsnetError(e, 'ENOTFOUND')) fail(`link ${m.name}`, e)
        }
      }
      const deadline = Date.now() + 3000
      const ours = await present()
      let left = ours
      // Bridges never go by themselves: delete them while the kernel frees the namespaces.
      const early = left.filter((m) => bridges.has(m.name))
      const bridgesDeleted = Promise.all(early.map(del))
      while (left.some((m) => !bridges.has(m.name)) && marker.namespaces.length && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20))
        left = await present()
      }
      left = left.filter((m) => !early.includes(m))
      for (const m of ours) if (!left.includes(m) && !early.includes(m)) report.removed.push(`link ${m.name}`)
      await Promise.all([bridgesDeleted, ...left.map(del)])
    } finally {
      await rt.close()
    }
  } else if (marker.links.length) {
    fail(`links ${marker.links.map((l) => l.name).join(', ')}`, new Error(`they live in ${marker.netns}, not in this namespace`))
  }
  if (report.failed.length === 0) removeMarker(marker.runId)
  return report
}
