// The walkthroughs run from TypeScript sources (tsx), but the processes nsnet starts
// inside namespaces (the netns helper, the lab services, the sandbox supervisor) start
// faster from the bundles in dist/. This runs scripts/build.mjs when they are missing or
// older than src/ (without them nsnet still works, from the sources, but slower).
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))
const BUNDLES = ['dist/helper.js', 'dist/service.js', 'dist/sandbox-inner.js']

function newest(dir: string): number {
  let t = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}/${e.name}`
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs)
  }
  return t
}

/** Runs the build when a bundle is missing or older than src/. */
export async function ensureBundles(): Promise<void> {
  const src = newest(`${root}src`)
  const fresh = (f: string) => existsSync(`${root}${f}`) && statSync(`${root}${f}`).mtimeMs >= src
  if (BUNDLES.every(fresh)) return
  execFileSync(process.execPath, [`${root}scripts/build.mjs`], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] })
}
