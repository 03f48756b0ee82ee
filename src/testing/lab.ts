// Labs for test suites, whatever the runner: names and subnets that do not collide between
// parallel workers, and labs that are always taken down (also when the test throws).
// From the package index, so that the bundled dist/testing/index.js shares its Topology class.
import { Topology, type TopologySpec, type UpOptions } from '../index.js'

let counter = 0

/** A small number for this worker: vitest's pool id, jest's worker id, else from the pid. */
export function workerId(): number {
  const v = process.env.VITEST_POOL_ID ?? process.env.VITEST_WORKER_ID ?? process.env.JEST_WORKER_ID ?? process.env.TAP_CHILD_ID
  const n = v === undefined ? NaN : Number(v)
  return Number.isInteger(n) && n >= 0 ? n : process.pid
}

/** A namespace prefix unique to this process and call: `w3p1a2b-4-` (pid in base 36). */
export function uniquePrefix(): string {
  return `w${workerId() % 1000}p${process.pid.toString(36)}-${(counter++).toString(36)}-`
}

/**
 * An interface name unique to this process and call, at most 15 bytes:
 * `base` (cut to 7 bytes) + 8 characters. Use it for links in the current namespace,
 * which parallel workers share.
 */
export function uniqueIfname(base = 'nsn'): string {
  const tag = ((process.pid * 4099 + counter++ * 131) % 36 ** 5).toString(36).padStart(5, '0')
  return `${base.slice(0, 7)}${(workerId() % 36).toString(36)}${tag}`.slice(0, 15)
}

/**
 * A /24 that no other worker of this run hands out: 10.(64 + worker % 64).(n % 256).0/24.
 * Only matters for subnets that meet in the current namespace; inside a lab's own
 * namespaces any subnet is private to it.
 */
export function uniqueSubnet(): string {
  return `10.${64 + (workerId() % 64)}.${counter++ % 256}.0/24`
}

/** Tracks the labs of one test and takes them all down. */
export class LabSet {
  private readonly labs: Topology[] = []

  /** Builds `spec` with a unique namespace prefix (unless it has one). */
  async up(spec: TopologySpec, opts?: UpOptions): Promise<Topology> {
    const lab = await Topology.up({ ...spec, prefix: spec.prefix ?? uniquePrefix() }, opts)
    this.labs.push(lab)
    return lab
  }

  readonly prefix = uniquePrefix
  readonly ifname = uniqueIfname
  readonly subnet = uniqueSubnet

  /** Takes down every lab, newest first; throws the first failure after trying all. */
  async downAll(): Promise<void> {
    let first: unknown
    for (const lab of this.labs.splice(0).reverse()) {
      try {
        await lab.down()
      } catch (e) {
        first ??= e
      }
    }
    if (first !== undefined) throw first
  }
}

/** Builds a lab, runs `fn` with it, and always takes it down: for any test runner. */
export async function withLab<T>(spec: TopologySpec, fn: (lab: Topology) => Promise<T>, opts?: UpOptions): Promise<T> {
  const set = new LabSet()
  const lab = await set.up(spec, opts)
  try {
    return await fn(lab)
  } finally {
    await set.downAll()
  }
}
