// tc benchmarks: 1,000 tbf qdisc replaces through nsnet (pipelined on one socket) against
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
    const theirs = { wall: [] as number[], cpu: [] as number[] }
    for (let r = 0; r < runs; r++) {
      const c0 = process.cpuUsage()
      const t0 = performance.now()
      await Promise.all(
        Array.from({ length: N }, (_, i) =>
          rt.tc.qdiscs.replace({
            dev: ifindex,
            kind: 'tbf',
            handle: '5:',
            options: { rate: rateOf(i), burst: '32kbit', latency: '400ms' },
          }),
        ),
      )
      ours.wall.push(performance.now() - t0)
      const c = process.cpuUsage(c0)
      ours.cpu.push((c.user + c.system) / 1000)
      const last = (await rt.tc.qdiscs.list(DEV))[0]!
      if (last.options.rate !== (1000 + N - 1) * 1000) throw new Error(`nsnet left rate ${String(last.options.rate)}, not the last one`)
      const t = await timeProcess(['tc', '-batch', batch], { cpu: true })
      theirs.wall.push(t.wallMs)
      if (t.userMs !== undefined) theirs.cpu.push(t.userMs + (t.sysMs ?? 0))
      log(`  tc replace x${N}: nsnet ${ours.wall.at(-1)!.toFixed(0)} ms, tc -batch ${t.wallMs.toFixed(0)} ms`)
    }
    const row = (name: string, a: number[], b: number[], target?: number, note?: string): ModuleRow => {
      const nsnetValue = a.length ? median(a) : null
      const peerValue = b.length ? median(b) : null
      return {
        name,
        measurement: name,
        nsnet: 'tc.qdiscs.replace x1000 (pipelined, one socket)',
        nsnetValue,
        peer: 'tc -batch (same 1,000 lines)',
        peerValue,
        ratio: nsnetValue != null && peerValue ? nsnetValue / peerValue : null,
        ...(target ? { target } : {}),
        note,
        samples: { nsnet: a, peer: b },
      }
    }
    return [
      row(
        `${N.toLocaleString('en-US')} tbf qdisc replaces, wall`,
        ours.wall,
        theirs.wall,
        0.5,
        "each message carries tc's 1 KiB rate table, byte-identical to tc's",
      ),
      row(
        `${N.toLocaleString('en-US')} tbf qdisc replaces, CPU`,
        ours.cpu,
        theirs.cpu,
        undefined,
        'nsnet: this process (warm); tc: user+sys of the whole process (GNU time)',
      ),
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
