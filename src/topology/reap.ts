// reap(): removes what nsnet runs left behind when their owner died (SIGKILL, a crash, a
// power cut of the test runner), and nothing else: runs whose owner is alive and runs that
// were kept on purpose are left alone, and so is any object that is no longer the one the
// run made.
import { type TeardownReport, teardown } from './apply.js'
import { checkRunId, listMarkers, processAlive, readMarker, sameWorld } from './marker.js'

export interface ReapOptions {
  /** Only report what would be removed. */
  readonly dryRun?: boolean
  /** Also remove runs left up on purpose (keep(), scripts' --keep). */
  readonly kept?: boolean
  /** Only this run (alive or not, kept or not: `nsnet down <runId>`). */
  readonly runId?: string
  /** Only the runs of this lab, by its name or a run id; the rules above still apply (`nsnet reap LAB`). */
  readonly lab?: string
}

export interface ReapResult {
  readonly runId: string
  readonly name: string
  readonly pid: number
  /**
   * `removed`, `would remove`, `alive` (owner running: left alone), `kept` (left alone),
   * `foreign` (made in another mount or PID namespace, where its names and pids live: left
   * alone), `partial` (some removals failed).
   */
  readonly status: 'removed' | 'would remove' | 'alive' | 'kept' | 'foreign' | 'partial'
  readonly namespaces: readonly string[]
  readonly links: readonly string[]
  readonly report?: TeardownReport
}

/** Removes the leftovers of dead runs recorded in /run/nsnet (see ReapOptions). */
export async function reap(opts: ReapOptions = {}): Promise<ReapResult[]> {
  if (opts.runId !== undefined) checkRunId(opts.runId, 'topology.reap')
  const markers = (opts.runId !== undefined ? [readMarker(opts.runId)].filter((m) => m !== undefined) : listMarkers()).filter(
    (m) => opts.lab === undefined || m.name === opts.lab || m.runId === opts.lab,
  )
  const out: ReapResult[] = []
  for (const m of markers) {
    const base = { runId: m.runId, name: m.name, pid: m.pid, namespaces: m.namespaces.map((n) => n.name), links: m.links.map((l) => l.name) }
    if (!sameWorld(m)) {
      out.push({ ...base, status: 'foreign' })
      continue
    }
    if (opts.runId === undefined) {
      if (m.pid === 0 && !opts.kept) {
        out.push({ ...base, status: 'kept' })
        continue
      }
      if (m.pid !== 0 && processAlive(m.pid, m.pidStart)) {
        out.push({ ...base, status: 'alive' })
        continue
      }
    }
    if (opts.dryRun) {
      out.push({ ...base, status: 'would remove' })
      continue
    }
    const report = await teardown(m)
    out.push({ ...base, status: report.failed.length ? 'partial' : 'removed', report })
  }
  return out
}
