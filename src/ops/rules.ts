// Placeholder until the rules operations land; replaced wholesale by that work.
import type { OpsContext } from './context.js'

export class Rules {
  constructor(readonly ctx: OpsContext) {}
}
