#!/usr/bin/env node
// The package as a user gets it: packs the tarball (prepack builds dist/), checks that it holds
// only what a user needs, installs it into two scratch projects -- ES modules and CommonJS, both
// TypeScript with moduleResolution nodenext, strict and skipLibCheck false -- compiles them and
// runs them inside a throwaway namespace (test/run-hermetic.mjs --exec).
//   node test/package/check.mjs [--keep]     (.ci/run calls it after the tests)
// Offline where it can be: the tarball's dependency (netlink) comes from the npm cache that
// `npm ci` filled, typescript, @types/node and vitest are linked from the repo's node_modules.
import { spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const HERE = path.join(ROOT, 'test/package')
const work = mkdtempSync(path.join(tmpdir(), 'nsnet-package-'))
const keep = process.argv.includes('--keep')
const failures = []
const t0 = performance.now()

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts })
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} (in ${opts.cwd ?? ROOT}) exited ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`)
  }
  return r.stdout
}
function check(ok, what) {
  console.log(`package: ${ok ? 'ok  ' : 'FAIL'} ${what}`)
  if (!ok) failures.push(what)
}

try {
  // 1. Pack (runs prepack: node scripts/build.mjs --release).
  const out = run('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT })
  const [packed] = JSON.parse(out.slice(out.search(/^\[/m))) // after what prepack printed
  const files = packed.files.map((f) => f.path)
  console.log(`package: ${packed.filename}: ${packed.size} bytes packed, ${packed.unpackedSize} unpacked, ${files.length} files`)
  const stray = files.filter(
    (f) => !/^(dist\/.+|README\.md|LICENSE|package\.json)$/.test(f) || f.endsWith('.map') || (f.endsWith('.ts') && !f.endsWith('.d.ts')),
  )
  check(
    stray.length === 0,
    `the tarball holds only dist/ (no maps, no sources), README.md, LICENSE, package.json${stray.length ? `: also ${stray.join(', ')}` : ''}`,
  )
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
  const targets = [
    pkg.bin.nsnet,
    ...Object.values(pkg.exports).flatMap((e) => (typeof e === 'string' ? [e] : Object.values(e).flatMap((c) => Object.values(c)))),
  ]
  const missing = targets.map((t) => t.replace(/^\.\//, '')).filter((t) => !files.includes(t))
  check(missing.length === 0, `every export and the bin are in the tarball${missing.length ? `: missing ${missing.join(', ')}` : ''}`)
  for (const f of ['dist/helper.js', 'dist/monitor-child.js', 'dist/sandbox-inner.js', 'dist/service.js'])
    check(files.includes(f), `${f} (started as its own process) is in the tarball`)

  // 2. Two scratch projects.
  const tarball = path.join(work, packed.filename)
  const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc')
  for (const kind of ['esm', 'cjs']) {
    const dir = path.join(work, kind)
    cpSync(path.join(HERE, kind), dir, { recursive: true })
    const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'))
    manifest.dependencies = { nsnet: `file:${tarball}` }
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify(manifest, null, 2))
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--no-package-lock'], { cwd: dir })
    mkdirSync(path.join(dir, 'node_modules/@types'), { recursive: true })
    // A user's own @types/node (netlink's dependency on @types/node 12 is hoisted otherwise).
    for (const dep of ['@types/node', 'vitest']) rmSync(path.join(dir, 'node_modules', dep), { recursive: true, force: true })
    for (const dep of ['@types/node', 'vitest']) symlinkSync(path.join(ROOT, 'node_modules', dep), path.join(dir, 'node_modules', dep))
    const c = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: dir, encoding: 'utf8' })
    check(
      c.status === 0,
      `${kind}: tsc (nodenext, strict, skipLibCheck false) compiles against the installed types${c.status === 0 ? '' : `\n${c.stdout}${c.stderr}`}`,
    )
    if (c.status !== 0) continue
    // Run it inside a throwaway namespace: it adds a namespace and opens a helper there.
    const r = spawnSync(process.execPath, [path.join(ROOT, 'test/run-hermetic.mjs'), '--exec', process.execPath, 'out/main.js'], { cwd: dir, encoding: 'utf8' })
    const last = r.stdout.trim().split('\n').pop() ?? ''
    check(
      r.status === 0 && last.startsWith('{"ok":true'),
      `${kind}: the compiled program runs (${r.status === 0 ? last : `exit ${r.status}\n${r.stdout}${r.stderr}`})`,
    )
    if (kind === 'esm') {
      // The installed bin reads a YAML spec: its parser (a dependency, not bundled) came along.
      writeFileSync(path.join(dir, 'lab.yaml'), 'name: packaged\nhosts:\n  - name: a\n')
      const y = spawnSync(process.execPath, [path.join(dir, 'node_modules/nsnet/dist/cli.js'), 'check', '--json', 'lab.yaml'], { cwd: dir, encoding: 'utf8' })
      check(
        y.status === 0 && JSON.parse(y.stdout || '{}').name === 'packaged',
        `esm: the installed nsnet check reads a YAML spec${y.status === 0 ? '' : `\n${y.stdout}${y.stderr}`}`,
      )
      // nsnet/testing/vitest with vitest as the user's (optional peer) dependency.
      const vitest = path.join(dir, 'node_modules/vitest/vitest.mjs')
      const v = spawnSync(process.execPath, [path.join(ROOT, 'test/run-hermetic.mjs'), '--exec', process.execPath, vitest, 'run', 'out/labs.test.js'], {
        cwd: dir,
        encoding: 'utf8',
      })
      check(v.status === 0, `esm: a vitest suite using the labs fixture passes${v.status === 0 ? '' : `\n${v.stdout}${v.stderr}`}`)
    }
  }
} catch (e) {
  check(false, String(e?.stack ?? e))
} finally {
  if (keep) console.log(`package: scratch projects kept in ${work}`)
  else rmSync(work, { recursive: true, force: true })
}
console.log(`package: ${failures.length ? `${failures.length} check(s) failed` : 'all checks passed'} in ${Math.round(performance.now() - t0)} ms`)
process.exit(failures.length ? 1 : 0)
