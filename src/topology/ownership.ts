// Which objects a run owns, exactly. The marker lists everything a run plans to make
// before it makes anything (names only: "planned"), and records each object's identity
// the moment it is made, before its step is reported done:
//   namespace  dev:inode of /run/netns/NAME
//   link       ifindex, and the ifalias `nsnet:<runId>` it carries (in the owner's namespace)
//   process    pid and start time
// Teardown (down(), rollback, reap()) removes an object only when what is there now has
// that identity. A name alone never matches: a planned object that was never recorded, or
// one replaced by somebody else's under the same name, is left alone.
import { rmSync } from 'node:fs'
import { basename, isAbsolute, normalize } from 'node:path'
import { fileKey, type MarkedLink, type MarkedNamespace, type MarkedProcess, processStart, type RunMarker, writeMarker } from './marker.js'

/** The ifalias that marks the links run `runId` made in its own namespace. */
export function runAlias(runId: string): string {
  return `nsnet:${runId}`
}

/**
 * Records that the run made namespace `name` (its inode), right after `ip netns add`.
 * `save` writes the marker (a build coalesces the writes of steps that finish together).
 */
export function recordNamespace(marker: RunMarker, name: string, save: (m: RunMarker) => void = writeMarker): void {
  const entry = marker.namespaces.find((n) => n.name === name)
  const key = fileKey(`/run/netns/${name}`)
  if (!entry || !key) return
  entry.key = key
  save(marker)
}

/** Whether /run/netns/NAME is still the namespace the run recorded. */
export function ownsNamespace(ns: MarkedNamespace): boolean {
  return ns.key !== undefined && fileKey(`/run/netns/${ns.name}`) === ns.key
}

interface LiveLink {
  readonly ifname: string
  readonly ifindex: number
  readonly ifalias?: string
}

/**
 * Records the ifindex of link `name` the run just made in its own namespace, if the link
 * there carries the run's alias (else it is not ours to record).
 */
export function recordLink(marker: RunMarker, live: LiveLink, save: (m: RunMarker) => void = writeMarker): void {
  const entry = marker.links.find((l) => l.name === live.ifname)
  if (!entry || live.ifalias !== runAlias(marker.runId)) return
  entry.ifindex = live.ifindex
  save(marker)
}

/** Whether a live link is the one the run made: its alias, and its ifindex once recorded. */
export function ownsLink(marker: RunMarker, entry: MarkedLink, live: LiveLink): boolean {
  return live.ifname === entry.name && live.ifalias === runAlias(marker.runId) && (entry.ifindex === undefined || live.ifindex === entry.ifindex)
}

/** Records a process the run started (pid and start time), as soon as it has a pid. */
export function recordProcess(marker: RunMarker, host: string, name: string, pid: number): MarkedProcess | undefined {
  const start = processStart(pid)
  if (!start) return undefined
  const planned = marker.processes.findIndex((p) => p.host === host && p.name === name && !p.pid)
  const entry: MarkedProcess = { host, name, pid, start }
  if (planned >= 0) marker.processes[planned] = entry
  else marker.processes.push(entry)
  writeMarker(marker)
  return entry
}

/** A scratch directory a run may make (mkdtemp `nsnet-*`); recorded paths of any other shape are never removed. */
const isScratch = (dir: string) => isAbsolute(dir) && normalize(dir) === dir && /^nsnet-[A-Za-z0-9_-]+$/.test(basename(dir))

/** Records a scratch directory the run made (see RunMarker.dirs) and writes the marker. */
export function recordDir(marker: RunMarker, dir: string): void {
  ;(marker.dirs ??= []).push(dir)
  writeMarker(marker)
}

/** Removes the run's scratch directories (once its processes are gone); what is not a scratch path is left alone. */
export function removeDirs(marker: RunMarker): { removed: string[]; failed: Array<{ object: string; error: string }> } {
  const out = { removed: [] as string[], failed: [] as Array<{ object: string; error: string }> }
  for (const dir of marker.dirs ?? []) {
    if (!isScratch(dir)) {
      out.failed.push({ object: `directory ${dir}`, error: 'not an nsnet scratch directory (an absolute nsnet-* path): left alone' })
      continue
    }
    try {
      rmSync(dir, { recursive: true, force: true })
      out.removed.push(`directory ${dir}`)
    } catch (e) {
      out.failed.push({ object: `directory ${dir}`, error: (e as Error).message })
    }
  }
  return out
}
