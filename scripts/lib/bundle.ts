// The walkthroughs run from TypeScript sources (tsx), but the processes nsnet starts
// inside namespaces (the netns helper, the lab services, the sandbox supervisor) start
// faster from small bundles in dist/. This makes sure they exist and are newer than src/.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))

const BUNDLES = [
  { entry: 'src/netns/helper-main.ts', out: 'dist/helper.js' },
  { entry: 'src/topology/service.ts', out: 'dist/service.js' },
  { entry: 'src/sandbox/inner.ts', out: 'dist/sandbox-inner.js' },
]

function newest(dir: string): number {
  let t = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}/${e.name}`
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs)
  }
  return t
}

const fresh = (file: string, src: number) => existsSync(`${root}${file}`) && statSync(`${root}${file}`).mtimeMs >= src

/** Builds the dist/ bundles that are missing or older than src/. */
export async function ensureBundles(): Promise<void> {
  const src = newest(`${root}src`)
  if (BUNDLES.every((b) => fresh(b.out, src))) return
  if (existsSync(`${root}scripts/build.mjs`)) {
    execFileSync(process.execPath, [`${root}scripts/build.mjs`], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] })
  }
  const stale = BUNDLES.filter((b) => !fresh(b.out, src))
  if (!stale.length) return
  const esbuild = await import('esbuild')
  await Promise.all(stale.map((b) => esbuild.build({
    entryPoints: [`${root}${b.entry}`], outfile: `${root}${b.out}`, bundle: true,
    platform: 'node', format: 'esm', target: 'node20', external: ['netlink'],
    // Only the raw socket binding: the package's index loads every netlink family.
    alias: { netlink: 'netlink/dist/raw.js' }, logLevel: 'warning',
  })))
}
