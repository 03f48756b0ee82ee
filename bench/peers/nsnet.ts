// Driver for nsnet itself (see bench/workers/routes-nsnet.ts): same shape as the peers.
import path from 'node:path'
import { OUT, timeProcess, workerResult, type Netns } from '../harness.js'
import type { RouteSet, RouteTool, Sample } from './tool.js'

const worker = () => path.join(OUT, 'workers', 'routes-nsnet.mjs')

/** Node flags for the nsnet worker, e.g. --cpu-prof (set by bench/run.ts --prof). */
export const nodeFlags: string[] = []

async function run(ns: Netns, args: string[], what: string): Promise<Sample> {
  const t = await timeProcess(ns.exec([process.execPath, ...nodeFlags, worker(), ...args]))
  const r = workerResult<Sample & { error?: string }>(t, what)
  if (r.error) throw new Error(`${what}: ${r.error}`)
  return r
}

export const nsnet: RouteTool = {
  id: 'nsnet',
  name: 'nsnet',
  timing: 'internal (timed inside its process; start-up excluded)',
  insert: (ns: Netns, set: RouteSet, count: number) =>
    run(ns, ['insert', set.file, String(count), set.gateway, set.dev], 'nsnet routes.addMany'),
  dump: (ns: Netns, set: RouteSet) => run(ns, ['dump', set.gateway], 'nsnet routes.list'),
}

/** Diagnostic: the engine's batch() with hand-built messages, to separate engine from route encoding. */
export const nsnetEngine: RouteTool = {
  id: 'nsnet-engine',
  name: 'nsnet engine batch() alone (diagnostic)',
  timing: 'internal',
  insert: (ns: Netns, set: RouteSet, count: number) =>
    run(ns, ['insert-engine', set.file, String(count), set.gateway, set.dev], 'nsnet engine batch'),
}
