// Peer driver for the npm `netlink` package's rtnetlink module (see netlink-worker.ts).

import path from 'node:path'
import { type Netns, OUT, timeProcess, workerResult } from '../harness.js'
import type { RouteSet, RouteTool, Sample } from './tool.js'

const worker = () => path.join(OUT, 'workers', 'netlink-worker.mjs')

export const npmNetlink: RouteTool = {
  id: 'npm-netlink',
  name: 'npm netlink (rtnetlink)',
  timing: 'internal (timed inside its process; start-up excluded)',
  async insert(ns: Netns, set: RouteSet, count: number): Promise<Sample> {
    const t = await timeProcess(ns.exec([process.execPath, worker(), 'insert', set.file, String(count), set.gateway, set.dev]))
    return workerResult<Sample>(t, 'npm netlink insert')
  },
  async dump(ns: Netns, set: RouteSet): Promise<Sample> {
    const t = await timeProcess(ns.exec([process.execPath, worker(), 'dump', set.gateway]))
    return workerResult<Sample>(t, 'npm netlink dump')
  },
}

/** The same, one awaited newRoute() after another: the per-call latency of the package. */
export const npmNetlinkSerial: RouteTool = {
  id: 'npm-netlink-serial',
  name: 'npm netlink, one awaited after another',
  timing: 'internal (timed inside its process; start-up excluded)',
  async insert(ns: Netns, set: RouteSet, count: number): Promise<Sample> {
    const t = await timeProcess(ns.exec([process.execPath, worker(), 'insert-serial', set.file, String(count), set.gateway, set.dev]))
    return workerResult<Sample>(t, 'npm netlink serial insert')
  },
}
