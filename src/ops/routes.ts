// Placeholder until the routes operations land; replaced wholesale by that work.
import type { OpsContext } from './context.js'

export class Routes {
  constructor(readonly ctx: OpsContext) {}
}
