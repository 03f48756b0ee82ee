// Two namespaces made alike for comparing nsnet with ip: this one (worked on through Rtnl) and
// a named twin (worked on with `ip -n`). `setup` runs in both; the twin goes after the file.
import { spawnSync } from 'node:child_process'
import { afterAll, beforeAll } from 'vitest'
import { netns, Rtnl } from '../../src/index.js'

/** `ip [-n NS] ARGS` without throwing: status, stdout and stderr. */
export const ipIn = (ns: string | undefined, args: readonly string[], input?: string) =>
  spawnSync('ip', [...(ns ? ['-n', ns] : []), ...args], { encoding: 'utf8', input })

export function withTwin(twin: string, setup: (ns?: string) => void): { readonly rt: Rtnl } {
  const ctx = {} as { rt: Rtnl }
  beforeAll(async () => {
    ctx.rt = await Rtnl.open()
    await netns.add(twin)
    setup()
    setup(twin)
  })
  afterAll(async () => {
    await ctx.rt?.close()
    await netns.delete(twin, { kill: true }).catch(() => {})
  })
  return ctx
}
