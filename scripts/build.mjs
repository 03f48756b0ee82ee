#!/usr/bin/env node
// Build: bundle the entry points with esbuild (fast), optionally emit .d.ts with tsc.
//   node scripts/build.mjs           -> dist/helper.js, dist/index.js, dist/cli.js, dist/sandbox-inner.js, dist/service.js,
//                                      dist/monitor-child.js, dist/testing/{index,vitest}.js, sharing dist/chunks/
//   node scripts/build.mjs --types   -> also tsc --emitDeclarationOnly
//   node scripts/build.mjs --release -> what `npm pack` ships (prepack): a clean dist/ without source maps, the
//                                      declarations, and CommonJS bundles with their declarations in dist/cjs/
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as esbuild from 'esbuild'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const t0 = performance.now()

// The ES module entries, built together with code splitting: what they have in common lives
// once, in dist/chunks/, instead of a copy per entry. Those started as their own processes
// (helper, monitor-child, sandbox-inner, service) load only the chunks they reach.
const entries = {
  index: 'src/index.ts',
  cli: 'src/cli.ts',
  // The helper must say "ready" fast: its rtnetlink code is a dynamic import, so it sits in
  // chunks loaded on the first rtnetlink request (parsing it costs ~10 ms).
  helper: 'src/netns/helper/main.ts',
  // rt.monitor()'s child (owns the multicast socket, whose overflow aborts the process).
  'monitor-child': 'src/ops/monitor/child.ts',
  // The sandbox supervisor and the lab services (DNS, echo, probes).
  'sandbox-inner': 'src/sandbox/inner.ts',
  service: 'src/topology/service.ts',
  // nsnet/testing and its vitest fixture share the index's classes (the same chunks).
  'testing/index': 'src/testing/index.ts',
  'testing/vitest': 'src/testing/vitest.ts',
}
// `netlink` is loaded only by src/netlink/engine/binding.ts, which requires just the raw
// socket module at run time (the package index loads every netlink family, ~50 ms).
const esm = {
  splitting: true,
  outdir: 'dist',
  entryNames: '[dir]/[name]',
  chunkNames: 'chunks/[name]-[hash]',
  external: ['yaml', 'vitest'],
}
const release = process.argv.includes('--release')
// require('nsnet'): the same sources as CommonJS, in dist/cjs/ (its package.json says so).
// import.meta.url becomes the bundle's own file URL, so the helper and children are found alike.
const cjsEntries = [
  { src: 'src/index.ts', out: 'dist/cjs/index.js' },
  { src: 'src/testing/index.ts', out: 'dist/cjs/testing/index.js', external: ['../index.js'] },
]
const cjs = {
  format: 'cjs',
  define: { 'import.meta.url': 'moduleUrl' },
  inject: ['scripts/lib/cjs-module-url.js'],
}

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['netlink', 'yaml'],
  sourcemap: release ? false : 'linked',
  logLevel: 'warning',
  absWorkingDir: ROOT,
}

// Chunk names carry a content hash, so a rebuild never changes a file that a running helper
// (or any running entry) may still import lazily; previous builds' chunks are pruned once they
// are an hour old.
const CHUNKS = path.join(ROOT, 'dist/chunks')
for (const f of existsSync(CHUNKS) ? readdirSync(CHUNKS) : []) {
  const p = path.join(CHUNKS, f)
  if (Date.now() - statSync(p).mtimeMs > 3600_000) rmSync(p, { force: true })
}

if (release) rmSync(path.join(ROOT, 'dist'), { recursive: true, force: true })

const built = []
const jobs = [
  esbuild.build({ ...common, ...esm, entryPoints: entries }).then(() => built.push(...Object.keys(entries).map((n) => `dist/${n}.js`))),
  ...(release ? cjsEntries : []).map(async (e) => {
    await esbuild.build({
      ...common,
      entryPoints: [e.src],
      outfile: e.out,
      ...(e.external ? { external: [...common.external, ...e.external] } : {}),
      ...cjs,
    })
    built.push(e.out)
  }),
]
const results = await Promise.allSettled(jobs)

const failed = results.filter((r) => r.status === 'rejected')
if (failed.length) {
  // esbuild has already printed the diagnostics.
  console.error(`build: ${failed.length} entr${failed.length === 1 ? 'y' : 'ies'} failed`)
  process.exit(1)
}
console.log(`build: ${built.sort().join(', ') || 'nothing'} in ${Math.round(performance.now() - t0)} ms`)

if (release || process.argv.includes('--types')) {
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json', '--emitDeclarationOnly'], {
    cwd: ROOT,
    stdio: 'inherit',
  })
  if (r.status !== 0) process.exit(r.status ?? 1)
  console.log('build: declarations written to dist/')
}

if (release) {
  // The declarations again under dist/cjs/, where package.json makes them CommonJS-flavoured, so a
  // `require` consumer's TypeScript checks them as what it gets (TS1479 otherwise, before TS 5.8).
  const dist = path.join(ROOT, 'dist')
  for (const f of readdirSync(dist, { recursive: true, encoding: 'utf8' })) {
    if (!f.endsWith('.d.ts') || f.startsWith('cjs/')) continue
    mkdirSync(path.dirname(path.join(dist, 'cjs', f)), { recursive: true })
    copyFileSync(path.join(dist, f), path.join(dist, 'cjs', f))
  }
  writeFileSync(path.join(dist, 'cjs/package.json'), '{ "type": "commonjs" }\n')
  // vitest is ESM only, so its fixture is too: say so instead of Node's ERR_REQUIRE_ESM.
  writeFileSync(
    path.join(dist, 'cjs/testing/vitest.js'),
    'throw new Error("nsnet/testing/vitest is an ES module, as vitest is: use `import { test } from \'nsnet/testing/vitest\'` " +\n' +
      '  "from an ES module (a .mts file, or \\"type\\": \\"module\\" in package.json); `require(\'nsnet/testing\')` has the lab helpers");\n',
  )
  console.log('build: release (CommonJS in dist/cjs/, no source maps)')
}
