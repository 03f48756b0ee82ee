// Peer driver for pyroute2 (see pyroute2_worker.py). Uses the system python, where the
// Debian package python3-pyroute2 lives.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { type Netns, ROOT, timeProcess, workerResult } from '../harness.js'
import type { RouteSet, RouteTool, Sample } from './tool.js'

const WORKER = path.join(ROOT, 'bench', 'peers', 'pyroute2_worker.py')
const PYTHON = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'

let missing: string | undefined | null = null

export const pyroute2: RouteTool = {
  id: 'pyroute2',
  name: 'pyroute2',
  timing: 'internal (timed inside its process; interpreter start-up and import excluded)',
  unavailable() {
    if (missing === null) {
      const r = spawnSync(PYTHON, ['-c', 'import pyroute2'], { encoding: 'utf8' })
      missing = r.status === 0 ? undefined : `pyroute2 is not importable by ${PYTHON} (apt install python3-pyroute2)`
    }
    return missing
  },
  async insert(ns: Netns, set: RouteSet, count: number): Promise<Sample> {
    const t = await timeProcess(ns.exec([PYTHON, WORKER, 'insert', set.file, String(count), set.gateway, set.dev]))
    return workerResult<Sample>(t, 'pyroute2 insert')
  },
  async dump(ns: Netns, set: RouteSet): Promise<Sample> {
    const t = await timeProcess(ns.exec([PYTHON, WORKER, 'dump', set.gateway]))
    return workerResult<Sample>(t, 'pyroute2 dump')
  },
}
