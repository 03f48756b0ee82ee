// The nsnet side of the route benchmarks. Runs inside the namespace under test (started
// with `ip netns exec NAME node .bench-out/workers/routes-nsnet.mjs ...`), times itself so
// process start-up is excluded, and prints one JSON line.
//
//   insert FILE COUNT GATEWAY DEV   rt.routes.addMany() of the first COUNT destinations in FILE
//   dump GATEWAY                    rt.routes.list({ table: 'main' }); peak RSS over the baseline
//   insert-concurrent FILE COUNT GATEWAY DEV   Promise.all of one rt.routes.add() per route; peak RSS
//   insert-serial FILE COUNT GATEWAY DEV       one awaited rt.routes.add() after another
//   stream GATEWAY                  for await of rt.routes.stream({ table: 'main' }); peak RSS over the baseline
//   insert-engine FILE COUNT GATEWAY DEV   diagnostic: NetlinkSocket.batch() of prebuilt route bytes
//                                   (engine + kernel, no route encoding)
//   insert-raw FILE COUNT GATEWAY DEV      diagnostic: prebuilt 64 KiB datagrams on a bare socket
//                                   (the kernel's floor: what any user-space encoder must pay)
//   dump-engine                     diagnostic: NetlinkSocket.dump() keeping only a table check
//   dump-raw                        diagnostic: bare socket, headers walked in place (kernel floor)
//   dump-decode                     diagnostic: decoding a captured dump, no kernel in the clock
import fs from 'node:fs'
import { Rtnl } from '../../src/index.js'
import { parseCidr, parseErrorMessage, parseIPv4, parseMessages, Writer } from '../../src/netlink/codec.js'
import { NETLINK_ROUTE, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP } from '../../src/netlink/constants.js'
import { openRawSocket, type RawSocket } from '../../src/netlink/engine/binding.js'
import type { Request } from '../../src/netlink/engine.js'
import { linkIndex, linkNames } from '../../src/ops/context.js'
import type { RouteSpec } from '../../src/ops/routes/operations.js'
import { decodeRoute, type Route } from '../../src/ops/routes/operations.js'
import { AF_INET, RTM_GETROUTE, RTM_NEWROUTE } from '../../src/ops/rtnl.js'

const [mode, ...args] = process.argv.slice(2)

function readSet(file: string, count: number): string[] {
  return fs.readFileSync(file, 'utf8').split('\n', count).filter(Boolean)
}

function print(o: object): void {
  process.stdout.write(JSON.stringify(o) + '\n')
}

/** Runs `fn` under the clock; wall time and this process's CPU time (all threads), in ms. */
async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number; userMs: number; sysMs: number }> {
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const value = await fn()
  const ms = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  return { value, ms, userMs: cpu.user / 1000, sysMs: cpu.system / 1000 }
}

/** A bare socket of the binding nsnet uses, for the floor measurements. */
function bareSocket(): RawSocket {
  const sock = openRawSocket(NETLINK_ROUTE, { peek: false, bufferBytes: 32 << 10 })
  sock.setRecvBufferSize(4 << 20)
  return sock
}

async function insert(file: string, count: string, gateway: string, dev: string): Promise<void> {
  const dsts = readSet(file, Number(count))
  const { value, ...t } = await timed(async () => {
    const rt = await Rtnl.open()
    const specs: RouteSpec[] = dsts.map((dst) => ({ dst, gateway, dev }))
    const r = await rt.routes.addMany(specs)
    await rt.close()
    return r
  })
  print({ ...t, count: dsts.length, result: value })
}

/** Individual calls, all at once (`concurrent`) or one awaited after another: what self-batching is for. */
async function insertEach(file: string, count: string, gateway: string, dev: string, concurrent: boolean): Promise<void> {
  const dsts = readSet(file, Number(count))
  const rt = await Rtnl.open()
  const baseKb = process.resourceUsage().maxRSS
  const t = await timed(async () => {
    if (concurrent) await Promise.all(dsts.map((dst) => rt.routes.add({ dst, gateway, dev })))
    else for (const dst of dsts) await rt.routes.add({ dst, gateway, dev })
  })
  const peakKb = process.resourceUsage().maxRSS
  await rt.close()
  print({ ...t, value: undefined, count: dsts.length, baseKb, peakKb })
}

