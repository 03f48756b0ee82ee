// Peer: the npm `netlink` package's own rtnetlink module (createRtNetlink), used here as a
// benchmark peer only. Runs inside the namespace under test, times itself, prints one JSON line.
//
//   insert FILE COUNT GATEWAY DEV   newRoute() per route (request + ACK each), WINDOW in flight
//   insert-serial FILE COUNT GATEWAY DEV   newRoute() per route, one awaited after another
//   dump GATEWAY                    getRoutes({ family: AF_INET }), kept to table main
import fs from 'node:fs'
import { createRtNetlink } from 'netlink'

// Requests in flight at once. Each ACK occupies ~1 KiB of receive buffer (skb truesize),
// so 64 stays far below the default SO_RCVBUF; more does not go faster (the kernel is serial).
const WINDOW = 64
const AF_INET = 2
const NLM_F_CREATE_EXCL = 0x400 | 0x200
const TABLE_MAIN = 254

const [mode, ...args] = process.argv.slice(2)

function print(o: object): void {
  process.stdout.write(JSON.stringify(o) + '\n')
}

function v4(text: string): Buffer {
  return Buffer.from(text.split('.').map(Number))
}

async function insert(file: string, count: number, gateway: string, dev: string, lanes = WINDOW): Promise<void> {
  const dsts = fs.readFileSync(file, 'utf8').split('\n', count).filter(Boolean)
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const sock = createRtNetlink()
  const links = await sock.getLinks()
  const oif = links.find((l) => l.attrs.ifname === dev)?.data.index
  if (oif === undefined) throw new Error(`no link ${dev}`)
  const gw = v4(gateway)
  let next = 0
  const lane = async () => {
    while (next < dsts.length) {
      const d = dsts[next++]!
      const slash = d.indexOf('/')
      await sock.newRoute(
        { family: AF_INET, dstLen: Number(d.slice(slash + 1)), table: TABLE_MAIN, protocol: 'BOOT', scope: 'UNIVERSE', type: 'UNICAST' },
        { dst: v4(d.slice(0, slash)), gateway: gw, oif },
        { flags: NLM_F_CREATE_EXCL },
      )
    }
  }
  await Promise.all(Array.from({ length: lanes }, lane))
  const ms = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  sock.socket.close()
  print({ ms, userMs: cpu.user / 1000, sysMs: cpu.system / 1000, count: dsts.length })
}

async function dump(gateway: string): Promise<void> {
  const sock = createRtNetlink()
  const baseKb = process.resourceUsage().maxRSS
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const all = await sock.getRoutes({ family: AF_INET })
  const main = all.filter((m) => (m.attrs.table ?? m.data.table) === TABLE_MAIN)
  const ms = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  const peakKb = process.resourceUsage().maxRSS
  const gw = v4(gateway)
  let matched = 0
  for (const m of main) if (m.attrs.gateway?.equals(gw)) matched++
  sock.socket.close()
  print({ ms, userMs: cpu.user / 1000, sysMs: cpu.system / 1000, total: main.length, matched, baseKb, peakKb })
}

if (mode === 'insert') await insert(args[0]!, Number(args[1]), args[2]!, args[3]!)
else if (mode === 'insert-serial') await insert(args[0]!, Number(args[1]), args[2]!, args[3]!, 1)
else if (mode === 'dump') await dump(args[0]!)
else {
  process.stderr.write(`netlink-worker: unknown mode ${mode}\n`)
  process.exit(2)
}
