// The run marker: /run/nsnet/<runid>.json names the process that owns a topology, what it
// plans to make (written before anything is made) and the identity of each thing it made
// (written as each is made; see ownership.ts). reap() uses it to remove what dead runs
// left behind, and only that: an owner is alive when a process with its pid and its start
// time exists; a namespace, link or process is ours only when its identity matches.
import { mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { codeOf, invalidArgument, NsnetError } from '../netlink/errors.js'
import { nsKey } from '../netns/names.js'
import type { ResolvedTopology } from './spec.js'

export const RUN_DIR = process.env.NSNET_RUN_DIR ?? '/run/nsnet'

export interface MarkedNamespace {
  readonly name: string
  /** nsKey() of /run/netns/<name> (`dev:ino:ctime`), recorded once this run made it; absent: only planned. */
  key?: string
}

export interface MarkedLink {
  /** A link made in the owner's namespace (namespaces made by the run take their links along). */
  readonly name: string
  /** Recorded once made (it also carries the ifalias `nsnet:<runId>`); absent: planned or being made. */
  ifindex?: number
}

export interface MarkedProcess {
  readonly host: string
  readonly name: string
  /** 0 while only planned. */
  readonly pid: number
  /** Field 22 of /proc/<pid>/stat: tells a reused pid apart. */
  readonly start: string
}

export interface MarkedSysctl {
  readonly key: string
  readonly previous: string
}

export interface RunMarker {
  readonly version: 1
  readonly runId: string
  readonly name: string
  readonly fingerprint: string
  readonly created: string
  /** The owner; 0 when the run was kept (`lab.keep()`), which reap leaves alone. */
  pid: number
  pidStart: string
  /** /proc/self/ns/net of the owner: `links` and `sysctls` live in that namespace. */
  readonly netns: string
  /**
   * The owner's mount and PID namespaces: its /run/netns names and its pids mean something
   * only there. A marker from elsewhere (a test worker, a container sharing /run/nsnet) is
   * left alone.
   */
  readonly mntns: string
  readonly pidns: string
  readonly namespaces: MarkedNamespace[]
  readonly links: MarkedLink[]
  readonly sysctls: MarkedSysctl[]
  readonly processes: MarkedProcess[]
  /** Directories this run created under /etc/netns. */
  readonly etcDirs: string[]
  /** Scratch directories this run made (a private OVS's run directory), removed after its processes. */
  dirs?: string[]
  readonly topology: ResolvedTopology
  /** Set once every step succeeded; a second up() of the same spec is then a no-op. */
  complete?: boolean
}

/** Start time of `pid` (clock ticks after boot), or undefined when there is no such process. */
export function processStart(pid: number): string | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return s.slice(s.lastIndexOf(')') + 2).split(' ')[19]
  } catch {
    return undefined
  }
}

/** Whether pid is still the very process recorded (same start time, not a zombie). */
export function processAlive(pid: number, start: string): boolean {
  if (!pid) return false
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ')
    return f[19] === start && f[0] !== 'Z' && f[0] !== 'X'
  } catch {
    return false
  }
}

function nsLink(kind: 'net' | 'mnt' | 'pid'): string {
  try {
    return readlinkSync(`/proc/self/ns/${kind}`)
  } catch {
    return 'unknown'
  }
}

export function currentNetns(): string {
  return nsLink('net')
}

/** The mount and PID namespaces a new marker records. */
export function currentWorld(): { mntns: string; pidns: string } {
  return { mntns: nsLink('mnt'), pidns: nsLink('pid') }
}

/** Whether a marker was written where its namespace names and pids mean what they mean here. */
export function sameWorld(m: RunMarker): boolean {
  const w = currentWorld()
  return m.mntns === w.mntns && m.pidns === w.pidns
}

/** The identity of a namespace file (see nsKey), or undefined when missing. */
export const fileKey = nsKey

/** What newRunId() makes: three base-36 fields. Anything else (a path, `../x`) is not a run id. */
const RUN_ID = /^[0-9a-z]{1,16}-[0-9a-z]{1,16}-[0-9a-z]{1,16}$/

export function isRunId(v: unknown): v is string {
  return typeof v === 'string' && RUN_ID.test(v)
}

/** Throws EINVAL_ARGUMENT unless `runId` is a run id (never a path). */
export function checkRunId(runId: unknown, operation: string): string {
  if (!isRunId(runId)) {
    throw invalidArgument(`${JSON.stringify(runId)} is not a run id (like ${newRunId()})`, {
      operation,
      object: 'run id',
      hint: '`nsnet runs` lists them',
    })
  }
  return runId
}

export function markerPath(runId: string): string {
  return `${RUN_DIR}/${checkRunId(runId, 'topology.marker')}.json`
}

/** Writes atomically (temp file + rename), so a reader never sees half a marker. */
export function writeMarker(m: RunMarker): void {
  try {
    mkdirSync(RUN_DIR, { recursive: true, mode: 0o755 })
    const tmp = `${markerPath(m.runId)}.${process.pid}.tmp`
    writeFileSync(tmp, JSON.stringify(m, null, 1))
    renameSync(tmp, markerPath(m.runId))
  } catch (e) {
    const err = e as NodeJS.ErrnoException
    throw new NsnetError(`cannot write the run marker in ${RUN_DIR}: ${err.code ?? err.message}`, {
      code: codeOf(err),
      operation: 'topology.up',
      object: `run ${m.runId}`,
      hint: 'labs need root, or a sandbox (`nsnet sandbox -- ...`); NSNET_RUN_DIR moves the markers',
    })
  }
}

export function removeMarker(runId: string): void {
  rmSync(markerPath(runId), { force: true })
}

export function readMarker(runId: string): RunMarker | undefined {
  const path = markerPath(runId)
  try {
    const m = JSON.parse(readFileSync(path, 'utf8')) as RunMarker
    return m.version === 1 && m.runId === runId ? m : undefined
  } catch {
    return undefined
  }
}

/** Every readable marker in RUN_DIR (see sameWorld() for which ones concern us). */
export function listMarkers(): RunMarker[] {
  let files: string[]
  try {
    files = readdirSync(RUN_DIR)
  } catch {
    return []
  }
  const out: RunMarker[] = []
  for (const f of files) {
    if (!f.endsWith('.json') || !isRunId(f.slice(0, -5))) continue
    const m = readMarker(f.slice(0, -5))
    if (m) out.push(m)
  }
  return out
}

/** A fresh run id: short, sortable by time, unique per process. */
export function newRunId(): string {
  return `${Date.now().toString(36)}-${process.pid.toString(36)}-${Math.floor(Math.random() * 36 ** 4).toString(36)}`
}
