// Peer drivers for iproute2: `ip -batch`, one `ip route add` process per route, and
// `ip -j route show`. ip is timed from outside (wall time of the process); for -batch and
// -j the start-up of an ip process doing nothing (`ip -n NS -batch /dev/null`, median of 7)
// is subtracted so start-up is excluded as it is for the tools that time themselves.
// GNU time(1) wraps each run (also the start-up probe) to record ip's CPU time.
import fs from 'node:fs'
import path from 'node:path'
import { type Netns, OUT, startupMs, timeProcess } from '../harness.js'
import type { RouteSet, RouteTool, Sample } from './tool.js'

let startup: number | undefined

async function ipStartup(ns: Netns): Promise<number> {
  startup ??= await startupMs(['ip', '-n', ns.name, '-batch', '/dev/null'], 7, { cpu: true })
  return startup
}

/** The measured start-up of `ip` that was subtracted, ms (after the first measurement). */
export function ipStartupMs(): number | undefined {
  return startup
}

function batchFile(set: RouteSet, count: number): string {
  const file = path.join(OUT, `routes-${set.dsts.length}-${count}.batch`)
  if (!fs.existsSync(file)) {
    const lines = set.dsts.slice(0, count).map((d) => `route add ${d} via ${set.gateway} dev ${set.dev}\n`)
    fs.writeFileSync(file, lines.join(''))
  }
  return file
}

export const ipBatch: RouteTool = {
  id: 'ip-batch',
  name: 'ip -batch',
  timing: 'external wall time minus ip start-up',
  async insert(ns: Netns, set: RouteSet, count: number): Promise<Sample> {
    const file = batchFile(set, count)
    const base = await ipStartup(ns)
    const t = await timeProcess(['ip', '-n', ns.name, '-batch', file], { cpu: true })
    return { ms: Math.max(0, t.wallMs - base), userMs: t.userMs, sysMs: t.sysMs }
  },
}

export const ipEach: RouteTool = {
  id: 'ip-each',
  name: 'ip route add, a process per route',
  timing: 'external wall time of a shell loop, start-up included (it is the cost being shown)',
  async insert(ns: Netns, set: RouteSet, count: number): Promise<Sample> {
    const file = path.join(OUT, `routes-${set.dsts.length}-${count}.sh`)
    if (!fs.existsSync(file)) {
      const lines = set.dsts.slice(0, count).map((d) => `ip -n "$1" route add ${d} via ${set.gateway} dev ${set.dev}\n`)
      fs.writeFileSync(file, 'set -e\n' + lines.join(''))
    }
    const t = await timeProcess(['sh', file, ns.name], { cpu: true })
    return { ms: t.wallMs, userMs: t.userMs, sysMs: t.sysMs }
  },
}

export const ipJson: RouteTool = {
  id: 'ip-json',
  name: 'ip -j route show',
  timing: 'external wall time with stdout to /dev/null, minus ip start-up',
  async dump(ns: Netns): Promise<Sample> {
    const base = await ipStartup(ns)
    const t = await timeProcess(['ip', '-n', ns.name, '-j', 'route', 'show'], { discardStdout: true, cpu: true })
    return { ms: Math.max(0, t.wallMs - base), userMs: t.userMs, sysMs: t.sysMs }
  },
}
