// A private OVS started alone (not by a topology) records itself in a run marker like a
// lab does: its daemons as processes and, when vswitchd runs in the owner's namespace, the
// taps its netdev bridges make as links. If the owner dies, `nsnet reap` stops the daemons
// and deletes the taps; close() removes the marker.

import { Rtnl } from '../rtnl.js'
import { currentNetns, currentWorld, newRunId, processStart, type RunMarker, removeMarker, writeMarker } from '../topology/marker.js'
import { recordDir, recordLink, runAlias } from '../topology/ownership.js'
import type { OvsDaemon } from './service.js'

export class ServiceMarker {
  private readonly m: RunMarker
  /** False when /run/nsnet is not writable (no root, no sandbox): the service runs unrecorded. */
  private readonly on: boolean

  constructor(private readonly local: boolean) {
    const runId = newRunId()
    this.m = {
      version: 1,
      runId,
      name: 'ovs',
      fingerprint: `ovs-service:${runId}`,
      created: new Date().toISOString(),
      pid: process.pid,
      pidStart: processStart(process.pid) ?? '',
      netns: currentNetns(),
      ...currentWorld(),
      namespaces: [],
      links: [],
      sysctls: [],
      processes: [],
      etcDirs: [],
      topology: { name: 'ovs', prefix: '', hosts: [], bridges: [], veths: [] },
    }
    this.on = this.write()
  }

  private write(): boolean {
    try {
      writeMarker(this.m)
      return true
    } catch {
      return false
    }
  }

  get runId(): string {
    return this.m.runId
  }

  daemon(d: OvsDaemon): void {
    this.m.processes.push({ host: 'host', name: d.name, pid: d.pid, start: d.start })
    if (this.on) this.write()
  }

  /** The service's own run directory, removed by reap after the daemons. */
  dir(path: string): void {
    if (this.on) recordDir(this.m, path)
  }

  /** Taps vswitchd makes for a netdev bridge or internal port (only those in the owner's namespace). */
  taps(names: readonly string[]): void {
    if (!this.local) return
    let changed = false
    for (const name of ['ovs-netdev', ...names]) {
      if (!this.m.links.some((l) => l.name === name)) {
        this.m.links.push({ name })
        changed = true
      }
    }
    if (changed && this.on) this.write()
  }

  /**
   * Marks the taps vswitchd made as ours once they exist: the run's alias on each tap that has
   * none, then its ifindex in the marker. reap() deletes only links whose identity matches,
   * so a tap recorded by name alone would outlive a dead owner.
   */
  async claim(names: readonly string[]): Promise<void> {
    if (!this.local || !this.on) return
    const alias = runAlias(this.m.runId)
    const rt = await Rtnl.open()
    try {
      const wanted = new Set(['ovs-netdev', ...names])
      for (const l of await rt.links.list({ kind: 'tun' })) {
        if (!wanted.has(l.ifname) || (l.ifalias !== undefined && l.ifalias !== alias)) continue
        if (l.ifalias === undefined) await rt.links.set(l.ifname, { alias })
        recordLink(this.m, { ifname: l.ifname, ifindex: l.ifindex, ifalias: alias })
      }
    } finally {
      await rt.close()
    }
  }

  remove(): void {
    if (this.on) removeMarker(this.m.runId)
  }
}
