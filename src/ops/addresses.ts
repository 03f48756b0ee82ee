// Placeholder until the addresses operations land; replaced wholesale by that work.
import type { OpsContext } from './context.js'

export class Addresses {
  constructor(readonly ctx: OpsContext) {}
}
