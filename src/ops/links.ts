// Placeholder until the links operations land; replaced wholesale by that work.
import type { OpsContext } from './context.js'

export class Links {
  constructor(readonly ctx: OpsContext) {}
}
