// A tiny authoritative DNS server for labs: answers A and AAAA queries from a table
// (RFC 1035 wire format over UDP), NXDOMAIN for unknown names, an empty answer for
// other types. Enough for `getent hosts www.example.test` inside a namespace whose
// resolv.conf points here. Run it inside a namespace with `service.js dns` (see service.ts).
import { createSocket, type Socket } from 'node:dgram'
import { parseIP } from '../netlink/codec.js'
import { invalidArgument } from '../netlink/errors.js'

/** name → address(es). Names are matched case-insensitively, without the trailing dot. */
export type DnsRecords = Readonly<Record<string, string | readonly string[]>>

export interface DnsServerOptions {
  /** Address to listen on (default 0.0.0.0). */
  readonly address?: string
  readonly port?: number
  readonly records: DnsRecords
  /** TTL of answers in seconds (default 60). */
  readonly ttl?: number
}

export interface DnsServer {
  readonly address: string
  readonly port: number
  /** Queries answered so far. */
  readonly queries: number
  close(): Promise<void>
}

const TYPE_A = 1
const TYPE_AAAA = 28
const CLASS_IN = 1
const RCODE_FORMERR = 1
const RCODE_NXDOMAIN = 3
const RCODE_NOTIMP = 4

interface Question {
  readonly name: string
  readonly type: number
  readonly klass: number
  /** Offset just after the question. */
  readonly end: number
}

/** Reads the first question of a query; undefined when the packet is malformed. */
export function parseQuestion(msg: Buffer): Question | undefined {
  if (msg.length < 12 || msg.readUInt16BE(4) < 1) return undefined
  const labels: string[] = []
  let o = 12
  for (;;) {
    if (o >= msg.length) return undefined
    const len = msg[o]!
    o++
    if (len === 0) break
    if (len > 63 || o + len > msg.length) return undefined // no compression in questions we accept
    labels.push(msg.toString('latin1', o, o + len))
    o += len
  }
  if (o + 4 > msg.length) return undefined
  return { name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(o), klass: msg.readUInt16BE(o + 2), end: o + 4 }
}

/** Builds the answer to `query` from `records`. */
export function answer(query: Buffer, records: ReadonlyMap<string, readonly string[]>, ttl: number): Buffer | undefined {
  if (query.length < 12) return undefined
  const flags = query.readUInt16BE(2)
  if (flags & 0x8000) return undefined // a response, not a query
  const q = parseQuestion(query)
  const header = Buffer.alloc(12)
  header.writeUInt16BE(query.readUInt16BE(0), 0)
  const opcode = (flags >> 11) & 0xf
  // QR, the same opcode, AA, RD copied; RA clear (we do not recurse).
  const base = 0x8000 | (opcode << 11) | 0x0400 | (flags & 0x0100)
  if (!q || opcode !== 0) {
    header.writeUInt16BE(base | (q ? RCODE_NOTIMP : RCODE_FORMERR), 2)
    return header
  }
  const question = query.subarray(12, q.end)
  const known = records.get(q.name.replace(/\.$/, ''))
  const answers: Buffer[] = []
  if (known && q.klass === CLASS_IN) {
    for (const ip of known) {
      const p = parseIP(ip)!
      if ((q.type === TYPE_A && p.family === 4) || (q.type === TYPE_AAAA && p.family === 6)) {
        const rr = Buffer.alloc(12 + p.bytes.length)
        rr.writeUInt16BE(0xc00c, 0) // name: pointer to the question's
        rr.writeUInt16BE(q.type, 2)
        rr.writeUInt16BE(CLASS_IN, 4)
        rr.writeUInt32BE(ttl, 6)
        rr.writeUInt16BE(p.bytes.length, 10)
        rr.set(p.bytes, 12)
        answers.push(rr)
      }
    }
  }
  header.writeUInt16BE(base | (known ? 0 : RCODE_NXDOMAIN), 2)
  header.writeUInt16BE(1, 4)
  header.writeUInt16BE(answers.length, 6)
  return Buffer.concat([header, question, ...answers])
}

/** Checks and normalises a record table (lower-case names, arrays of valid addresses). */
export function normaliseRecords(records: DnsRecords): Map<string, readonly string[]> {
  const where = { operation: 'startDnsServer' }
  if (!records || typeof records !== 'object') throw invalidArgument(`records must be an object of name → address(es), got ${JSON.stringify(records)}`, where)
  const out = new Map<string, readonly string[]>()
  for (const [name, v] of Object.entries(records)) {
    const list: unknown[] = typeof v === 'string' ? [v] : Array.isArray(v) ? v : [v]
    for (const ip of list) {
      if (typeof ip !== 'string' || !parseIP(ip)) throw invalidArgument(`${JSON.stringify(ip)} is not an IP address`, { ...where, object: `record ${name}` })
    }
    out.set(name.toLowerCase().replace(/\.$/, ''), list as string[])
  }
  return out
}

/** Starts the server in this process (its namespace); resolves once it is listening. */
export function startDnsServer(opts: DnsServerOptions): Promise<DnsServer> {
  const records = normaliseRecords(opts.records)
  const ttl = opts.ttl ?? 60
  const address = opts.address ?? '0.0.0.0'
  const sock: Socket = createSocket({ type: parseIP(address)?.family === 6 ? 'udp6' : 'udp4' })
  let queries = 0
  sock.on('message', (msg, rinfo) => {
    const reply = answer(msg, records, ttl)
    if (!reply) return
    queries++
    sock.send(reply, rinfo.port, rinfo.address)
  })
  return new Promise((resolve, reject) => {
    sock.once('error', reject)
    sock.bind(opts.port ?? 53, address, () => {
      sock.off('error', reject)
      sock.on('error', () => undefined)
      const a = sock.address()
      resolve({
        address: a.address,
        port: a.port,
        get queries() {
          return queries
        },
        close: () => new Promise<void>((r) => sock.close(() => r())),
      })
    })
  })
}
