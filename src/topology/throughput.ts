// Goodput between two nodes with nsnet's own programs (no iperf): a sink in the receiving
// namespace counts what arrives, a blaster in the sending one writes for a time or a byte
// count. TCP goodput is the sink's bytes over first-to-last byte; UDP adds the loss, from the
// datagrams the blaster says it sent.

import { createSocket } from 'node:dgram'
import { connect, createServer } from 'node:net'
import { NsnetError } from '../netlink/errors.js'
import { parseRate, TcSpecError } from '../ops/tc/units.js'
import { execWhere, serviceArgv, spawnWhere, type Where } from './probes.js'

export interface ThroughputOptions {
  /** How long the sender sends (default 3 s); ignored when `bytes` is given. */
  readonly seconds?: number
  /** Send exactly this many bytes instead. */
  readonly bytes?: number
  readonly protocol?: 'tcp' | 'udp'
  /** Port of the sink (default 5201). */
  readonly port?: number
  /**
   * UDP only: send at this rate (bits/s or tc text, '8mbit'), as `iperf3 -u -b` does; default as
   * fast as the socket takes them. Below a link's rate, the loss measured is the link's own
   * and not the receiver's socket overflowing.
   */
  readonly rate?: number | string
}

export interface ThroughputResult {
  readonly protocol: 'tcp' | 'udp'
  /** Goodput at the receiver. */
  readonly bitsPerSecond: number
  /** Bytes the receiver got. */
  readonly bytes: number
  /** From the first byte to the last one at the receiver. */
  readonly seconds: number
  /** UDP only: datagrams sent, received, and the fraction lost. */
  readonly sent?: number
  readonly received?: number
  readonly loss?: number
}

const DATAGRAM = 1200
const DROPPED_ON_THE_WAY = new Set(['EPERM', 'ENOBUFS'])
const END = 'nsnet-throughput-end '

/** `service.js sink tcp|udp PORT`: prints `ready sink`, then one JSON line when the transfer ends. */
export async function runSink(proto: 'tcp' | 'udp', port: number, print: (line: string) => void): Promise<void> {
  let bytes = 0,
    packets = 0,
    first = 0,
    last = 0
  const note = (n: number) => {
    const t = performance.now()
    if (!first) first = t
    last = t
    bytes += n
    packets++
  }
  const report = (extra: object = {}) => print(JSON.stringify({ bytes, seconds: first ? (last - first) / 1000 : 0, ...extra }))
  if (proto === 'tcp') {
    const server = createServer((sock) => {
      sock.on('data', (d) => note(d.length))
      sock.on('end', () => {
        report()
        server.close()
        process.exit(0)
      })
    })
    await new Promise<void>((r) => server.listen(port, () => r()))
  } else {
    const sock = createSocket('udp6')
    let idle: NodeJS.Timeout | undefined
    sock.on('message', (m) => {
      if (m.length < 64 && m.toString().startsWith(END)) {
        report({ sent: Number(m.toString().slice(END.length)), received: packets })
        process.exit(0)
      }
      note(m.length)
      clearTimeout(idle)
      idle = setTimeout(() => {
        report({ received: packets })
        process.exit(0)
      }, 5000)
    })
    await new Promise<void>((r) => sock.bind(port, () => r()))
  }
  print(`ready sink ${proto}:${port}`)
}

/** `service.js blast tcp|udp HOST PORT --seconds S | --bytes N [--rate BITS]`: sends, then prints what it sent. */
export async function runBlast(
  proto: 'tcp' | 'udp',
  host: string,
  port: number,
  limit: { seconds?: number; bytes?: number; rate?: number },
  print: (line: string) => void,
): Promise<void> {
  const deadline = performance.now() + (limit.seconds ?? 3) * 1000
  const more = (sent: number) => (limit.bytes !== undefined ? sent < limit.bytes : performance.now() < deadline)
  let sent = 0
  if (proto === 'tcp') {
    const chunk = Buffer.alloc(64 * 1024, 0x6e)
    await new Promise<void>((resolve, reject) => {
      const s = connect({ host, port }, () => {
        const pump = () => {
          while (more(sent)) {
            const n = limit.bytes !== undefined ? Math.min(chunk.length, limit.bytes - sent) : chunk.length
            sent += n
            if (!s.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
              s.once('drain', pump)
              return
            }
          }
          s.end()
        }
        pump()
      })
      s.on('close', () => resolve())
      s.on('error', reject)
    })
    print(JSON.stringify({ bytes: sent }))
    return
  }
  const s = createSocket(host.includes(':') ? 'udp6' : 'udp4')
  const payload = Buffer.alloc(DATAGRAM, 0x6e)
  let packets = 0
  // Paced: one datagram every `gap` ms. Time lost to a late timer is made up by at most 16
  // datagrams at once (19 KB: within a shaper's queue); more would be the sender's loss, not the link's.
  const gap = limit.rate ? (8 * DATAGRAM * 1000) / limit.rate : 0
  let next = performance.now()
  while (more(sent)) {
    if (gap) {
      const now = performance.now()
      if (now < next) {
        await new Promise((r) => setTimeout(r, Math.max(1, Math.floor(next - now))))
        continue
      }
      next = Math.max(next, now - 16 * gap) + gap
    }
    // A datagram a firewall rule of this host drops (loss emulated with nf_tables) fails its
    // send with EPERM, one a full queue drops with ENOBUFS: both were sent and lost on the way.
    await new Promise<void>((r, j) => s.send(payload, port, host, (e) => (e && !DROPPED_ON_THE_WAY.has((e as NodeJS.ErrnoException).code ?? '') ? j(e) : r())))
    sent += DATAGRAM
    packets++
    if (packets % 32 === 0) await new Promise((r) => setImmediate(r))
  }
  await new Promise((r) => setTimeout(r, 300)) // let the last datagrams drain through a shaper
  for (let i = 0; i < 5; i++) {
    await new Promise<void>((r) => s.send(`${END}${packets}`, port, host, () => r()))
    await new Promise((r) => setTimeout(r, 50))
  }
  s.close()
  print(JSON.stringify({ bytes: sent, sent: packets }))
}

