// Topology benchmark: N hosts (default 100) on one bridge, each with an address and a
// default route, built, verified (every host pings the gateway) and removed -- by
// Topology.up()/down() in a bundled worker, and by the equivalent shell script of `ip`
// commands as the walkthroughs write it (bench/topology-spec.ts). Wall and CPU time of the
// whole process tree side by side, median of runs; then a scaling table (10 / 100 / 300 /
// 1,000 hosts, one run each above 100) with the peak RSS of all nsnet processes together;
// then one helper's start (vs `node -e 0`) and idle memory.
//
//   called by bench/run.ts as benchTopology({ runs, quick, log })
//   alone:  node test/run-hermetic.mjs --exec node_modules/.bin/tsx bench/topology.ts [--quick] [--n 100] [--runs 3] [--scale 10,300,1000]
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { helperEnv } from '../src/netns/helper/client.js'
import { netns } from '../src/netns/index.js'
import { machineLoad, median, type Timed, timeProcess } from './harness.js'
import type { ModuleRow } from './report.js'
import { benchShell } from './topology-spec.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const OUT = path.join(ROOT, '.bench-out')

export type TopologyBenchRow = ModuleRow

export interface TopologyBenchOptions {
  readonly runs?: number
  readonly quick?: boolean
  readonly n?: number
  /** Host counts of the scaling table besides n (default 10, 300, 1000; none with quick). */
  readonly scale?: readonly number[]
  readonly log?: (s: string) => void
}

/** One side's run: wall and CPU of the whole tree, its phases, its peak RSS. */
export interface Run {
  readonly wallMs: number
  readonly cpuMs: number
  readonly upMs: number
  readonly verifyMs: number
  readonly downMs: number
  /** nsnet: worker + helpers summed (sampled); script: the largest single process (GNU time %M). */
  readonly peakRssMiB: number
  readonly helpersPeak?: number
}

