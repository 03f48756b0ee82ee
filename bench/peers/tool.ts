// The shape every route-benchmark driver (nsnet and its peers) shares.
import type { Netns } from '../harness.js'

/** The destinations every tool inserts, identical for all of them. */
export interface RouteSet {
  /** Destinations as CIDR text, e.g. 198.18.0.7/32. */
  readonly dsts: readonly string[]
  /** The same, one per line. */
  readonly file: string
  readonly gateway: string
  readonly dev: string
}

/** One measurement of one tool. */
export interface Sample {
  /** Time of the measured work, ms (for a sample, not yet scaled). */
  readonly ms: number
  /** CPU time of the measuring process during the measurement, ms (internally timed tools). */
  readonly userMs?: number
  readonly sysMs?: number
  /** Routes the tool decoded that belong to the benchmark set (dumps). */
  readonly matched?: number
  /** Peak RSS (maxRSS) right before and after the dump, KiB (dumps in a dedicated process). */
  readonly baseKb?: number
  readonly peakKb?: number
}

export interface RouteTool {
  readonly id: string
  /** Display name, e.g. `ip -batch`. */
  readonly name: string
  /** How the time was taken, printed under the table. */
  readonly timing: string
  /** Why the tool cannot run here (missing package...), or undefined when it can. */
  unavailable?(): string | undefined
  /** Inserts the first `count` routes of `set` into `ns`. */
  insert?(ns: Netns, set: RouteSet, count: number): Promise<Sample>
  /** Dumps `ns`'s table main into the tool's own typed objects. */
  dump?(ns: Netns, set: RouteSet): Promise<Sample>
}