/** Runs a sink in `to` and a blaster in `from` aimed at `address`, and returns the receiver's measure. */
export async function measureThroughput(from: Where, to: Where, address: string, opts: ThroughputOptions = {}): Promise<ThroughputResult> {
  const protocol = opts.protocol ?? 'tcp'
  const port = opts.port ?? 5201
  const fail = (why: string) =>
    new NsnetError(`throughput ${protocol} to ${address}: ${why}`, { code: 'ESERVICE', operation: 'topology.throughput', namespace: to ?? undefined })
  if (protocol !== 'tcp' && protocol !== 'udp')
    throw new NsnetError(`protocol must be 'tcp' or 'udp', got ${JSON.stringify(protocol)}`, { code: 'EINVAL_ARGUMENT', operation: 'topology.throughput' })
  const rate = sendRate(protocol, opts.rate)
  const sink = spawnWhere(to, serviceArgv(['sink', protocol, String(port)]))
  let out = ''
  const lines: string[] = []
  const ready = new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(fail('the sink did not start')), 15_000)
    sink.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      let i: number
      while ((i = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, i)
        out = out.slice(i + 1)
        if (line.startsWith('ready')) {
          clearTimeout(t)
          resolve()
        } else lines.push(line)
      }
    })
    sink.once('exit', () => {
      clearTimeout(t)
      reject(fail('the sink exited early'))
    })
  })
  const done = new Promise<void>((r) => sink.once('exit', () => r()))
  try {
    await ready
    const limit = opts.bytes !== undefined ? ['--bytes', String(opts.bytes)] : ['--seconds', String(opts.seconds ?? 3)]
    if (rate !== undefined) limit.push('--rate', String(rate))
    const r = await execWhere(from, serviceArgv(['blast', protocol, address, String(port), ...limit]), { timeoutMs: 120_000 })
    if (r.code !== 0) throw fail(`the sender failed: ${r.stderr.trim() || r.stdout.trim()}`)
    const sent = JSON.parse(r.stdout.trim().split('\n').pop()!) as { bytes: number; sent?: number }
    await Promise.race([done, new Promise((r2) => setTimeout(r2, 10_000))])
    const got = lines.length ? (JSON.parse(lines.at(-1)!) as { bytes: number; seconds: number; sent?: number; received?: number }) : undefined
    if (!got) throw fail('the sink reported nothing')
    const seconds = got.seconds
    const result: ThroughputResult = {
      protocol,
      bytes: got.bytes,
      seconds,
      bitsPerSecond: seconds > 0 ? (got.bytes * 8) / seconds : 0,
      ...(protocol === 'udp' ? { sent: sent.sent ?? got.sent, received: got.received, loss: sent.sent ? 1 - (got.received ?? 0) / sent.sent : undefined } : {}),
    }
    return Object.freeze(result)
  } finally {
    if (sink.exitCode === null && sink.signalCode === null) {
      try {
        sink.kill('SIGKILL')
      } catch {
        /* gone */
      }
    }
  }
}

/** The UDP send rate in bits/s, or undefined for as fast as possible; refused for TCP (its rate is the link's). */
function sendRate(protocol: 'tcp' | 'udp', rate: number | string | undefined): number | undefined {
  if (rate === undefined) return undefined
  const bad = (why: string) => new NsnetError(why, { code: 'EINVAL_ARGUMENT', operation: 'topology.throughput', object: 'rate' })
  if (protocol !== 'udp') throw bad('rate paces the UDP sender; TCP sends as fast as the link takes it')
  try {
    return parseRate(rate) * 8 // parseRate answers bytes/s, as tc's rate fields are
  } catch (e) {
    if (e instanceof TcSpecError) throw bad(`rate: ${e.message}`)
    throw e
  }
}