export async function bundleWorker(): Promise<string> {
  const { build } = await import('esbuild')
  const outfile = path.join(OUT, 'workers', 'topology-nsnet.mjs')
  await build({
    entryPoints: [path.join(ROOT, 'bench/workers/topology-nsnet.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['netlink'],
    logLevel: 'warning',
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
  spawnSync('ip', ['-force', '-batch', '-'], {
    input: Array.from({ length: n }, (_, i) => `netns del h${i + 1}\n`).join(''),
    stdio: ['pipe', 'ignore', 'ignore'],
  })
  spawnSync('ip', ['link', 'del', 'br0'], { stdio: 'ignore' })
}

const cpuOf = (t: Timed) => (t.userMs ?? NaN) + (t.sysMs ?? NaN)

export async function runNsnet(worker: string, n: number, rate?: string): Promise<Run> {
  scrub(n)
  const r = await timed([process.execPath, worker, String(n), ...(rate !== undefined ? [rate] : [])])
  if (r.code !== 0) {
    scrub(n)
    throw new Error(`nsnet worker (${n} hosts) failed: ${r.stdout.trim().slice(-300)} ${r.stderr.trim().slice(-1500)}`)
  }
  const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as { upMs: number; verifyMs: number; downMs: number; peakRssMiB: number; helpersPeak: number }
  return {
    wallMs: r.wallMs,
    cpuMs: cpuOf(r),
    upMs: res.upMs,
    verifyMs: res.verifyMs,
    downMs: res.downMs,
    peakRssMiB: res.peakRssMiB,
    helpersPeak: res.helpersPeak,
  }
}

async function runScript(n: number): Promise<Run> {
  const file = path.join(OUT, `topology-${n}.sh`)
  fs.writeFileSync(file, benchShell(n))
  scrub(n)
  const r = await timed(['bash', file])
  if (r.code !== 0) {
    scrub(n)
    throw new Error(`shell peer (${n} hosts) failed: ${r.stderr.trim().slice(-1500)}`)
  }
  const marks = new Map(
    r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(' '))
      .map(([k, v]) => [k!, Number(v) / 1e6]),
  )
  if (!['start', 'up', 'verified', 'down'].every((k) => Number.isFinite(marks.get(k)))) {
    scrub(n)
    throw new Error(`shell peer (${n} hosts) did not finish: stdout ${JSON.stringify(r.stdout.slice(-300))}, stderr ${JSON.stringify(r.stderr.slice(-300))}`)
  }
  return {
    wallMs: r.wallMs,
    cpuMs: cpuOf(r),
    upMs: marks.get('up')! - marks.get('start')!,
    verifyMs: marks.get('verified')! - marks.get('up')!,
    downMs: marks.get('down')! - marks.get('verified')!,
    peakRssMiB: (r.maxRssKb ?? NaN) / 1024,
  }
}

/** `runs` runs of each side, alternating which goes first so neither always meets a warmer system. */
async function sideBySide(worker: string, n: number, runs: number, log: (s: string) => void): Promise<{ ns: Run[]; peer: Run[] }> {
  const ns: Run[] = []
  const peer: Run[] = []
  const show = (who: string, i: number, r: Run) =>
    log(
      `  topology ${n} hosts, ${who} run ${i + 1}: ${r.wallMs.toFixed(0)} ms, cpu ${r.cpuMs.toFixed(0)} ms ` +
        `(up ${r.upMs.toFixed(0)}, verify ${r.verifyMs.toFixed(0)}, down ${r.downMs.toFixed(0)}), peak RSS ${r.peakRssMiB.toFixed(0)} MiB` +
        `${r.helpersPeak !== undefined ? `, ${r.helpersPeak} helpers at most` : ''}; load ${machineLoad().load1.toFixed(1)}`,
    )
  for (let run = 0; run < runs; run++) {
    for (const side of run % 2 ? ['peer', 'nsnet'] : ['nsnet', 'peer']) {
      if (side === 'nsnet') {
        const r = await runNsnet(worker, n)
        ns.push(r)
        show('nsnet', run, r)
      } else {
        const r = await runScript(n)
        peer.push(r)
        show('ip script', run, r)
      }
    }
  }
  return { ns, peer }
}

const med = (xs: readonly Run[], k: keyof Run) => median(xs.map((x) => x[k] as number))

/** Wall time of a process from spawn to exit. */
function timeExit(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((res, rej) => {
    const t0 = performance.now()
    const c = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore', env })
    c.on('error', rej)
    c.on('exit', () => res(performance.now() - t0))
  })
}

function memOf(pid: number): { rss: number; anon: number; file: number; pss: number } {
  const st = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (re: RegExp, t: string) => Number(re.exec(t)?.[1] ?? NaN) / 1024
  return {
    rss: kb(/VmRSS:\s+(\d+)/, st),
    anon: kb(/RssAnon:\s+(\d+)/, st),
    file: kb(/RssFile:\s+(\d+)/, st),
    pss: kb(/Pss:\s+(\d+)/, fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8')),
  }
}

/** Helper ready vs `node -e 0` (same environment, interleaved), and one idle helper's memory. */
async function benchHelper(samples: number, log: (s: string) => void): Promise<TopologyBenchRow[]> {
  const NS = 'bench-helper'
  if (await netns.exists(NS)) await netns.delete(NS, { kill: true })
  await netns.add(NS)
  try {
    await (await netns.open(NS)).close() // warm the page cache
    const ready: number[] = []
    const bare: number[] = []
    for (let i = 0; i < samples; i++) {
      bare.push(await timeExit([process.execPath, '-e', '0'], helperEnv()))
      const t0 = performance.now()
      const h = await netns.open(NS, { idleMs: 0 })
      ready.push(performance.now() - t0)
      await h.close()
    }
    const h = await netns.open(NS, { idleMs: 0 })
    await h.links.set('lo', { up: true })
    await h.addresses.add('lo', '10.255.255.1/32')
    await h.routes.list()
    await new Promise((r) => setTimeout(r, 300))
    const m = memOf(h.pid!)
    const bareMem = await new Promise<ReturnType<typeof memOf>>((res, rej) => {
      const c = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 2000)'], { stdio: 'ignore', env: helperEnv() })
      c.on('error', rej)
      setTimeout(() => {
        const x = memOf(c.pid!)
        c.kill()
        res(x)
      }, 500)
    })
    await h.close()
    log(
      `  helper ready ${median(ready).toFixed(1)} ms vs node -e 0 ${median(bare).toFixed(1)} ms; idle helper RSS ${m.rss.toFixed(1)} MiB ` +
        `(anon ${m.anon.toFixed(1)}, file ${m.file.toFixed(1)}, PSS ${m.pss.toFixed(1)}); idle node: RSS ${bareMem.rss.toFixed(1)}, file ${bareMem.file.toFixed(1)}`,
    )
    return [
      {
        name: 'helper ready (spawn to "ready")',
        measurement: 'helper ready (spawn to "ready")',
        nsnet: 'netns.open() (ip netns exec + node)',
        nsnetValue: median(ready),
        peer: 'node -e 0 (spawn to exit), same environment',
        peerValue: median(bare),
        ratio: median(ready) / median(bare),
        target: 1.1,
        unit: 'ms',
        samples: { nsnet: ready, peer: bare },
        note: `median of ${samples}, interleaved; both without NODE_EXTRA_CA_CERTS, which helpers drop (the parent's would cost node ~300 ms of CPU)`,
      },
      {
        name: 'idle helper RSS',
        measurement: 'RSS of an idle helper (after lo up, an address, a dump)',
        nsnet: 'nsnet helper (VmRSS)',
        nsnetValue: m.rss,
        peer: 'budget',
        peerValue: 30,
        ratio: m.rss / 30,
        target: 1.0,
        unit: 'MiB',
        note:
          `of which ${m.file.toFixed(1)} MiB file pages (mostly the node binary, shared by every node process) and ${m.anon.toFixed(1)} MiB its own; ` +
          `PSS ${m.pss.toFixed(1)} MiB. An idle \`node -e\` alone holds ${bareMem.rss.toFixed(1)} MiB RSS (${bareMem.file.toFixed(1)} MiB file)`,
      },
    ]
  } finally {
    await netns.delete(NS, { kill: true }).catch(() => undefined)
  }
}

export async function benchTopology(opts: TopologyBenchOptions = {}): Promise<TopologyBenchRow[]> {
  if (process.env.NSNET_HERMETIC !== '1') throw new Error('bench/topology.ts runs only inside the hermetic runner')
  const log = opts.log ?? (() => undefined)
  const n = opts.n ?? (opts.quick ? 20 : 100)
  const runs = Math.max(1, opts.runs ?? 3)
  const scale = opts.scale ?? (opts.quick ? [] : [10, 300, 1000])
  const worker = await bundleWorker()
  fs.mkdirSync(OUT, { recursive: true })
  const loadBefore = machineLoad().load1

  const { ns, peer } = await sideBySide(worker, n, runs, log)
  const load = () => `load ${loadBefore.toFixed(1)} before, ${machineLoad().load1.toFixed(1)} now (2 CPUs)`
  const rows: TopologyBenchRow[] = []
  rows.push({
    name: `topology: ${n} hosts on a bridge, up + verify + down`,
    measurement: `topology: ${n} hosts on a bridge, up + verify + down (wall)`,
    nsnet: 'Topology.up/ping/down',
    nsnetValue: med(ns, 'wallMs'),
    peer: `bash script of ${9 * n + 3} ip commands + ${n} pings + ${n + 1} deletes`,
    peerValue: med(peer, 'wallMs'),
    ratio: med(ns, 'wallMs') / med(peer, 'wallMs'),
    target: 1.0,
    unit: 'ms',
    note: `whole process tree, median of ${runs}; ${load()}`,
    samples: { nsnet: ns.map((r) => r.wallMs), peer: peer.map((r) => r.wallMs) },
  })
  rows.push({
    name: `topology: ${n} hosts, CPU time`,
    measurement: `topology: ${n} hosts, CPU time (user+sys, all processes)`,
    nsnet: 'worker + helpers + ip/ping children',
    nsnetValue: med(ns, 'cpuMs'),
    peer: 'bash + every ip and ping',
    peerValue: med(peer, 'cpuMs'),
    ratio: med(ns, 'cpuMs') / med(peer, 'cpuMs'),
    target: 3.0,
    unit: 'ms',
    note: `median of ${runs}; ${(med(ns, 'cpuMs') / n).toFixed(0)} vs ${(med(peer, 'cpuMs') / n).toFixed(0)} ms of CPU per host`,
    samples: { nsnet: ns.map((r) => r.cpuMs), peer: peer.map((r) => r.cpuMs) },
  })
  for (const k of ['upMs', 'verifyMs', 'downMs'] as const) {
    const a = med(ns, k)
    const b = med(peer, k)
    rows.push({
      name: `topology: ${k.replace('Ms', '')} phase`,
      measurement: `topology: ${k.replace('Ms', '')} phase (${n} hosts)`,
      nsnet: k === 'upMs' ? 'Topology.up' : k === 'verifyMs' ? 'ping from each host (8 at a time)' : 'Topology.down',
      nsnetValue: a,
      peer: 'the same phase of the script',
      peerValue: b,
      ratio: a / b,
      unit: 'ms',
      status: 'INFO',
    })
  }

  // The scaling table: n's medians from above, the other sizes measured here.
  const table: Array<{ n: number; ns: Run[]; peer: Run[] }> = [{ n, ns, peer }]
  for (const size of scale) {
    if (size === n) continue
    const r = await sideBySide(worker, size, size <= 100 ? runs : 1, log)
    table.push({ n: size, ...r })
  }
  table.sort((a, b) => a.n - b.n)
  for (const t of table) {
    const runsNote = `${t.ns.length === 1 ? 'one run' : `median of ${t.ns.length}`}; ${load()}`
    rows.push({
      name: `topology scaling: ${t.n} hosts, wall`,
      measurement: `topology scaling: ${t.n} hosts up + verify + down, wall`,
      nsnet: 'Topology.up/ping/down',
      nsnetValue: med(t.ns, 'wallMs'),
      peer: 'the ip script',
      peerValue: med(t.peer, 'wallMs'),
      ratio: med(t.ns, 'wallMs') / med(t.peer, 'wallMs'),
      unit: 'ms',
      status: 'INFO',
      note: runsNote,
    })
    rows.push({
      name: `topology scaling: ${t.n} hosts, CPU`,
      measurement: `topology scaling: ${t.n} hosts, CPU time`,
      nsnet: 'all nsnet processes and their children',
      nsnetValue: med(t.ns, 'cpuMs'),
      peer: 'the ip script',
      peerValue: med(t.peer, 'cpuMs'),
      ratio: med(t.ns, 'cpuMs') / med(t.peer, 'cpuMs'),
      unit: 'ms',
      status: 'INFO',
      note: runsNote,
    })
    const big = t.n >= 1000
    rows.push({
      name: `topology scaling: ${t.n} hosts, peak RSS`,
      measurement: `topology scaling: ${t.n} hosts, peak RSS of all nsnet processes together`,
      nsnet: `worker + helpers (at most ${Math.max(...t.ns.map((r) => r.helpersPeak ?? 0))} alive)`,
      nsnetValue: med(t.ns, 'peakRssMiB'),
      ...(big
        ? { peer: 'budget (8 GiB)', peerValue: 8192, ratio: med(t.ns, 'peakRssMiB') / 8192, target: 1.0 }
        : { peer: 'largest ip/bash process', peerValue: med(t.peer, 'peakRssMiB'), status: 'INFO' as const }),
      unit: 'MiB',
      note: `sampled every 50 ms${big ? `; the script's largest process: ${med(t.peer, 'peakRssMiB').toFixed(1)} MiB` : ''}`,
    })
  }
  log('  scaling table (hosts | nsnet wall / script wall | nsnet CPU / script CPU | nsnet peak RSS):')
  for (const t of table) {
    log(
      `  | ${t.n} | ${(med(t.ns, 'wallMs') / 1000).toFixed(1)} s / ${(med(t.peer, 'wallMs') / 1000).toFixed(1)} s (${(med(t.ns, 'wallMs') / med(t.peer, 'wallMs')).toFixed(2)}x) ` +
        `| ${(med(t.ns, 'cpuMs') / 1000).toFixed(1)} s / ${(med(t.peer, 'cpuMs') / 1000).toFixed(1)} s (${(med(t.ns, 'cpuMs') / med(t.peer, 'cpuMs')).toFixed(2)}x) | ${med(t.ns, 'peakRssMiB').toFixed(0)} MiB |`,
    )
  }

  rows.push(...(await benchHelper(opts.quick ? 7 : 15, log)))
  return rows
}

// Run alone: print the rows.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2)
  const val = (k: string) => {
    const i = args.indexOf(k)
    return i >= 0 ? args[i + 1] : undefined
  }
  const quick = args.includes('--quick')
  benchTopology({
    quick,
    n: val('--n') ? Number(val('--n')) : undefined,
    runs: val('--runs') ? Number(val('--runs')) : quick ? 1 : 3,
    scale: val('--scale') !== undefined ? val('--scale')!.split(',').filter(Boolean).map(Number) : undefined,
    log: (s) => process.stderr.write(s + '\n'),
  })
    .then((rows) => {
      for (const r of rows) {
        const u = r.unit === 'MiB' ? ' MiB' : ' ms'
        process.stdout.write(
          `${r.name}: nsnet ${r.nsnetValue?.toFixed(1)}${u}, ${r.peer ?? '-'} ${r.peerValue?.toFixed(1) ?? '-'}${u}, ratio ${r.ratio?.toFixed(2) ?? '-'}` +
            `${r.target !== undefined ? ` (target <= ${r.target}: ${r.ratio != null && r.ratio <= r.target ? 'PASS' : 'MISSED'})` : ''}${r.note ? ` -- ${r.note}` : ''}\n`,
        )
      }
    })
    .catch((e) => {
      process.stderr.write(`${(e as Error).stack}\n`)
      process.exit(1)
    })
}
