// The nsnet side of the route benchmarks. Runs inside the namespace under test (started
// with `ip netns exec NAME node .bench-out/workers/routes-nsnet.mjs ...`), times itself so
// process start-up is excluded, and prints one JSON line.
//
//   insert FILE COUNT GATEWAY DEV   rt.routes.addMany() of the first COUNT destinations in FILE
//   dump GATEWAY                    rt.routes.list({ table: 'main' }); peak RSS over the baseline
//   insert-engine FILE COUNT GATEWAY DEV
//                                   diagnostic: NetlinkSocket.batch() of hand-built RTM_NEWROUTEs,
//                                   i.e. the engine alone, to tell engine cost from route encoding
import fs from 'node:fs'
import { Rtnl } from '../../src/index.js'
import { parseIPv4, parseCidr } from '../../src/netlink/codec.js'
import { linkIndex } from '../../src/ops/context.js'
import { AF_INET, RTM_NEWROUTE } from '../../src/ops/rtnl.js'
import type { Request } from '../../src/netlink/engine.js'
import type { RouteSpec } from '../../src/ops/routes.js'

const [mode, ...args] = process.argv.slice(2)

function readSet(file: string, count: number): string[] {
  return fs.readFileSync(file, 'utf8').split('\n', count).filter(Boolean)
}

function print(o: object): void {
  process.stdout.write(JSON.stringify(o) + '\n')
}

async function insert(file: string, count: string, gateway: string, dev: string): Promise<void> {
  const dsts = readSet(file, Number(count))
  const t0 = performance.now()
  const rt = await Rtnl.open()
  const specs: RouteSpec[] = dsts.map((dst) => ({ dst, gateway, dev }))
  const r = await rt.routes.addMany(specs)
  const ms = performance.now() - t0
  await rt.close()
  print({ ms, count: dsts.length, result: r })
}

async function insertEngine(file: string, count: string, gateway: string, dev: string): Promise<void> {
  const dsts = readSet(file, Number(count))
  const t0 = performance.now()
  const rt = await Rtnl.open()
  const oif = await linkIndex(rt.context, dev, 'bench')
  const gw = parseIPv4(gateway)!
  const reqs = function* (): Generator<Request> {
    for (const d of dsts) {
      const c = parseCidr(d)!
      yield {
        type: RTM_NEWROUTE,
        flags: 0x400 | 0x200, // NLM_F_CREATE | NLM_F_EXCL
        body: (w) => {
          // struct rtmsg: family, dst_len, src_len, tos, table main, proto boot, scope universe, unicast, flags
          w.u8(AF_INET).u8(c.prefixLength).u8(0).u8(0).u8(254).u8(3).u8(0).u8(1).u32(0)
          w.attrBytes(1, c.bytes).attrBytes(5, gw).attrU32(4, oif) // RTA_DST, RTA_GATEWAY, RTA_OIF
        },
      }
    }
  }
  await rt.socket.batch(reqs())
  const ms = performance.now() - t0
  await rt.close()
  print({ ms, count: dsts.length })
}

async function dump(gateway: string): Promise<void> {
  const rt = await Rtnl.open()
  const baseKb = process.resourceUsage().maxRSS
  const t0 = performance.now()
  const list = await rt.routes.list({ table: 'main' })
  const ms = performance.now() - t0
  const peakKb = process.resourceUsage().maxRSS
  let matched = 0
  for (const r of list) if (r.gateway === gateway) matched++
  await rt.close()
  print({ ms, total: list.length, matched, baseKb, peakKb, sample: list.find((r) => r.gateway === gateway) })
}

if (mode === 'insert') await insert(args[0]!, args[1]!, args[2]!, args[3]!)
else if (mode === 'insert-engine') await insertEngine(args[0]!, args[1]!, args[2]!, args[3]!)
else if (mode === 'dump') await dump(args[0]!)
else {
  process.stderr.write(`routes-nsnet: unknown mode ${mode}\n`)
  process.exit(2)
}
