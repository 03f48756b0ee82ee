// Shaped-lab benchmark: the 100-host lab of bench/topology.ts with every link shaped
// (`rate: '100mbit'`, a tbf on both ends) against the same lab unshaped, interleaved in the
// same run; issue 11's target: shaping adds at most 20%. The shaped worker checks with `tc -j`
// that one link really carries its tbfs before the run counts.
//
//   called by bench/run.ts as benchShapedLab({ runs, quick, log })
//   alone:  node test/run-hermetic.mjs --exec node_modules/.bin/tsx bench/shaped-lab.ts [--quick]
import { pathToFileURL } from 'node:url'
import { machineLoad, median } from './harness.js'
import type { ModuleRow } from './report.js'
import { bundleWorker, type Run, runNsnet } from './topology.js'

export interface ShapedLabOptions {
  readonly runs?: number
  readonly quick?: boolean
  readonly log?: (s: string) => void
}

const RATE = '100mbit'

export async function benchShapedLab(opts: ShapedLabOptions = {}): Promise<ModuleRow[]> {
  if (process.env.NSNET_HERMETIC !== '1') throw new Error('bench/shaped-lab.ts runs only inside the hermetic runner')
  const log = opts.log ?? (() => undefined)
  const n = opts.quick ? 20 : 100
  const runs = Math.max(1, opts.runs ?? 3)
  const worker = await bundleWorker()
  const plain: Run[] = []
  const shaped: Run[] = []
  for (let r = 0; r < runs; r++) {
    // Alternate which goes first, so neither always meets a warmer system.
    for (const side of r % 2 ? ['shaped', 'plain'] : ['plain', 'shaped']) {
      const run = await runNsnet(worker, n, side === 'shaped' ? RATE : undefined)
      ;(side === 'shaped' ? shaped : plain).push(run)
      log(
        `  ${n} hosts ${side}: ${run.wallMs.toFixed(0)} ms, cpu ${run.cpuMs.toFixed(0)} ms (up ${run.upMs.toFixed(0)}); load ${machineLoad().load1.toFixed(1)}`,
      )
    }
  }
  const row = (what: 'wallMs' | 'cpuMs', target?: number): ModuleRow => {
    const a = median(shaped.map((x) => x[what]))
    const b = median(plain.map((x) => x[what]))
    return {
      name: `shaped lab: ${n} hosts, every link ${RATE}, ${what === 'wallMs' ? 'wall' : 'CPU'}`,
      measurement: `shaped lab: ${n} hosts up + verify + down, every link ${RATE} (${what === 'wallMs' ? 'wall' : 'CPU, all processes'})`,
      nsnet: `Topology.up with rate: '${RATE}' on each link`,
      nsnetValue: a,
      peer: 'the same lab unshaped (nsnet)',
      peerValue: b,
      ratio: a / b,
      unit: 'ms',
      ...(target !== undefined ? { target } : { status: 'INFO' as const }),
      note: `median of ${runs}, interleaved; up phase ${median(shaped.map((x) => x.upMs)).toFixed(0)} vs ${median(plain.map((x) => x.upMs)).toFixed(0)} ms`,
      samples: { nsnet: shaped.map((x) => x[what]), peer: plain.map((x) => x[what]) },
    }
  }
  return [row('wallMs', 1.2), row('cpuMs')]
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  benchShapedLab({ quick: process.argv.includes('--quick'), log: (s) => process.stderr.write(s + '\n') }).then((rows) => {
    console.log(JSON.stringify(rows, null, 2))
  })
}
