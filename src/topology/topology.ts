// The public Topology: `await using lab = await Topology.up(spec)` builds a lab (validated
// first, rolled back on failure, idempotent), gives access to its namespaces and checks
// (ping, echo, DNS), and removes it again on down() or dispose.
import { createHash } from 'node:crypto'
import type { RtnlApi } from '../api.js'
import { parseCidr } from '../netlink/codec.js'
import { NsnetError } from '../netlink/errors.js'
import type { ExecOptions, ExecResult } from '../netns/exec.js'
import { netns } from '../netns/index.js'
import { readSysctl } from '../netns/sysctl.js'
import type { LinkStats64 } from '../ops/links/stats.js'
import type { Ovs } from '../ovs/ovs.js'
import { contains } from './addressing.js'
import { type BuildOptions, Lab, type TeardownReport, teardown } from './apply.js'
import { drawMermaid, drawText } from './draw.js'
import { currentNetns, currentWorld, fileKey, listMarkers, newRunId, processAlive, processStart, type RunMarker, sameWorld, writeMarker } from './marker.js'
import { ipCommand, plan, shellScript, teardownScript } from './plan.js'
import {
  echo,
  execWhere,
  type PingOptions,
  type PingResult,
  ping,
  type ResolveResult,
  resolveName,
  type ServiceHandle,
  type StartOptions,
  startEchoServer,
  startProcess,
} from './probes.js'
import { checkShapingSupport } from './shaping.js'
import type { EchoResult } from './sockets.js'
import type { ResolvedTopology, TopologySpec } from './spec.js'
import { measureThroughput, type ThroughputOptions, type ThroughputResult } from './throughput.js'
import { validate } from './validate/index.js'

export type UpOptions = BuildOptions

/** Runs whose up() is in progress in this process. */
const building = new Set<string>()

function fingerprint(topo: ResolvedTopology): string {
  return createHash('sha256').update(JSON.stringify(topo)).digest('hex').slice(0, 16)
}

/** Links the build makes in the current namespace (bridges and veth ends there). */
function localLinks(topo: ResolvedTopology): string[] {
  const out: string[] = []
  const here = new Set(topo.hosts.filter((h) => h.netns === null).map((h) => h.node))
  for (const b of topo.bridges) if (here.has(b.host)) out.push(b.node)
  // The userspace datapath's own tap, which a killed vswitchd leaves behind.
  if (topo.bridges.some((b) => b.kind === 'ovs' && here.has(b.host))) out.push('ovs-netdev')
  for (const v of topo.veths) {
    if (here.has(v.a.host)) out.push(v.a.ifname)
    if (here.has(v.b.host)) out.push(v.b.ifname)
  }
  return out
}

export class Topology implements AsyncDisposable {
  private downed: Promise<TeardownReport> | undefined
  private kept = false

  private constructor(
    private readonly lab: Lab,
    readonly created: boolean,
  ) {}

  /** The run id; namespaces and links of this lab are recorded under /run/nsnet/<runId>.json. */
  get runId(): string {
    return this.lab.marker.runId
  }
  /** The resolved spec (defaults filled in, pool addresses assigned). */
  get spec(): ResolvedTopology {
    return this.lab.topo
  }

  /** Checks a spec completely without touching anything; returns its resolved form. (No `ip` equivalent.) */
  static validate(spec: TopologySpec): ResolvedTopology {
    return validate(spec)
  }

  /** The build as `ip` commands, one per step (what a shell script would run). */
  static script(spec: TopologySpec): string {
    return shellScript(validate(spec))
  }

  /** The steps of the build, each with its `ip` equivalent. */
  static plan(spec: TopologySpec): Array<{ phase: string; command: string }> {
    const t = validate(spec)
    return plan(t).flatMap((p) => p.steps.map((s) => ({ phase: p.name, command: ipCommand(t, s) })))
  }

  /** Text outline or Mermaid flowchart of a spec. (No `ip` equivalent; `nsnet draw`.) */
  static draw(spec: TopologySpec, format: 'text' | 'mermaid' = 'text'): string {
    const t = validate(spec)
    return format === 'mermaid' ? drawMermaid(t) : drawText(t)
  }

