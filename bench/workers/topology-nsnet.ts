// Bench worker: builds N hosts on one bridge with Topology.up(), checks every host reaches
// the gateway (ping), takes it down, and prints one JSON line with the phase times, the peak
// RSS of this process and its helpers together (sampled every 50 ms), and the most helpers
// alive at once.
//   node topology-nsnet.mjs N
import { readFileSync } from 'node:fs'
import { helperCounts } from '../../src/netns/helper/client.js'
import { Topology } from '../../src/topology/topology.js'
import { benchSpec } from '../topology-spec.js'

const n = Number(process.argv[2] ?? 100)
const spec = benchSpec(n)

function rssKb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)
  } catch {
    return 0 // exited between the listing and the read
  }
}
let peakKb = 0
const sample = () => {
  peakKb = Math.max(
    peakKb,
    [process.pid, ...helperCounts().pids].reduce((a, p) => a + rssKb(p), 0),
  )
}
const sampler = setInterval(sample, 50)

const t0 = performance.now()
const lab = await Topology.up(spec)
const t1 = performance.now()
let failures = 0
let next = 1
// Pings run as processes (ip netns exec hN ping); a few at a time keeps both cores busy.
await Promise.all(
  Array.from({ length: 8 }, async () => {
    while (next <= n) {
      const i = next++
      // One ping with a 1 s deadline may go unanswered on a machine at load 15+: try three times.
      let ok = false
      for (let attempt = 0; attempt < 3 && !ok; attempt++) ok = (await lab.ping(`h${i}`, '10.0.0.1', { method: 'ping' })).ok
      if (!ok) failures++
    }
  }),
)
const t2 = performance.now()
await lab.down()
const t3 = performance.now()
sample()
clearInterval(sampler)
const { peak, started } = helperCounts()
process.stdout.write(
  JSON.stringify({
    upMs: t1 - t0,
    verifyMs: t2 - t1,
    downMs: t3 - t2,
    totalMs: t3 - t0,
    failures,
    peakRssMiB: peakKb / 1024,
    helpersPeak: peak,
    helpersStarted: started,
  }) + '\n',
)
process.exit(failures ? 1 : 0)
