// The error validate() throws: every problem found, each with the path of its entry.
import { NsnetError } from '../../netlink/errors.js'

export interface SpecProblem {
  /** Where: `links[2].a`, `hosts[0].routes[1].via`. */
  readonly path: string
  readonly message: string
}

/** A topology spec that cannot be built; `problems` lists every issue found, first one in the message. */
export class SpecError extends NsnetError {
  readonly problems: readonly SpecProblem[]

  constructor(problems: readonly SpecProblem[]) {
    const first = problems[0]!
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : ''
    super(`${first.message}${more}`, {
      code: 'EINVAL_ARGUMENT',
      operation: 'topology.validate',
      object: first.path,
    })
    this.name = 'SpecError'
    this.problems = problems
  }

  override toJSON() {
    return { ...super.toJSON(), problems: this.problems }
  }
}
