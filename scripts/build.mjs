#!/usr/bin/env node
// Build: bundle the entry points with esbuild (fast), optionally emit .d.ts with tsc.
//   node scripts/build.mjs           -> dist/helper.js, dist/index.js, dist/cli.js, dist/sandbox-inner.js, dist/service.js,
//                                      dist/monitor-child.js, dist/testing/{index,vitest}.js
//   node scripts/build.mjs --types   -> also tsc --emitDeclarationOnly
//   node scripts/build.mjs --release -> what `npm pack` ships (prepack): a clean dist/ without source maps, the
//                                      declarations, and CommonJS bundles with their declarations in dist/cjs/
// An entry whose source does not exist yet is skipped with a notice.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const t0 = performance.now();

const entries = [
  // The helper must say "ready" fast: `netlink` is swapped for a shim that loads only the raw
  // socket binding (the package index costs ~50 ms), and the rtnetlink code is split into
  // dist/helper-chunks/, loaded on the first rtnetlink request (parsing it costs ~10 ms).
  { src: 'src/netns/helper/main.ts', out: 'dist/helper.js', alias: { netlink: './src/netns/netlink-lazy.ts' },
    split: { outdir: 'dist', entryNames: 'helper', chunkNames: 'helper-chunks/[name]-[hash]' } },
  { src: 'src/index.ts', out: 'dist/index.js' },
  { src: 'src/cli.ts', out: 'dist/cli.js', banner: '#!/usr/bin/env node' },
  // Started as their own processes: the sandbox supervisor and the lab services (DNS, echo, probes).
  { src: 'src/sandbox/inner.ts', out: 'dist/sandbox-inner.js' },
  { src: 'src/topology/service.ts', out: 'dist/service.js' },
  // rt.monitor()'s child (owns the multicast socket, whose overflow aborts the process); it too
  // should subscribe fast, so it gets the same lazy `netlink` shim as the helper.
  { src: 'src/ops/monitor/child.ts', out: 'dist/monitor-child.js', alias: { netlink: './src/netns/netlink-lazy.ts' } },
  // nsnet/testing and its vitest fixture: the package index (and vitest) stay imports, so they
  // share the index's classes instead of carrying copies.
  { src: 'src/testing/index.ts', out: 'dist/testing/index.js', external: ['../index.js'] },
  { src: 'src/testing/vitest.ts', out: 'dist/testing/vitest.js', external: ['vitest', './index.js'] },
];
const release = process.argv.includes('--release');
// require('nsnet'): the same sources as CommonJS, in dist/cjs/ (its package.json says so).
// import.meta.url becomes the bundle's own file URL, so the helper and children are found alike.
const cjsEntries = [
  { src: 'src/index.ts', out: 'dist/cjs/index.js' },
  { src: 'src/testing/index.ts', out: 'dist/cjs/testing/index.js', external: ['../index.js'] },
];
const cjs = {
  format: 'cjs',
  define: { 'import.meta.url': 'moduleUrl' },
  inject: ['scripts/lib/cjs-module-url.js'],
};

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['netlink', 'yaml'],
  sourcemap: release ? false : 'linked',
  logLevel: 'warning',
  absWorkingDir: ROOT,
};

// Chunk names carry a content hash, so a rebuild never changes a file that a running helper
// may still import lazily; previous builds' chunks are pruned once they are an hour old.
const CHUNKS = path.join(ROOT, 'dist/helper-chunks');
for (const f of existsSync(CHUNKS) ? readdirSync(CHUNKS) : []) {
  const p = path.join(CHUNKS, f);
  if (Date.now() - statSync(p).mtimeMs > 3600_000) rmSync(p, { force: true });
}

if (release) rmSync(path.join(ROOT, 'dist'), { recursive: true, force: true });

const built = [];
const results = await Promise.allSettled(
  [...entries, ...(release ? cjsEntries.map((e) => ({ ...e, cjs: true })) : [])].map(async (e) => {
    if (!existsSync(path.join(ROOT, e.src))) {
      console.log(`build: skipping ${e.src} (not written yet)`);
      return;
    }
    // esbuild keeps an entry's own hashbang; add ours only when the source has none.
    const banner = e.banner && !readFileSync(path.join(ROOT, e.src), 'utf8').startsWith('#!') ? e.banner : undefined;
    await esbuild.build({
      ...common,
      entryPoints: [e.src],
      ...(e.split ? { splitting: true, ...e.split } : { outfile: e.out }),
      ...(e.alias ? { alias: e.alias, external: [] } : {}),
      ...(e.external ? { external: [...common.external, ...e.external] } : {}),
      ...(banner ? { banner: { js: banner } } : {}),
      ...(e.cjs ? cjs : {}),
    });
    built.push(e.out);
  }),
);

const failed = results.filter((r) => r.status === 'rejected');
if (failed.length) {
  // esbuild has already printed the diagnostics.
  console.error(`build: ${failed.length} entr${failed.length === 1 ? 'y' : 'ies'} failed`);
  process.exit(1);
}
console.log(`build: ${built.sort().join(', ') || 'nothing'} in ${Math.round(performance.now() - t0)} ms`);

if (release || process.argv.includes('--types')) {
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json', '--emitDeclarationOnly'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (r.status !== 0) process.exit(r.status ?? 1);
  console.log('build: declarations written to dist/');
}

if (release) {
  // The declarations again under dist/cjs/, where package.json makes them CommonJS-flavoured, so a
  // `require` consumer's TypeScript checks them as what it gets (TS1479 otherwise, before TS 5.8).
  const dist = path.join(ROOT, 'dist');
  for (const f of readdirSync(dist, { recursive: true, encoding: 'utf8' })) {
    if (!f.endsWith('.d.ts') || f.startsWith('cjs/')) continue;
    mkdirSync(path.dirname(path.join(dist, 'cjs', f)), { recursive: true });
    copyFileSync(path.join(dist, f), path.join(dist, 'cjs', f));
  }
  writeFileSync(path.join(dist, 'cjs/package.json'), '{ "type": "commonjs" }\n');
  // vitest is ESM only, so its fixture is too: say so instead of Node's ERR_REQUIRE_ESM.
  writeFileSync(path.join(dist, 'cjs/testing/vitest.js'),
    "throw new Error(\"nsnet/testing/vitest is an ES module, as vitest is: use `import { test } from 'nsnet/testing/vitest'` \" +\n" +
    "  \"from an ES module (a .mts file, or \\\"type\\\": \\\"module\\\" in package.json); `require('nsnet/testing')` has the lab helpers\");\n");
  console.log('build: release (CommonJS in dist/cjs/, no source maps)');
}