/** rtmsg + RTA_DST/RTA_GATEWAY/RTA_OIF of each route, built before the clock starts (diagnostics only). */
function prebuiltPayloads(dsts: readonly string[], gateway: string, oif: number): Buffer[] {
  const gw = parseIPv4(gateway)!
  const w = new Writer(dsts.length * 40)
  const ends: number[] = []
  for (const d of dsts) {
    const c = parseCidr(d)!
    // struct rtmsg: family, dst_len, src_len, tos, table main, proto boot, scope universe, unicast, flags
    w.u8(AF_INET).u8(c.prefixLength).u8(0).u8(0).u8(254).u8(3).u8(0).u8(1).u32(0)
    w.attrBytes(1, c.bytes).attrBytes(5, gw).attrU32(4, oif) // RTA_DST, RTA_GATEWAY, RTA_OIF
    ends.push(w.pos)
  }
  const all = w.toBuffer()
  return ends.map((e, i) => all.subarray(i ? ends[i - 1]! : 0, e))
}

const CREATE_EXCL = 0x400 | 0x200 // NLM_F_CREATE | NLM_F_EXCL

/** Diagnostic: engine batch() of requests whose bodies are prebuilt bytes (engine + kernel only). */
async function insertEngine(file: string, count: string, gateway: string, dev: string): Promise<void> {
  const dsts = readSet(file, Number(count))
  const rt = await Rtnl.open()
  const payloads = prebuiltPayloads(dsts, gateway, await linkIndex(rt.context, dev, 'bench'))
  const reqs: Request[] = payloads.map((p) => ({
    type: RTM_NEWROUTE,
    flags: CREATE_EXCL,
    body: (w) => {
      w.bytes(p)
    },
  }))
  const t = await timed(() => rt.socket.batch(reqs))
  await rt.close()
  print({ ...t, value: undefined, count: dsts.length })
}

/**
 * Diagnostic: the kernel's floor. Prebuilt 64 KiB datagrams of RTM_NEWROUTE without ACK, sent
 * back to back on a bare socket, then one acknowledged NOOP; only the sending is timed.
 */
async function insertRaw(file: string, count: string, gateway: string, dev: string): Promise<void> {
  const dsts = readSet(file, Number(count))
  const rt = await Rtnl.open()
  const payloads = prebuiltPayloads(dsts, gateway, await linkIndex(rt.context, dev, 'bench'))
  await rt.close()
  const datagrams: Buffer[] = []
  let w = new Writer(70_000)
  let seq = 1
  for (const p of payloads) {
    if (w.pos + 16 + p.length > 65536) {
      datagrams.push(w.toBuffer())
      w = new Writer(70_000)
    }
    const m = w.beginMessage(RTM_NEWROUTE, NLM_F_REQUEST | CREATE_EXCL, seq++)
    w.bytes(p)
    w.endMessage(m)
  }
  const barrier = w.beginMessage(NLMSG_NOOP, NLM_F_REQUEST | NLM_F_ACK, seq)
  w.endMessage(barrier)
  datagrams.push(w.toBuffer())
  const sock = bareSocket()
  let errors = 0
  const t = await timed(
    () =>
      new Promise<void>((resolve) => {
        sock.on('message', (buf: Buffer) => {
          for (const m of parseMessages(buf)) {
            if (m.type !== NLMSG_ERROR) continue
            if (parseErrorMessage(m).errno) errors++
            if (m.seq === seq) resolve()
          }
        })
        for (const d of datagrams)
          sock.send(d, {}, (e) => {
            if (e) throw e
          })
      }),
  )
  sock.close()
  print({ ...t, value: undefined, count: dsts.length, errors, datagrams: datagrams.length })
}

async function stream(gateway: string): Promise<void> {
  const rt = await Rtnl.open()
  const baseKb = process.resourceUsage().maxRSS
  let total = 0
  let matched = 0
  const t = await timed(async () => {
    for await (const r of rt.routes.stream({ table: 'main' })) {
      total++
      if (r.gateway === gateway) matched++
    }
  })
  const peakKb = process.resourceUsage().maxRSS
  await rt.close()
  print({ ...t, value: undefined, total, matched, baseKb, peakKb })
}

async function dump(gateway: string): Promise<void> {
  const rt = await Rtnl.open()
  const baseKb = process.resourceUsage().maxRSS
  const { value: list, ...t } = await timed(() => rt.routes.list({ table: 'main' }))
  const peakKb = process.resourceUsage().maxRSS
  let matched = 0
  for (const r of list) if (r.gateway === gateway) matched++
  await rt.close()
  print({ ...t, total: list.length, matched, baseKb, peakKb, sample: list.find((r) => r.gateway === gateway) })
}

