// Driver for nsnet itself (see bench/workers/routes-nsnet.ts): same shape as the peers.
import path from 'node:path'
import { type Netns, OUT, timeProcess, workerResult } from '../harness.js'
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
  insert: (ns: Netns, set: RouteSet, count: number) => run(ns, ['insert', set.file, String(count), set.gateway, set.dev], 'nsnet routes.addMany'),
  dump: (ns: Netns, set: RouteSet) => run(ns, ['dump', set.gateway], 'nsnet routes.list'),
}

/** Individual routes.add() calls, all at once: the engine packs them (self-batching). */
export const nsnetConcurrent: RouteTool = {
  id: 'nsnet-concurrent',
  name: 'nsnet concurrent routes.add',
  timing: 'internal (timed inside its process; start-up excluded)',
  insert: (ns: Netns, set: RouteSet, count: number) =>
    run(ns, ['insert-concurrent', set.file, String(count), set.gateway, set.dev], 'nsnet concurrent routes.add'),
}

/** The same for the memory row: a smaller count, peak RSS is what counts. */
export const nsnetConcurrentRss: RouteTool = { ...nsnetConcurrent, id: 'nsnet-concurrent-rss', name: 'nsnet concurrent routes.add (RSS)' }

/** One awaited routes.add() after another: the per-call latency. */
export const nsnetSerial: RouteTool = {
  id: 'nsnet-serial',
  name: 'nsnet routes.add one awaited after another',
  timing: 'internal (timed inside its process; start-up excluded)',
  insert: (ns: Netns, set: RouteSet, count: number) => run(ns, ['insert-serial', set.file, String(count), set.gateway, set.dev], 'nsnet serial routes.add'),
}

/** routes.stream() of table main. */
export const nsnetStream: RouteTool = {
  id: 'nsnet-stream',
  name: 'nsnet routes.stream',
  timing: 'internal (timed inside its process; start-up excluded)',
  dump: (ns: Netns, set: RouteSet) => run(ns, ['stream', set.gateway], 'nsnet routes.stream'),
}

/**
 * Diagnostic: the engine alone. Insert: batch() of prebuilt route bytes (no route encoding).
 * Dump: dump() with a decoder that only checks the table (no route decoding).
 */
export const nsnetEngine: RouteTool = {
  id: 'nsnet-engine',
  name: 'nsnet engine alone',
  timing: 'internal, only batch()/dump() timed',
  insert: (ns: Netns, set: RouteSet, count: number) => run(ns, ['insert-engine', set.file, String(count), set.gateway, set.dev], 'nsnet engine batch'),
  dump: (ns: Netns) => run(ns, ['dump-engine'], 'nsnet engine dump'),
}

/**
 * Diagnostic: the kernel's floor on a bare socket of the same binding. Insert: prebuilt 64 KiB
 * datagrams sent back to back. Dump: headers walked in place, nothing decoded.
 */
export const kernelFloor: RouteTool = {
  id: 'kernel-floor',
  name: 'kernel floor (bare socket)',
  timing: 'internal, only the socket work timed',
  insert: (ns: Netns, set: RouteSet, count: number) => run(ns, ['insert-raw', set.file, String(count), set.gateway, set.dev], 'kernel floor insert'),
  dump: (ns: Netns) => run(ns, ['dump-raw'], 'kernel floor dump'),
}

/** Diagnostic: decoding a captured dump into Route objects, no kernel work in the clock. */
export const decodeOnly: RouteTool = {
  id: 'decode-only',
  name: 'route decoding alone',
  timing: 'internal, decoding of a captured dump only',
  dump: (ns: Netns) => run(ns, ['dump-decode'], 'decode only'),
}