  /**
   * Builds the topology. The spec is validated completely first; names that already
   * exist are refused before anything is made; a failure half-way removes everything
   * made so far and throws the failing step. Calling it again with the same spec while
   * the lab is up (from this process, or after keep()) changes nothing and returns it
   * (`created` false); if part of it was removed meanwhile, the rest is removed and it is
   * built anew. Does what the `ip netns add` / `ip link add` / `ip addr add` / `ip route add`
   * commands of script() do.
   */
  static async up(spec: TopologySpec, opts: UpOptions = {}): Promise<Topology> {
    const topo = validate(spec)
    await checkShapingSupport(topo) // netem for delay/loss: refused before anything is made
    const fp = fingerprint(topo)
    const here = currentNetns()
    const me = { pid: process.pid, start: processStart(process.pid) ?? '' }
    for (const m of listMarkers()) {
      if (m.fingerprint !== fp || m.netns !== here || !sameWorld(m)) continue
      // Another up() of this process is building it right now: neither adopt nor undo it.
      // This build then races it for the names, and the kernel picks one winner (EEXIST).
      if (building.has(m.runId)) continue
      if ((m.pid === me.pid && m.pidStart === me.start) || m.pid === 0) {
        const lab = new Lab(topo, m, opts)
        if (m.complete && (await intact(m, lab))) {
          m.pid = me.pid
          m.pidStart = me.start
          writeMarker(m)
          return new Topology(lab, false)
        }
        // Something was removed behind its back: take the rest down and build it anew.
        await teardown(m, lab)
        continue
      }
      if (processAlive(m.pid, m.pidStart)) {
        // Up, or being built, by a live process: its names are taken, as the kernel would say.
        const first = m.namespaces[0] ? `netns ${m.namespaces[0].name}` : m.links[0] ? `link ${m.links[0].name}` : `run ${m.runId}`
        throw new NsnetError(
          `${first} already exists: this topology is ${m.complete ? 'up' : 'being built'}, owned by pid ${m.pid} (run ${m.runId}); nothing was made`,
          {
            code: 'EEXIST',
            operation: 'topology.up',
            object: first,
            hint: 'bring it down there, or wait for it',
          },
        )
      }
      await teardown(m) // what a dead run of the same spec left behind
    }
    await checkFree(topo)

    const marker: RunMarker = {
      version: 1,
      runId: newRunId(),
      name: topo.name,
      fingerprint: fp,
      created: new Date().toISOString(),
      pid: me.pid,
      pidStart: me.start,
      netns: here,
      ...currentWorld(),
      namespaces: topo.hosts.filter((h) => h.netns !== null).map((h) => ({ name: h.netns! })),
      links: localLinks(topo).map((name) => ({ name })),
      sysctls: [],
      processes: topo.hosts.flatMap((h) => h.processes.map((p) => ({ host: h.node, name: p.name, pid: 0, start: '' }))),
      etcDirs: [],
      topology: topo,
    }
    // Everything it plans to make, by name only, before anything is made (see ownership.ts).
    writeMarker(marker)
    const lab = new Lab(topo, marker, opts)
    building.add(marker.runId)
    try {
      await lab.build(opts)
    } catch (e) {
      const report = await teardown(marker, lab)
      const err = e instanceof NsnetError ? e : new NsnetError(String((e as Error)?.message ?? e), { code: 'EFAILED', operation: 'topology.up' })
      const undone = report.failed.length
        ? `; rollback left ${report.failed.map((f) => `${f.object} (${f.error})`).join(', ')}`
        : '; everything it made was removed'
      throw new NsnetError(`${err.summary}${undone}`, {
        code: err.code,
        errno: err.errno,
        operation: err.operation ?? 'topology.up',
        object: err.object,
        namespace: err.namespace,
        hint: err.hint,
        cause: e,
      })
    } finally {
      building.delete(marker.runId)
    }
    return new Topology(lab, true)
  }

  /** The namespace name of a node (null: the current namespace), as `ip netns list` shows it. */
  netns(node: string): string | null {
    return this.lab.host(node).netns
  }

  /** The rtnetlink API inside a node, as `ip -n NS ...`: `(await lab.rtnl('mario')).routes.list()`. */
  rtnl(node: string): Promise<RtnlApi> {
    return this.lab.api(node)
  }

