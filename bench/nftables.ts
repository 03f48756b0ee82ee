// nf_tables benchmarks: 10,000 rules added in one batch by rt.nft.load() against `nft -f`
// of the same ruleset, and listing them with rt.nft.ruleset() against `nft -j list ruleset`.
// Both sides work in this (hermetic) namespace, flushed between runs; wall time and CPU time
// (user + system: ours from process.cpuUsage, nft's from bash's `time`) are medians.
//
//   called by bench/run.ts as benchNftables({ runs, quick, log })
//   alone:  node test/run-hermetic.mjs --exec node_modules/.bin/tsx bench/nftables.ts [--quick]
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Ruleset } from '../src/nftables/nft.js'
import type { Rule } from '../src/nftables/objects.js'
import { Rtnl } from '../src/rtnl.js'
import { median } from './harness.js'
import type { ModuleRow } from './report.js'

export interface NftBenchOptions {
  readonly runs?: number
  readonly quick?: boolean
  readonly log?: (s: string) => void
}

function nft(args: string[], input?: string): { wall: number; cpu: number } {
  // bash's `time` gives nft's own user+system seconds on stderr.
  const t0 = performance.now()
  const r = spawnSync('bash', ['-c', 'TIMEFORMAT="%U %S"; time nft "$@" >"$NSNET_BENCH_OUT"', '_', ...args], {
    encoding: 'utf8',
    input,
    env: { ...process.env, NSNET_BENCH_OUT: outFile },
  })
  const wall = performance.now() - t0
  if (r.status !== 0) throw new Error(`nft ${args.join(' ')}: ${r.stderr}`)
  const [user, sys] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number)
  return { wall, cpu: (user! + sys!) * 1000 }
}

const outFile = '/dev/null'

function rules(n: number): Rule[] {
  const out: Rule[] = []
  for (let i = 0; i < n; i++) {
    out.push({
      family: 'inet',
      table: 'bench',
      chain: 'c',
      expr: [
        {
          match: { op: '==', left: { payload: { protocol: 'ip', field: 'saddr' } }, right: { prefix: { addr: `10.${(i >> 8) & 255}.${i & 255}.0`, len: 24 } } },
        },
        { match: { op: '==', left: { payload: { protocol: 'tcp', field: 'dport' } }, right: 1 + (i % 65535) } },
        { counter: null },
        { accept: null },
      ],
    })
  }
  return out
}

function nftText(n: number): string {
  const lines = ['add table inet bench', 'add chain inet bench c']
  for (let i = 0; i < n; i++) lines.push(`add rule inet bench c ip saddr 10.${(i >> 8) & 255}.${i & 255}.0/24 tcp dport ${1 + (i % 65535)} counter accept`)
  return lines.join('\n') + '\n'
}

async function timed<T>(fn: () => Promise<T>): Promise<{ wall: number; cpu: number; value: T }> {
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  const value = await fn()
  const wall = performance.now() - t0
  const c = process.cpuUsage(c0)
  return { wall, cpu: (c.user + c.system) / 1000, value }
}

function row(name: string, nsnet: string, peer: string, ours: number[], theirs: number[], target: number | undefined, note: string): ModuleRow {
  const a = median(ours),
    b = median(theirs)
  return {
    name,
    measurement: name,
    nsnet,
    peer,
    nsnetValue: a,
    peerValue: b,
    ratio: b > 0 ? a / b : null,
    unit: 'ms',
    ...(target === undefined ? { status: 'INFO' as const } : { target }),
    note,
    samples: { nsnet: ours, peer: theirs },
  }
}

export async function benchNftables(opts: NftBenchOptions = {}): Promise<ModuleRow[]> {
  const runs = opts.runs ?? 3
  const n = opts.quick ? 2000 : 10_000
  const log = opts.log ?? (() => undefined)
  const dir = mkdtempSync(path.join(tmpdir(), 'nsnet-nft-bench-'))
  const file = path.join(dir, 'ruleset.nft')
  writeFileSync(file, nftText(n))
  const ruleset: Ruleset = {
    nftables: [{ table: { family: 'inet', name: 'bench' } }, { chain: { family: 'inet', table: 'bench', name: 'c' } }, ...rules(n).map((rule) => ({ rule }))],
  }
  const rt = await Rtnl.open()
  const add = { ours: [] as number[], oursCpu: [] as number[], theirs: [] as number[], theirsCpu: [] as number[] }
  const list = { ours: [] as number[], oursCpu: [] as number[], theirs: [] as number[], theirsCpu: [] as number[] }
  let transactions = 0
  try {
    nft(['flush', 'ruleset'])
    for (let r = 0; r < runs; r++) {
      const a = await timed(() => rt.nft.load(ruleset))
      transactions = a.value.transactions
      add.ours.push(a.wall)
      add.oursCpu.push(a.cpu)
      const l = await timed(() => rt.nft.ruleset())
      const count = l.value.nftables.filter((x) => 'rule' in x).length
      if (count !== n) throw new Error(`rt.nft listed ${count} rules, expected ${n}`)
      list.ours.push(l.wall)
      list.oursCpu.push(l.cpu)
      nft(['flush', 'ruleset'])
      const b = nft(['-f', file])
      add.theirs.push(b.wall)
      add.theirsCpu.push(b.cpu)
      const lj = nft(['-j', 'list', 'ruleset'])
      list.theirs.push(lj.wall)
      list.theirsCpu.push(lj.cpu)
      nft(['flush', 'ruleset'])
      log(
        `  nftables run ${r + 1}: load ${a.wall.toFixed(0)} ms vs nft -f ${b.wall.toFixed(0)} ms; list ${l.wall.toFixed(0)} ms vs nft -j ${lj.wall.toFixed(0)} ms`,
      )
    }
  } finally {
    await rt.close()
    rmSync(dir, { recursive: true, force: true })
  }
  const k = n.toLocaleString('en-US')
  return [
    row(
      `add ${k} rules in one batch (wall)`,
      'nft.load',
      'nft -f',
      add.ours,
      add.theirs,
      0.5,
      `${transactions} kernel transaction(s); nft's time includes its process start`,
    ),
    row(`add ${k} rules in one batch (CPU)`, 'nft.load', 'nft -f', add.oursCpu, add.theirsCpu, undefined, 'user+system of this process vs of nft'),
    row(`list ${k} rules (wall)`, 'nft.ruleset', 'nft -j list ruleset', list.ours, list.theirs, 1.0, 'decoded into nft -j shaped objects'),
    row(`list ${k} rules (CPU)`, 'nft.ruleset', 'nft -j list ruleset', list.oursCpu, list.theirsCpu, undefined, 'user+system of this process vs of nft'),
  ]
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await benchNftables({ quick: process.argv.includes('--quick'), log: (s) => process.stderr.write(s + '\n') })
  for (const r of rows)
    process.stdout.write(`${r.name}: nsnet ${r.nsnetValue?.toFixed(1)} ms, ${r.peer} ${r.peerValue?.toFixed(1)} ms, ratio ${r.ratio?.toFixed(2)}\n`)
}
