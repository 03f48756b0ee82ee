// Topology benchmark: N hosts (default 100) on one bridge, each with an address and a
// default route, built, verified (every host pings the gateway) and removed -- by
// Topology.up()/down() in a bundled worker, and by the equivalent shell script of `ip`
// commands as the walkthroughs write it. Wall time of the whole process, median of runs.
//
//   called by bench/run.ts as benchTopology({ runs, quick, log })
//   alone:  node test/run-hermetic.mjs --exec node_modules/.bin/tsx bench/topology.ts [--quick] [--n 100]
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { ModuleRow } from './report.js'
import { median, timeProcess, type Timed } from './harness.js'
import { benchShell } from './topology-spec.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const OUT = path.join(ROOT, '.bench-out')

export type TopologyBenchRow = ModuleRow

export interface TopologyBenchOptions {
  readonly runs?: number
  readonly quick?: boolean
  readonly n?: number
  readonly log?: (s: string) => void
}

async function bundleWorker(): Promise<string> {
  const { build } = await import('esbuild')
  const outfile = path.join(OUT, 'workers', 'topology-nsnet.mjs')
  await build({
    entryPoints: [path.join(ROOT, 'bench/workers/topology-nsnet.ts')], outfile, bundle: true,
    platform: 'node', format: 'esm', target: 'node20', external: ['netlink'], logLevel: 'warning',
  })
  // The processes the topology starts (helper, services) come from dist/.
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`build failed: ${r.stderr}`)
  // The bundled worker lives in .bench-out/, where the helper lookup beside the module fails.
  process.env.NSNET_HELPER ??= path.join(ROOT, 'dist/helper.js')
  return outfile
}

async function timed(argv: string[]): Promise<Timed & { code: number }> {
  try {
    return { ...(await timeProcess(argv, { cpu: true })), code: 0 }
  } catch (e) {
    return { wallMs: NaN, stdout: '', stderr: (e as Error).message, code: 1 }
  }
}

/** Removes what a failed run may have left (only our names, only inside the hermetic runner). */
function scrub(n: number): void {
  for (let i = 1; i <= n; i++) spawnSync('ip', ['netns', 'del', `h${i}`], { stdio: 'ignore' })
  spawnSync('ip', ['link', 'del', 'br0'], { stdio: 'ignore' })
}