  /** The Open vSwitch holding switch `node` (`ovs-vsctl --db=unix:SOCK`): its verbs, show(), service.dbSocket. */
  ovs(node: string): Promise<Ovs> {
    return this.lab.switches.of(node)
  }

  /** Addresses (CIDR) of a node: its interfaces' and its bridges', as the spec gives them (not `ip addr`). */
  addresses(node: string): string[] {
    const t = this.lab.topo
    const bridge = t.bridges.find((b) => b.node === node)
    if (bridge) return [...bridge.addresses]
    this.lab.host(node)
    const out: string[] = []
    for (const b of t.bridges) if (b.host === node) out.push(...b.addresses)
    for (const v of t.veths) for (const e of [v.a, v.b]) if (e.host === node && !e.master) out.push(...e.addresses)
    return out
  }

  /**
   * The address to reach `to` at: an IP passes through; a node gives its address on a
   * network `from` is on (else its first address).
   */
  address(to: string, from?: string): string {
    if (parseCidr(to) && !this.lab.topo.hosts.some((h) => h.node === to)) return to.split('/')[0]!
    const mine = this.addresses(to)
    if (!mine.length) throw new NsnetError(`node "${to}" has no address`, { code: 'ENOTFOUND', operation: 'topology.address' })
    if (from !== undefined) {
      const nets = this.addresses(from).map((c) => parseCidr(c)!)
      const shared = mine.find((c) => nets.some((n) => contains(n, c.split('/')[0]!)))
      if (shared) return shared.split('/')[0]!
    }
    return mine[0]!.split('/')[0]!
  }

  /** Runs argv inside a node, as `ip netns exec NS argv...`. */
  exec(node: string, argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
    return execWhere(this.netns(node), argv, opts)
  }

  /** Starts a long-running program inside a node (`ip netns exec NS argv... &`); it is stopped by down() (and reap()). */
  async spawn(node: string, argv: readonly string[], opts: StartOptions = {}): Promise<ServiceHandle> {
    return this.track(node, await startProcess(this.netns(node), argv, opts))
  }

  private track(node: string, svc: ServiceHandle): ServiceHandle {
    this.lab.services.push(svc)
    const start = processStart(svc.pid)
    if (start) {
      this.lab.marker.processes.push({ host: node, name: svc.name, pid: svc.pid, start })
      writeMarker(this.lab.marker)
    }
    return svc
  }

  /** `ip netns exec FROM ping -c1 ADDRESS-OF-TO` (or a TCP probe where ping is missing). */
  ping(from: string, to: string, opts?: PingOptions): Promise<PingResult> {
    return ping(this.netns(from), this.address(to, from), opts)
  }

  /**
   * Goodput from one node to another, measured at the receiver with nsnet's own sender and
   * sink (no iperf; like `ip netns exec TO iperf3 -s` + `ip netns exec FROM iperf3 -c ADDRESS`).
   */
  throughput(from: string, to: string, opts?: ThroughputOptions): Promise<ThroughputResult> {
    return measureThroughput(this.netns(from), this.netns(to), this.address(to, from), opts)
  }

  /** One interface's counters inside a node, as `ip -n NS -s -s -j link show dev IFNAME` stats64. */
  async counters(node: string, ifname: string): Promise<LinkStats64> {
    return (await this.rtnl(node)).links.stats(ifname)
  }

  /** TCP and/or UDP echo servers inside a node (no `ip` equivalent; like `ip netns exec NS socat ...`). */
  async echoServer(node: string, opts: { tcp?: number; udp?: number; address?: string }): Promise<ServiceHandle> {
    return this.track(node, await startEchoServer(this.netns(node), opts))
  }

  /** Sends a message from `from` to an echo server at `to` (node or IP) and checks the reply (like `ip netns exec FROM nc`). */
  echo(from: string, proto: 'tcp' | 'udp', to: string, port: number, message?: string): Promise<EchoResult> {
    return echo(this.netns(from), proto, this.address(to, from), port, message)
  }

  /** Resolves a name inside a node as its programs would (`ip netns exec NS getent hosts NAME`). */
  resolve(node: string, name: string): Promise<ResolveResult> {
    return resolveName(this.netns(node), name)
  }

