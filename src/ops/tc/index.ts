// Traffic control over rtnetlink, what `tc` does: rt.tc.qdiscs, rt.tc.classes, rt.tc.filters.
import type { OpsContext } from '../context.js'
import { Classes } from './classes.js'
import { Filters } from './filters.js'
import { Qdiscs } from './qdiscs.js'

export class Tc {
  readonly qdiscs: Qdiscs
  readonly classes: Classes
  readonly filters: Filters

  constructor(ctx: OpsContext) {
    this.qdiscs = new Qdiscs(ctx)
    this.classes = new Classes(ctx, this.qdiscs)
    this.filters = new Filters(ctx, this.qdiscs)
  }
}

export type { MirredAction } from './actions.js'
export { decodeClass, decodeFilter, decodeQdisc } from './codec.js'
export type { FqCodelOptions } from './kinds/fq_codel.js'
export type { HtbClassOptions, HtbOptions } from './kinds/htb.js'
export type { NetemOptions } from './kinds/netem.js'
export type { FifoOptions } from './kinds/simple.js'
export type { TbfOptions } from './kinds/tbf.js'
export type * from './types.js'
export type { U32IpMatch, U32Key } from './u32.js'
export { type Percent, parseRate, parseSize, parseTime, type Rate, type Size, type Time } from './units.js'
export { Classes, Filters, Qdiscs }