export async function benchTopology(opts: TopologyBenchOptions = {}): Promise<TopologyBenchRow[]> {
  if (process.env.NSNET_HERMETIC !== '1') throw new Error('bench/topology.ts runs only inside the hermetic runner')
  const log = opts.log ?? (() => undefined)
  const n = opts.n ?? (opts.quick ? 20 : 100)
  const runs = Math.max(1, opts.runs ?? 3)
  const worker = await bundleWorker()
  const shell = benchShell(n)
  fs.mkdirSync(OUT, { recursive: true })
  const shellFile = path.join(OUT, `topology-${n}.sh`)
  fs.writeFileSync(shellFile, shell)
  const cpu = (t: Timed) => (t.userMs ?? NaN) + (t.sysMs ?? NaN)
  const nsCpu: number[] = []
  const peerCpu: number[] = []

  const ns: number[] = []
  const peer: number[] = []
  const phases: Array<{ upMs: number; verifyMs: number; downMs: number }> = []
  const peerPhases: Array<{ upMs: number; verifyMs: number; downMs: number }> = []
  for (let run = 0; run < runs; run++) {
    // Alternate the order so neither side always runs on a warmer system.
    for (const side of run % 2 ? ['peer', 'nsnet'] : ['nsnet', 'peer']) {
      if (side === 'nsnet') {
        const r = await timed([process.execPath, worker, String(n)])
        if (r.code !== 0) { scrub(n); throw new Error(`nsnet worker failed: ${r.stderr.trim().slice(-1500)}`) }
        const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as { upMs: number; verifyMs: number; downMs: number }
        ns.push(r.wallMs)
        nsCpu.push(cpu(r))
        phases.push(res)
        log(`  topology nsnet run ${run + 1}: ${r.wallMs.toFixed(0)} ms, cpu ${cpu(r).toFixed(0)} ms (up ${res.upMs.toFixed(0)}, verify ${res.verifyMs.toFixed(0)}, down ${res.downMs.toFixed(0)})`)
      } else {
        const r = await timed(['bash', shellFile])
        if (r.code !== 0) { scrub(n); throw new Error(`shell peer failed: ${r.stderr.trim().slice(-1500)}`) }
        const marks = new Map(r.stdout.trim().split('\n').map((l) => l.split(' ')).map(([k, v]) => [k!, Number(v) / 1e6]))
        const p = { upMs: marks.get('up')! - marks.get('start')!, verifyMs: marks.get('verified')! - marks.get('up')!, downMs: marks.get('down')! - marks.get('verified')! }
        peer.push(r.wallMs)
        peerCpu.push(cpu(r))
        peerPhases.push(p)
        log(`  topology ip script run ${run + 1}: ${r.wallMs.toFixed(0)} ms, cpu ${cpu(r).toFixed(0)} ms (up ${p.upMs.toFixed(0)}, verify ${p.verifyMs.toFixed(0)}, down ${p.downMs.toFixed(0)})`)
      }
    }
  }
  const med = (xs: typeof phases, k: keyof (typeof phases)[number]) => median(xs.map((x) => x[k]))
  const rows: TopologyBenchRow[] = []
  const nsnetMs = median(ns)
  const peerMs = median(peer)
  rows.push({
    name: `topology: ${n} hosts on a bridge, up + verify + down`, measurement: `topology: ${n} hosts on a bridge, up + verify + down`,
    nsnet: 'Topology.up/ping/down', nsnetValue: nsnetMs, peer: `bash script of ${9 * n + 3} ip commands + ${n} pings + ${n + 1} deletes`, peerValue: peerMs,
    ratio: nsnetMs / peerMs, target: 1.0, unit: 'ms',
    note: `whole process wall time, median of ${runs}; ${n} namespaces each need a helper process (node) for addresses and routes`,
    samples: { nsnet: ns, peer },
  })
  const a = median(nsCpu)
  const b = median(peerCpu)
  rows.push({
    name: `topology: CPU time (user+sys, all processes)`, measurement: `topology: CPU time of the same work (${n} hosts)`,
    nsnet: 'worker + helpers + ip/ping children', nsnetValue: a, peer: 'bash + every ip and ping', peerValue: b, ratio: a / b, unit: 'ms', status: 'INFO',
    note: 'load-robust cross-check: what each side costs the machine, whatever else runs',
    samples: { nsnet: nsCpu, peer: peerCpu },
  })
  for (const k of ['upMs', 'verifyMs', 'downMs'] as const) {
    const a = med(phases, k)
    const b = med(peerPhases, k)
    rows.push({
      name: `topology: ${k.replace('Ms', '')} phase`, measurement: `topology: ${k.replace('Ms', '')} phase (${n} hosts)`,
      nsnet: k === 'upMs' ? 'Topology.up' : k === 'verifyMs' ? 'ping from each host (8 at a time)' : 'Topology.down',
      nsnetValue: a, peer: 'the same phase of the script', peerValue: b, ratio: a / b, unit: 'ms', status: 'INFO',
    })
  }
  return rows
}

// Run alone: print the rows.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2)
  const i = args.indexOf('--n')
  benchTopology({ quick: args.includes('--quick'), n: i >= 0 ? Number(args[i + 1]) : undefined, runs: args.includes('--quick') ? 1 : 3, log: (s) => process.stderr.write(s + '\n') })
    .then((rows) => { for (const r of rows) process.stdout.write(`${r.name}: nsnet ${r.nsnetValue?.toFixed(0)} ms, peer ${r.peerValue?.toFixed(0)} ms, ratio ${r.ratio?.toFixed(2)}\n`) })
    .catch((e) => { process.stderr.write(`${(e as Error).stack}\n`); process.exit(1) })
}