  /** A net.* sysctl inside a node, as `ip netns exec NS sysctl -n KEY`. */
  async sysctl(node: string, key: string): Promise<string> {
    const ns = this.netns(node)
    if (ns === null) return readSysctl(key, undefined)
    return (await this.lab.handle(ns)).sysctl.get(key)
  }

  /** Pids of the processes inside a node's namespace, as `ip netns pids NS`. */
  pids(node: string): Promise<number[]> {
    const ns = this.netns(node)
    if (ns === null)
      throw new NsnetError('the current namespace has no name to list pids of', { code: 'EINVAL_ARGUMENT', operation: 'topology.pids', object: `node ${node}` })
    return netns.pids(ns)
  }

  /** Text outline or Mermaid flowchart of this lab. (No `ip` equivalent; `nsnet draw`.) */
  draw(format: 'text' | 'mermaid' = 'text'): string {
    return format === 'mermaid' ? drawMermaid(this.lab.topo) : drawText(this.lab.topo)
  }

  /** The `ip netns del` / `ip link del` commands that would remove it by hand. */
  teardownScript(): string {
    return teardownScript(this.lab.topo)
  }

  /**
   * Leaves the lab up after this process exits: dispose no longer removes it, and reap()
   * skips it. A later up() of the same spec adopts it; `nsnet down <runId>` removes it.
   */
  async keep(): Promise<void> {
    this.kept = true
    this.lab.marker.pid = 0
    this.lab.marker.pidStart = ''
    writeMarker(this.lab.marker)
    await this.lab.closeHandles()
    // Processes started here must not die with us.
    for (const s of this.lab.services) s.child.unref()
  }

  /** Removes everything this lab made, as teardownScript()'s `ip` commands; what is already gone is fine. Throws if something remains. */
  async down(): Promise<TeardownReport> {
    this.downed ??= teardown(this.lab.marker, this.lab)
    const report = await this.downed
    if (report.failed.length) {
      throw new NsnetError(`could not remove ${report.failed.map((f) => `${f.object} (${f.error})`).join(', ')}`, {
        code: 'EBUSY',
        operation: 'topology.down',
        object: `run ${this.runId}`,
      })
    }
    return report
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.kept) await this.down()
  }
}

/** Refuses, before anything is made, names that exist already (naming the run that owns them). */
async function checkFree(topo: ResolvedTopology): Promise<void> {
  const owners = new Map<string, string>()
  for (const m of listMarkers().filter(sameWorld)) {
    for (const n of m.namespaces) owners.set(`netns ${n.name}`, m.runId)
    if (m.netns === currentNetns()) for (const l of m.links) owners.set(`link ${l.name}`, m.runId)
  }
  const taken: string[] = []
  for (const h of topo.hosts) if (h.netns !== null && fileKey(`/run/netns/${h.netns}`)) taken.push(`netns ${h.netns}`)
  const local = localLinks(topo)
  if (local.length) {
    const { Rtnl } = await import('../rtnl.js')
    const rt = await Rtnl.open()
    try {
      const names = new Set((await rt.links.list()).map((l) => l.ifname))
      for (const l of local) if (names.has(l)) taken.push(`link ${l}`)
    } finally {
      await rt.close()
    }
  }
  if (taken.length) {
    const runs = [...new Set(taken.map((t) => owners.get(t)).filter(Boolean))]
    throw new NsnetError(`${taken.join(', ')} already exist${taken.length === 1 ? 's' : ''}; nothing was made`, {
      code: 'EEXIST',
      operation: 'topology.up',
      object: taken[0],
      hint: runs.length ? `made by nsnet run ${runs.join(', ')} (\`nsnet reap\` removes runs whose owner died)` : 'pick other names or a prefix',
    })
  }
}

/** Whether everything the marker records is still there (so a second up() can do nothing). */
async function intact(m: RunMarker, lab: Lab): Promise<boolean> {
  for (const n of m.namespaces) if (!n.key || fileKey(`/run/netns/${n.name}`) !== n.key) return false
  for (const p of m.processes) if (!processAlive(p.pid, p.start)) return false
  if (m.links.length) {
    const api = await lab.localApi()
    const byName = new Map((await api.links.list()).map((l) => [l.ifname, l.ifindex]))
    for (const l of m.links) if (byName.get(l.name) !== l.ifindex) return false
  }
  return true
}
