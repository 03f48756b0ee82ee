// `npm run bench`: nsnet against iproute2, the npm netlink package and pyroute2 on the same
// work, each insert in its own fresh namespace, medians of 3 runs, one table and
// .bench-out/results.json. Benchmarks report; they never fail CI for a missed target
// (exit 0), but a wrong result (routes missing after an insert, a crash) exits 1.
//
//   node test/run-hermetic.mjs --bench [--quick] [--n 100000] [--runs 3] [--only insert|dump]
//        [--pyroute2 10000] [--ip-each 2000] [--diag] [--prof] [--modules routes,tc,...]
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { bundle, machineLoad, OUT, ROOT, requireHermetic, sh } from './harness.js'
import { nodeFlags } from './peers/nsnet.js'
import { type BenchRow, normaliseRows, renderTable, renderVerdict, writeJson } from './report.js'
import { benchMillion, benchRoutes } from './routes.js'

const USAGE = `usage: node test/run-hermetic.mjs --bench [options]
  --quick            pyroute2 inserts 2,000 routes and dumps once, no per-process ip route add
  --n N              routes per measurement (default 100000)
  --runs R           runs per measurement, median reported (default 3)
  --only insert|dump only one of the route measurements (other modules still run)
  --pyroute2 K       routes pyroute2 inserts, scaled to N (default 10000; 0 skips pyroute2)
  --ip-each K        routes inserted with one ip process each, scaled to N (default 2000; 0 skips)
  --diag             add a row timing the engine's batch() alone
  --million          add the 1,000,000-route rows (addMany, then routes.stream back; one run)
  --serial K         routes added one awaited call after another, by nsnet and npm netlink (default 3000)
  --rss-count K      concurrent routes.add calls of the peak-RSS row (default 30000)
  --prof             run the nsnet worker under node --cpu-prof (profiles in .bench-out/prof)
  --modules LIST     only these sections, comma-separated: routes, netns, topology, nftables, ovs, tc, shaped-lab
                     (default all)
`

function parseArgs(argv: string[]) {
  const o = {
    n: 100_000,
    runs: 3,
    quick: false,
    pyroute2: undefined as number | undefined,
    ipEach: undefined as number | undefined,
    diag: false,
    prof: false,
    million: false,
    serial: 3000,
    rssCount: 30_000,
    only: undefined as 'insert' | 'dump' | undefined,
    modules: undefined as Set<string> | undefined,
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    const num = () => {
      const v = Number(argv[++i])
      if (!Number.isInteger(v) || v < 0) throw new Error(`${a} needs a non-negative integer`)
      return v
    }
    if (a === '--quick') o.quick = true
    else if (a === '--n') o.n = num()
    else if (a === '--runs') o.runs = Math.max(1, num())
    else if (a === '--pyroute2') o.pyroute2 = num()
    else if (a === '--ip-each') o.ipEach = num()
    else if (a === '--diag') o.diag = true
    else if (a === '--million') o.million = true
    else if (a === '--serial') o.serial = Math.max(1, num())
    else if (a === '--rss-count') o.rssCount = Math.max(1, num())
    else if (a === '--prof') o.prof = true
    else if (a === '--modules') {
      const known = ['routes', ...OPTIONAL_MODULES.map((m) => m.section)]
      const list = (argv[++i] ?? '').split(',').filter(Boolean)
      const bad = list.filter((m) => !known.includes(m))
      if (!list.length || bad.length) throw new Error(`--modules takes a list of ${known.join(', ')}${bad.length ? `; unknown: ${bad.join(', ')}` : ''}`)
      o.modules = new Set(list)
    } else if (a === '--only') {
      const v = argv[++i]
      if (v !== 'insert' && v !== 'dump') throw new Error('--only takes insert or dump')
      o.only = v
    } else if (a === '--help' || a === '-h') {
      process.stdout.write(USAGE)
      process.exit(0)
    } else throw new Error(`unknown option ${a}\n${USAGE}`)
  }
  if (o.n < 1) throw new Error('--n must be at least 1')
  return o
}

/** Other engineers' bench modules: imported only if their file exists. */
const OPTIONAL_MODULES = [
  { file: 'netns.ts', fn: 'benchNetns', section: 'netns' },
  { file: 'topology.ts', fn: 'benchTopology', section: 'topology' },
  { file: 'nftables.ts', fn: 'benchNftables', section: 'nftables' },
  { file: 'ovs.ts', fn: 'benchOvs', section: 'ovs' },
  { file: 'tc.ts', fn: 'benchTc', section: 'tc' },
  { file: 'shaped-lab.ts', fn: 'benchShapedLab', section: 'shaped-lab' },
]

