// Bench worker: builds N hosts on one bridge with Topology.up(), checks every host reaches
// the gateway (ping), takes it down, and prints one JSON line with the phase times, the peak
// RSS of this process and its helpers together (sampled every 50 ms), and the most helpers
// alive at once.
//   node topology-nsnet.mjs N [RATE]   (RATE, e.g. 100mbit: every link shaped)
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { helperCounts } from '../../src/netns/helper/client.js'
import { Rtnl } from '../../src/rtnl.js'
import { Topology } from '../../src/topology/topology.js'
import { benchSpec, VERIFY_WAVE } from '../topology-spec.js'

const n = Number(process.argv[2] ?? 100)
const rate = process.argv[3]
const spec = benchSpec(n, rate)

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
if (rate !== undefined) {
  // A shaped run counts only if the shaping is there: tc's own view of both ends of one link.
  const kinds = (argv: string[]) => (JSON.parse(execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8' })) as Array<{ kind: string }>).map((q) => q.kind)
  const host = kinds(['ip', 'netns', 'exec', lab.netns(`h${n}`)!, 'tc', '-j', 'qdisc', 'show', 'dev', `veth-h${n}`])
  const bridge = kinds(['tc', '-j', 'qdisc', 'show', 'dev', `veth-h${n}-br`])
  if (!host.includes('tbf') || !bridge.includes('tbf')) throw new Error(`h${n}'s link is not shaped: qdiscs ${host.join(',')} / ${bridge.join(',')}`)
}
let failures = 0
let retried = 0
const failed: string[] = []
// Pinged in waves; after each, its ARP entries are released from here (see VERIFY_WAVE):
// the wave's bridge ports go down (their peers lose carrier, which evicts the hosts'
// entries) and br0's entries are deleted.
const local = await Rtnl.open()
for (let first = 1; first <= n; first += VERIFY_WAVE) {
  const last = Math.min(n, first + VERIFY_WAVE - 1)
  let next = first
  // Pings run as processes (ip netns exec hN ping); a few at a time keeps both cores busy.
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next <= last) {
        const i = next++
        // One ping with a 1 s deadline may go unanswered on a machine at load 15+: try three times.
        let ok = false
        for (let attempt = 0; attempt < 3 && !ok; attempt++) {
          const r = await lab.ping(`h${i}`, '10.0.0.1', { method: 'ping' })
          ok = r.ok
          if (!ok) process.stderr.write(`ping h${i} attempt ${attempt + 1}: ${r.detail}\n`)
          if (!ok && attempt === 0) retried++
        }
        if (!ok) {
          failures++
          failed.push(`h${i}`)
        }
      }
    }),
  )
  if (last < n) {
    await Promise.all(Array.from({ length: last - first + 1 }, (_, k) => local.links.set(`veth-h${first + k}-br`, { up: false })))
    await Promise.all((await local.neighbors.list({ link: 'br0', family: 'inet' })).map((e) => local.neighbors.delete(e).catch(() => undefined)))
  }
}
await local.close()
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
    retried,
    failed: failed.slice(0, 20),
    peakRssMiB: peakKb / 1024,
    helpersPeak: peak,
    helpersStarted: started,
  }) + '\n',
)
process.exit(failures ? 1 : 0)
