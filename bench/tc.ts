// tc benchmarks: 1,000 tbf qdisc replaces through nsnet (replaceMany, and concurrent replace calls) against
// `tc -batch` with the same 1,000 commands, wall and CPU, medians of `runs`.
//
//   called by bench/run.ts as benchTc({ runs, quick, log })
//   alone:  node test/run-hermetic.mjs --exec node_modules/.bin/tsx bench/tc.ts
import fs from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { Rtnl } from '../src/rtnl.js'
import { median, OUT, sh, timeProcess } from './harness.js'
import type { ModuleRow } from './report.js'

export interface TcBenchOptions {
  readonly runs?: number
  readonly quick?: boolean
  readonly log?: (s: string) => void
}

const DEV = 'btc0'
const N = 1000
const rateOf = (i: number) => `${1000 + i}kbit`

export async function benchTc(opts: TcBenchOptions = {}): Promise<ModuleRow[]> {
  const runs = opts.runs ?? 3
  const log = opts.log ?? (() => undefined)
  sh('ip', ['link', 'add', DEV, 'type', 'veth', 'peer', 'name', 'btc1'])
  const rt = await Rtnl.open()
  try {
    const ifindex = (await rt.links.get(DEV)).ifindex
    fs.mkdirSync(OUT, { recursive: true })
    const batch = path.join(OUT, 'tc-batch.txt')
    fs.writeFileSync(
      batch,
      Array.from({ length: N }, (_, i) => `qdisc replace dev ${DEV} root handle 5: tbf rate ${rateOf(i)} burst 32kbit latency 400ms\n`).join(''),
    )
    const ours = { wall: [] as number[], cpu: [] as number[] }
    const many = { wall: [] as number[], cpu: [] as number[] }
    const theirs = { wall: [] as number[], cpu: [] as number[] }
    const spec = (i: number) => ({ dev: ifindex, kind: 'tbf', handle: '5:', options: { rate: rateOf(i), burst: '32kbit', latency: '400ms' } })
    const measure = async (into: { wall: number[]; cpu: number[] } | undefined, work: () => Promise<unknown>) => {
      const c0 = process.cpuUsage()
      const t0 = performance.now()
      await work()
      const wall = performance.now() - t0
      const c = process.cpuUsage(c0)
      into?.wall.push(wall)
      into?.cpu.push((c.user + c.system) / 1000)
      const last = (await rt.tc.qdiscs.list(DEV))[0]!
      if (last.options.rate !== (1000 + N - 1) * 1000) throw new Error(`nsnet left rate ${String(last.options.rate)}, not the last one`)
      return wall
    }
    const concurrent = () => Promise.all(Array.from({ length: N }, (_, i) => rt.tc.qdiscs.replace(spec(i))))
    const batched = () => rt.tc.qdiscs.replaceMany(Array.from({ length: N }, (_, i) => spec(i)))
    // One uncounted run of each: the first pays for JIT compilation, which tc (C) does not.
    await measure(undefined, concurrent)
    await measure(undefined, batched)
    for (let r = 0; r < runs; r++) {
      const a = await measure(ours, concurrent)
      const b = await measure(many, batched)
      const t = await timeProcess(['tc', '-batch', batch], { cpu: true })
      theirs.wall.push(t.wallMs)
      if (t.userMs !== undefined) theirs.cpu.push(t.userMs + (t.sysMs ?? 0))
      log(`  tc replace x${N}: nsnet concurrent ${a.toFixed(0)} ms, replaceMany ${b.toFixed(0)} ms, tc -batch ${t.wallMs.toFixed(0)} ms`)
    }
    const row = (
      name: string,
      a: number[],
      b: number[],
      target?: number,
      note?: string,
      how = 'tc.qdiscs.replace x1000 (concurrent calls, one socket)',
    ): ModuleRow => {
      const nsnetValue = a.length ? median(a) : null
      const peerValue = b.length ? median(b) : null
      return {
        name,
        measurement: name,
        nsnet: how,
        nsnetValue,
        peer: 'tc -batch (same 1,000 lines)',
        peerValue,
        ratio: nsnetValue != null && peerValue ? nsnetValue / peerValue : null,
        ...(target ? { target } : {}),
        note,
        samples: { nsnet: a, peer: b },
      }
    }
    const tableNote = "each message carries tc's 1 KiB rate table, byte-identical to tc's; medians after one warm-up run"
    return [
      row(`${N.toLocaleString('en-US')} tbf qdisc replaces (replaceMany), wall`, many.wall, theirs.wall, 0.5, tableNote, 'tc.qdiscs.replaceMany (1,000 specs)'),
      row(
        `${N.toLocaleString('en-US')} tbf qdisc replaces (replaceMany), CPU`,
        many.cpu,
        theirs.cpu,
        undefined,
        'nsnet: this process; tc: user+sys of the whole process (GNU time, 10 ms resolution)',
        'tc.qdiscs.replaceMany (1,000 specs)',
      ),
      row(`${N.toLocaleString('en-US')} tbf qdisc replaces (concurrent calls), wall`, ours.wall, theirs.wall, 0.5, tableNote),
      row(`${N.toLocaleString('en-US')} tbf qdisc replaces (concurrent calls), CPU`, ours.cpu, theirs.cpu, undefined, 'as above'),
    ]
  } finally {
    await rt.close()
    try {
      sh('ip', ['link', 'del', DEV])
    } catch {
      /* gone */
    }
  }
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  benchTc({ log: (s) => process.stderr.write(s + '\n') }).then((rows) => {
    console.log(JSON.stringify(rows, null, 2))
  })
}