async function main(): Promise<number> {
  requireHermetic()
  const args = parseArgs(process.argv.slice(2))
  const t0 = performance.now()
  const log = (s: string) => process.stderr.write(s + '\n')
  fs.mkdirSync(OUT, { recursive: true })

  const loadBefore = machineLoad()
  log(
    `nsnet bench: ${args.n.toLocaleString('en-US')} routes, ${args.runs} run(s) each, median reported; kernel ${os.release()}, node ${process.version}, ${os.cpus().length} CPU(s), load ${loadBefore.load1.toFixed(2)}`,
  )
  await bundle('bench/workers/routes-nsnet.ts', 'routes-nsnet')
  await bundle('bench/peers/netlink-worker.ts', 'netlink-worker')
  if (args.prof) {
    const dir = path.join(OUT, 'prof')
    fs.mkdirSync(dir, { recursive: true })
    nodeFlags.push('--cpu-prof', `--cpu-prof-dir=${dir}`)
    log(`  nsnet worker profiles go to ${dir}`)
  }

  const rows: BenchRow[] = []
  const details: Record<string, unknown> = {}
  const sectionSeconds: Record<string, number> = {}
  let t = performance.now()
  const wanted = (section: string) => !args.modules || args.modules.has(section)
  if (wanted('routes')) {
    const routes = await benchRoutes({
      n: args.n,
      runs: args.runs,
      diag: args.diag,
      only: args.only,
      log,
      serial: args.serial,
      rssCount: args.rssCount,
      pyroute2Insert: args.pyroute2 ?? (args.quick ? 2000 : 10_000),
      pyroute2DumpRuns: args.pyroute2 === 0 ? 0 : args.quick ? 1 : args.runs,
      ipEach: args.ipEach ?? (args.quick ? 0 : 2000),
    })
    rows.push(...routes.rows)
    details.routes = routes.details
    if (args.million) rows.push(...(await benchMillion(log)))
    sectionSeconds.routes = (performance.now() - t) / 1000
    log(`routes: ${sectionSeconds.routes.toFixed(0)} s`)
  }

  for (const m of OPTIONAL_MODULES) {
    const file = path.join(ROOT, 'bench', m.file)
    if (!fs.existsSync(file) || !wanted(m.section)) continue
    log(`${m.section}: bench/${m.file}`)
    t = performance.now()
    try {
      const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>
      const fn = mod[m.fn]
      if (typeof fn !== 'function') throw new Error(`bench/${m.file} does not export ${m.fn}()`)
      rows.push(...normaliseRows(m.section, await fn({ runs: args.runs, quick: args.quick, log })))
    } catch (e) {
      rows.push({ section: m.section, measurement: `${m.section} benchmarks`, nsnet: m.fn, nsnetValue: null, status: 'ERROR', note: (e as Error).message })
    }
    sectionSeconds[m.section] = (performance.now() - t) / 1000
    log(`${m.section}: ${sectionSeconds[m.section]!.toFixed(0)} s`)
  }

  const seconds = (performance.now() - t0) / 1000
  const out = renderTable(rows)
  process.stdout.write(`\n${out}\n\n`)
  const timing = (details.routes as { timing: Record<string, string> } | undefined)?.timing
  if (timing)
    process.stdout.write(
      'timing: ' +
        Object.entries(timing)
          .map(([k, v]) => `${k}: ${v}`)
          .join('; ') +
        '\n',
    )
  const loadAfter = machineLoad()
  if (loadBefore.busy || loadAfter.busy) {
    process.stdout.write(
      `WARNING: the machine was busy (1-min load ${loadBefore.load1.toFixed(1)} before, ${loadAfter.load1.toFixed(1)} after, ${loadAfter.cpus} CPUs): ` +
        'wall times are noisy; see the CPU-time cross-checks in the notes\n',
    )
  }
  process.stdout.write(`${renderVerdict(rows)}\n`)
  const per = Object.entries(sectionSeconds)
    .map(([k, v]) => `${k} ${v.toFixed(0)} s`)
    .join(', ')
  process.stdout.write(`bench took ${seconds.toFixed(0)} s (${per}); results in ${path.relative(ROOT, path.join(OUT, 'results.json'))}\n`)

  writeJson(path.join(OUT, 'results.json'), {
    date: new Date().toISOString(),
    seconds,
    sectionSeconds,
    load: { before: loadBefore.load1, after: loadAfter.load1 },
    env: { kernel: os.release(), node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model, ip: sh('ip', ['-V']).trim() },
    args,
    rows,
    details,
  })
  return rows.some((r) => r.status === 'ERROR') ? 1 : 0
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`bench failed: ${(e as Error).stack ?? e}\n`)
    process.exit(1)
  },
)