const rtmsgInet = (w: Writer) => {
  w.u8(AF_INET).u8(0).u8(0).u8(0).u8(0).u8(0).u8(0).u8(0).u32(0)
}

/** Diagnostic: the engine's dump() with a decoder that only checks the table (engine + kernel). */
async function dumpEngine(): Promise<void> {
  const rt = await Rtnl.open()
  const { value, ...t } = await timed(() =>
    rt.socket.dump({ type: RTM_GETROUTE, body: rtmsgInet }, (m) => (m.type === RTM_NEWROUTE && m.buf[m.start + 4] === 254 ? true : undefined)),
  )
  await rt.close()
  print({ ...t, total: value.length })
}

/** Captures a whole IPv4 route dump as the datagrams the kernel sent (outside any clock). */
async function captureDump(): Promise<Buffer[]> {
  const sock = bareSocket()
  const w = new Writer(64)
  const m = w.beginMessage(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, 9)
  rtmsgInet(w)
  w.endMessage(m)
  const bufs: Buffer[] = []
  await new Promise<void>((resolve, reject) => {
    sock.on('message', (buf: Buffer) => {
      bufs.push(buf)
      for (const msg of parseMessages(buf)) if (msg.type === NLMSG_DONE) resolve()
    })
    sock.send(w.toBuffer(), {}, (e) => {
      if (e) reject(e)
    })
  })
  sock.close()
  return bufs
}

/**
 * Diagnostic: route decoding alone, no kernel: a captured dump turned into Route objects the
 * way routes.list() does (parseMessages, table check, decodeRoute with link names).
 */
async function dumpDecode(): Promise<void> {
  const rt = await Rtnl.open()
  const names = await linkNames(rt.context)
  await rt.close()
  const bufs = await captureDump()
  const { value, ...t } = await timed(async () => {
    const out: Route[] = []
    for (const b of bufs) {
      for (const msg of parseMessages(b)) {
        if (msg.type === RTM_NEWROUTE && msg.buf[msg.start + 4] === 254) out.push(decodeRoute(msg, names))
      }
    }
    return out
  })
  print({ ...t, total: value.length, datagrams: bufs.length })
}

/** Diagnostic: the kernel's floor for a dump: a bare socket, headers walked in place, nothing decoded. */
async function dumpRaw(): Promise<void> {
  const sock = bareSocket()
  const w = new Writer(64)
  const seq = 7
  const m = w.beginMessage(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, seq)
  rtmsgInet(w)
  w.endMessage(m)
  let total = 0
  const t = await timed(
    () =>
      new Promise<void>((resolve, reject) => {
        sock.on('message', (buf: Buffer) => {
          for (let off = 0; off + 16 <= buf.length; ) {
            const len = buf.readUInt32LE(off)
            const type = buf.readUInt16LE(off + 4)
            if (type === NLMSG_DONE) return resolve()
            if (type === NLMSG_ERROR) return reject(new Error('dump failed'))
            if (type === RTM_NEWROUTE && buf[off + 20] === 254) total++
            off += (len + 3) & ~3
          }
        })
        sock.send(w.toBuffer(), {}, (e) => {
          if (e) reject(e)
        })
      }),
  )
  sock.close()
  print({ ...t, value: undefined, total })
}

if (mode === 'insert') await insert(args[0]!, args[1]!, args[2]!, args[3]!)
else if (mode === 'insert-concurrent') await insertEach(args[0]!, args[1]!, args[2]!, args[3]!, true)
else if (mode === 'insert-serial') await insertEach(args[0]!, args[1]!, args[2]!, args[3]!, false)
else if (mode === 'stream') await stream(args[0]!)
else if (mode === 'insert-raw') await insertRaw(args[0]!, args[1]!, args[2]!, args[3]!)
else if (mode === 'insert-engine') await insertEngine(args[0]!, args[1]!, args[2]!, args[3]!)
else if (mode === 'dump') await dump(args[0]!)
else if (mode === 'dump-engine') await dumpEngine()
else if (mode === 'dump-raw') await dumpRaw()
else if (mode === 'dump-decode') await dumpDecode()
else {
  process.stderr.write(`routes-nsnet: unknown mode ${mode}\n`)
  process.exit(2)
}
