// Placeholder until the neighbors operations land; replaced wholesale by that work.
import type { OpsContext } from './context.js'

export class Neighbors {
  constructor(readonly ctx: OpsContext) {}
}
